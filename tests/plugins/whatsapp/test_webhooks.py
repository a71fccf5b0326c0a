"""WhatsApp webhooks through /hooks/whatsapp/{account}: handshake, signatures, replays, every
message kind, and customers identified by their verified number."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.errors import SignatureInvalid
from core.tables import Customer, Identity, Message, Ticket
from core.webhooks import verify_hmac_sha256
from plugins.whatsapp.parse import parse_payload as _parse_body
from tests.helpers import post_messages
from tests.plugins.whatsapp.wa_helpers import (
    PHONE_ID, VERIFY_TOKEN, envelope, hooks_client, post, sign, text_message, whatsapp,
)

CORPUS = Path("/work/shared/corpora")


def parse_payload(payload: dict, phone_id: str):
    """The parser on a payload as Meta would send it (bytes), with the envelope's object set."""
    return _parse_body(json.dumps({"object": "whatsapp_business_account", **payload}).encode(), phone_id)
META = CORPUS / "meta"
UPDATES = CORPUS / "whatsapp" / "pywa-updates"


def test_it_loads_and_registers(tmp_path):
    from core.config import settings_from_dict
    from core.plugins import load_registry
    from tests.conftest import base_config
    from tests.plugins.whatsapp.graph_loopback import GraphLoopback

    config = base_config("sqlite:///x.db", tmp_path)
    whatsapp(GraphLoopback(token="t"))(config)
    registry = load_registry(settings_from_dict(config, "p.toml"))
    assert registry.channels["whatsapp"].plugin == "whatsapp"
    assert registry.channels["whatsapp"].limits.reply_window_seconds == 24 * 3600
    assert registry.account("whatsapp", "main").settings.phone_number_id == PHONE_ID
    assert {"whatsapp_fetch_media", "whatsapp_media_sweep"} <= set(registry.jobs)


def test_signature_vector_from_the_corpus_verifies_and_a_changed_byte_does_not():
    vector = json.loads((META / "x-hub-signature-256-vector.json").read_text())
    body = (META / vector["body_file"]).read_bytes()
    verify_hmac_sha256(vector["app_secret"], body, vector["x_hub_signature_256"])
    for i in (0, len(body) // 2, len(body) - 1):
        forged = body[:i] + bytes([body[i] ^ 1]) + body[i + 1:]
        with pytest.raises(SignatureInvalid):
            verify_hmac_sha256(vector["app_secret"], forged, vector["x_hub_signature_256"])
    with pytest.raises(SignatureInvalid):
        verify_hmac_sha256(vector["app_secret"], body, None)


async def test_corpus_vector_is_stored_through_the_route_and_forgeries_are_refused(make_desk, graph, monkeypatch):
    vector = json.loads((META / "x-hub-signature-256-vector.json").read_text())
    body = (META / vector["body_file"]).read_bytes()
    monkeypatch.setenv("RD_TEST_WA_SECRET", vector["app_secret"])
    desk = await make_desk(whatsapp(graph, phone_number_id="277321005464405"))
    async with hooks_client(desk) as client:
        forged = await client.post("/hooks/whatsapp/main", content=body.replace(b"PyWa.", b"PyWa!"),
                                   headers={"content-type": "application/json", "x-hub-signature-256": vector["x_hub_signature_256"]})
        assert forged.status_code == 401 and forged.json()["error"]["code"] == "signature_invalid"
        unsigned = await client.post("/hooks/whatsapp/main", content=body, headers={"content-type": "application/json"})
        assert unsigned.status_code == 401
        assert await Message.count() == 0
        ok = await client.post("/hooks/whatsapp/main", content=body,
                               headers={"content-type": "application/json", "x-hub-signature-256": vector["x_hub_signature_256"]})
        assert ok.status_code == 200 and ok.json()["stored"] == 1
        replay = await client.post("/hooks/whatsapp/main", content=body,
                                   headers={"content-type": "application/json", "x-hub-signature-256": vector["x_hub_signature_256"]})
        assert replay.status_code == 200 and replay.json()["duplicates"] == 1
    rows = await Message.select(Message.text, Message.external_id, Message.direction)
    assert rows == [{"text": "Hey there! I am using PyWa.", "direction": "inbound",
                     "external_id": "wamid.HBgMOTcyNTQ0NDAxMjQzFQIAEhggM0RFQTNCMEEwRTY3QzUwODYzMDc4NjQ4QzM4ODAxM0YA"}]
    identity = await Identity.select(Identity.handle, Identity.display_name, Identity.phone, Identity.phone_verified).first()
    assert identity == {"handle": "+972544401243", "display_name": "PyWa Tests", "phone": "+972544401243", "phone_verified": True}


async def test_handshake_echoes_the_challenge_only_for_the_right_token(make_desk, graph):
    desk = await make_desk(whatsapp(graph))
    async with hooks_client(desk) as client:
        ok = await client.get("/hooks/whatsapp/main", params={
            "hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"})
        assert ok.status_code == 200 and ok.text == "1158201444"
        assert ok.headers["content-type"].startswith("text/plain")
        wrong = await client.get("/hooks/whatsapp/main", params={
            "hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"})
        assert wrong.status_code == 403 and "1158201444" not in wrong.text
        bare = await client.get("/hooks/whatsapp/main")
        assert bare.status_code == 400


async def test_malformed_and_foreign_payloads_get_a_clear_400(make_desk, graph):
    desk = await make_desk(whatsapp(graph))
    async with hooks_client(desk) as client:
        bad = await post(client, b"{not json")
        assert bad.status_code == 400 and "JSON" in bad.json()["error"]["message"]
        page = await post(client, {"object": "page", "entry": []})
        assert page.status_code == 400 and "whatsapp_business_account" in page.json()["error"]["message"]


async def test_batched_entries_are_handled_one_by_one_and_other_numbers_are_skipped(make_desk, graph):
    desk = await make_desk(whatsapp(graph))
    first = envelope([text_message("wamid.A1", "First"), text_message("wamid.A2", "Second")])
    other = envelope([text_message("wamid.B1", "For another number")], phone_id="999")
    third = envelope([text_message("wamid.C1", "Third", wa_id="4915112345678")], name="Jonas")
    payload = {"object": "whatsapp_business_account", "entry": first["entry"] + other["entry"] + third["entry"]}
    async with hooks_client(desk) as client:
        res = await post(client, payload)
    assert res.status_code == 200 and res.json()["stored"] == 3
    texts = sorted(r["text"] for r in await Message.select(Message.text))
    assert texts == ["First", "Second", "Third"]
    assert await Ticket.count() == 2  # one per customer


async def test_every_message_kind_is_readable(make_desk, graph):
    data = json.loads((UPDATES / "message.json").read_text())
    expected = {
        "text": "Body Text",
        "image": "[image]",
        "video": "caption\n[video]",
        "document": "caption\n[document filename.pdf]",
        "voice": "[voice message]",
        "static_sticker": "[sticker]",
        "animated_sticker": "[animated sticker]",
        "reaction": "Reacted \U0001f62e to a message",
        "unreaction_empty": "Removed a reaction",
        "chosen_location": "Location: Facebook HQ, 1 Hacker Way, Menlo Park, CA 94025 (37.4611978, -122.2164385)",
        "current_location": "Location: 12.25089, 43.90539",
        "contacts": "Shared contacts: Chandler Bing +1 555-555-5555; Monica +1 666-666-6666; Rachel Green +1 777-777-7777",
        "order": "Order: 3 × HAMBURGER at 30 ILS; 2 × FRENCH_FRIES at 35 ILS; 2 × SODA at 10 ILS",
        "unsupported": "[unsupported message: Message type unknown]",
        "reply": "replied text",
    }
    for key, text in expected.items():
        phone_id = data[key]["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"]
        [message], _, _ = parse_payload(data[key], phone_id)
        assert message.text == text, key
        assert message.sender_handle == "+972987654321" and message.phone_verified
    [reply], _, _ = parse_payload(data["reply"], "1122334455667")
    assert reply.references == ["wamid.xyzxyz=="]
    [image], _, _ = parse_payload(data["image"], "1122334455667")
    assert image.metadata["pending_attachments"][0]["media_id"] == "65463453"
    [reaction], _, _ = parse_payload(data["reaction"], "1122334455667")
    assert reaction.references == ["wamid.yzxyzx="] and not reaction.may_open_ticket

    buttons = json.loads((UPDATES / "callback_button.json").read_text())
    [button], _, _ = parse_payload(buttons["button"], "1122334455667")
    assert button.text == "title" and button.metadata["interactive"] == {"type": "button_reply", "id": "callback_data", "title": "title"}
    [quick], _, _ = parse_payload(buttons["quick_reply"], "1122334455667")
    assert quick.text == "title" and quick.metadata["button"]["payload"] == "callback_data"
    selection = json.loads((UPDATES / "callback_selection.json").read_text())
    [listed], _, _ = parse_payload(selection["description"], "1122334455667")
    assert listed.text == "title — description" and listed.metadata["interactive"]["type"] == "list_reply"
    echoes = json.loads((UPDATES / "outgoing_message.json").read_text())
    [echo], _, _ = parse_payload(echoes["delete"], "1122334455667")
    assert echo.is_echo and echo.sender_handle == "+972123456789"


def test_every_corpus_payload_parses_without_raising():
    """Every message and status in the corpus comes out (statuses of unknown kinds aside); template,
    account and call updates are skipped."""
    for path in sorted(UPDATES.glob("*.json")):
        for name, payload in json.loads(path.read_text()).items():
            for entry in payload.get("entry", []):
                for change in entry.get("changes", []):
                    value = change.get("value", {})
                    phone_id = (value.get("metadata") or {}).get("phone_number_id", "x")
                    messages, statuses, invalid = parse_payload({"entry": [{"changes": [change]}]}, phone_id)
                    assert not invalid, (path.name, name, invalid)
                    for message in messages:
                        assert message.external_id and message.sender_handle.startswith("+"), (path.name, name)
                    if change.get("field") in ("messages", "smb_message_echoes"):
                        sent = len(value.get("messages", [])) + len(value.get("message_echoes", []))
                        assert len(messages) == sent, (path.name, name)
                        assert len(statuses) == len(value.get("statuses", [])), (path.name, name)
                    else:
                        assert not messages and not statuses, (path.name, name)


def test_corpus_statuses_map_to_delivery_states():
    data = json.loads((UPDATES / "message_status.json").read_text())
    seen = {}
    for key in ("sent", "delivered", "read", "played", "failed"):
        _, [status], _ = parse_payload(data[key], "1122334455667")
        seen[key] = status.status
    assert seen == {"sent": "sent", "delivered": "delivered", "read": "read", "played": "read", "failed": "failed"}
    _, [failed], _ = parse_payload(data["failed"], "1122334455667")
    assert "(130472)" in failed.error and "User's number is part of an experiment" in failed.error


async def test_whatsapp_number_links_to_a_customer_known_by_verified_phone(make_desk, graph):
    def configure(config):
        whatsapp(graph)(config)
        config["plugins"]["api_channel"]["accounts"]["main"]["trust_contact_details"] = True

    desk = await make_desk(configure)
    async with hooks_client(desk) as client:
        # The shop system already knows this customer, with the same number, from an order.
        res = await post_messages(client, [{"id": "shop-1", "sender": {"id": "order-42", "phone": "+972987654321"},
                                            "text": "Order placed"}])
        assert res.status_code == 200
        res = await post(client, envelope([text_message("wamid.L1", "Hi, about my order")]))
        assert res.status_code == 200
    assert await Customer.count() == 1
    identities = await Identity.select(Identity.channel_type, Identity.handle).order_by(Identity.id)
    assert [i["channel_type"] for i in identities] == ["api", "whatsapp"]
    customer = await Customer.select(Customer.name, Customer.phone).first()
    assert customer["phone"] == "+972987654321"


async def test_an_echo_from_the_business_app_is_stored_as_outbound(make_desk, graph):
    desk = await make_desk(whatsapp(graph))
    echo = envelope()
    change = echo["entry"][0]["changes"][0]
    change["field"] = "smb_message_echoes"
    change["value"]["message_echoes"] = [{"from": "15550953877", "to": "972987654321", "id": "wamid.E1",
                                          "timestamp": "1700000100", "type": "text", "text": {"body": "Sent from the phone"}}]
    async with hooks_client(desk) as client:
        await post(client, envelope([text_message("wamid.I1")]))
        res = await post(client, echo)
    assert res.status_code == 200
    row = await Message.select(Message.direction, Message.text).where(Message.external_id == "wamid.E1").first()
    assert row == {"direction": "outbound", "text": "Sent from the phone"}
    assert await Ticket.count() == 1


async def test_a_wrong_signature_secret_is_refused(make_desk, graph):
    desk = await make_desk(whatsapp(graph))
    body = json.dumps(envelope([text_message("wamid.X")])).encode()
    async with hooks_client(desk) as client:
        res = await client.post("/hooks/whatsapp/main", content=body, headers=sign(body, "someone-elses-secret"))
    assert res.status_code == 401
    assert await Message.count() == 0


async def test_several_numbers_per_install_each_takes_its_own_changes(make_desk, graph):
    def configure(config):
        whatsapp(graph)(config)
        main = config["plugins"]["whatsapp"]["accounts"]["main"]
        config["plugins"]["whatsapp"]["accounts"]["sales"] = {**main, "phone_number_id": "2233445566778"}

    desk = await make_desk(configure)
    payload = envelope([text_message("wamid.S1", "Do you sell gift cards?")], phone_id="2233445566778")
    async with hooks_client(desk) as client:
        to_main = await post(client, payload)
        to_sales = await post(client, payload, account="sales")
    assert to_main.status_code == 200 and to_main.json()["accepted"] == 0
    assert to_sales.json()["stored"] == 1
    row = await Message.select(Message.account).first()
    assert row["account"] == desk.registry.account("whatsapp", "sales").id


async def test_an_oversized_webhook_gets_413_and_stores_nothing(make_desk, graph):
    def configure(config):
        whatsapp(graph)(config)
        config["relaydesk"]["max_webhook_bytes"] = 2048

    desk = await make_desk(configure)
    async with hooks_client(desk) as client:
        res = await post(client, envelope([text_message("wamid.BIG", "x" * 4096)]))
    assert res.status_code == 413
    assert await Message.count() == 0


async def test_a_message_the_customer_deletes_is_withdrawn(make_desk, graph):
    """The corpus's revoke (a customer deleted a message for everyone): the original loses its text and
    is marked withdrawn; the revoke stays on the ticket as a note."""
    revoke = json.loads((UPDATES / "deleted_message.json").read_text())["revoke"]
    value = revoke["entry"][0]["changes"][0]["value"]
    value["metadata"]["phone_number_id"] = PHONE_ID
    value["messages"][0].update({"from": "972987654321", "id": "wamid.REVOKE"})
    value["messages"][0]["revoke"]["original_message_id"] = "wamid.ORIGINAL"
    desk = await make_desk(whatsapp(graph))
    async with hooks_client(desk) as client:
        await post(client, envelope([text_message("wamid.ORIGINAL", "oops, wrong chat")]))
        res = await post(client, revoke)
    assert res.status_code == 200 and res.json()["withdrawn"] == 1
    rows = {r["external_id"]: r for r in await Message.select(Message.external_id, Message.text, Message.metadata)}
    original = rows["wamid.ORIGINAL"]
    meta = original["metadata"] if isinstance(original["metadata"], dict) else json.loads(original["metadata"])
    assert original["text"] == "" and meta["withdrawn_at"].startswith("2023-10-11T16:53:43")
    assert rows["wamid.REVOKE"]["text"] == "The customer deleted a message"
