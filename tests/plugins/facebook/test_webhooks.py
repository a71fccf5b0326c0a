"""Messenger and Instagram webhooks through /hooks/facebook/{account}: handshake, signatures,
batched entries, every inbound kind, echoes and receipts."""

from __future__ import annotations

import json

from core.tables import Attachment, Identity, Message, Ticket
from tests.conftest import wait_for
from tests.plugins.facebook.fb_helpers import (
    APP_SECRET, IG_ID, IGSID, OTHER_PAGE_ID, PAGE_ID, PAGE_TOKEN, PSID, VERIFY_TOKEN, facebook, hooks_client, incoming,
    page_payload, post, sign,
)


def test_it_loads_and_registers(tmp_path):
    from core.config import settings_from_dict
    from core.plugins import load_registry
    from tests.conftest import base_config
    from tests.plugins.whatsapp.graph_loopback import GraphLoopback

    config = base_config("sqlite:///x.db", tmp_path)
    facebook(GraphLoopback(token="t"))(config)
    registry = load_registry(settings_from_dict(config, "p.toml"))
    assert {registry.channels[n].plugin for n in ("messenger", "instagram")} == {"facebook"}
    assert registry.account("facebook", "shop").channel_type == "messenger"
    assert registry.account("facebook", "outlet").settings.page_id == OTHER_PAGE_ID
    assert registry.account("facebook", "insta").channel_type == "instagram"
    assert registry.account("facebook", "insta").settings.download_media is False
    assert {"facebook_fetch_media", "facebook_media_sweep"} <= set(registry.jobs)


async def rows() -> list[dict]:
    return await Message.select(Message.text, Message.direction, Message.external_id, Message.metadata).order_by(Message.id)


def meta(row: dict) -> dict:
    return row["metadata"] if isinstance(row["metadata"], dict) else json.loads(row["metadata"] or "{}")


async def test_handshake_and_signatures(make_desk, graph):
    desk = await make_desk(facebook(graph))
    body = json.dumps(page_payload([incoming("m_1")])).encode()
    async with hooks_client(desk) as client:
        ok = await client.get("/hooks/facebook/shop", params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN,
                                                                "hub.challenge": "CHALLENGE_ACCEPTED"})
        assert ok.status_code == 200 and ok.text == "CHALLENGE_ACCEPTED"
        wrong = await client.get("/hooks/facebook/shop", params={"hub.mode": "subscribe", "hub.verify_token": "nope",
                                                                   "hub.challenge": "CHALLENGE_ACCEPTED"})
        assert wrong.status_code == 403
        forged = await client.post("/hooks/facebook/shop", content=body, headers=sign(body, "not-the-app-secret"))
        assert forged.status_code == 401
        tampered = await client.post("/hooks/facebook/shop", content=body.replace(b"stock", b"st0ck"), headers=sign(body))
        assert tampered.status_code == 401
        assert await Message.count() == 0
        first = await client.post("/hooks/facebook/shop", content=body, headers=sign(body))
        replay = await client.post("/hooks/facebook/shop", content=body, headers=sign(body))
        assert first.json()["stored"] == 1 and replay.json()["duplicates"] == 1
        wrong_object = await post(client, page_payload([incoming("m_2")], obj="instagram"))
        assert wrong_object.status_code == 400 and "'page'" in wrong_object.json()["error"]["message"]
    assert await Message.count() == 1
    assert await Identity.select(Identity.channel_type, Identity.handle).first() == {"channel_type": "messenger", "handle": PSID}


async def test_batched_entries_each_page_on_its_own_account(make_desk, graph):
    desk = await make_desk(facebook(graph))
    payload = {"object": "page", "entry": [
        {"id": PAGE_ID, "time": 1, "messaging": [incoming("m_a1", "one"), incoming("m_a2", "two", sender="111")]},
        {"id": OTHER_PAGE_ID, "time": 1, "messaging": [incoming("m_b1", "for the outlet", node=OTHER_PAGE_ID)]},
    ]}
    async with hooks_client(desk) as client:
        shop = await post(client, payload)
        outlet = await post(client, payload, account="outlet")
    assert shop.json()["stored"] == 2 and outlet.json()["stored"] == 1
    outlet_account = desk.registry.account("facebook", "outlet").id
    row = await Message.select(Message.text).where(Message.account == outlet_account).first()
    assert row["text"] == "for the outlet"


async def test_every_messenger_kind_is_readable(make_desk, graph):
    graph.add_media("photo1", b"\x89PNG...", "image/png")
    desk = await make_desk(facebook(graph))
    cdn = f"{graph.url}/cdn/photo1"
    events = [
        incoming("m_text", "Do you ship to Spain?", quick_reply={"payload": "SHIPPING_ES"}),
        incoming("m_img", None, attachments=[{"type": "image", "payload": {"url": cdn}}]),
        incoming("m_stk", None, sticker_id=369239263222822, attachments=[{"type": "image", "payload": {"url": cdn, "sticker_id": 369239263222822}}]),
        incoming("m_loc", None, attachments=[{"type": "location", "payload": {"coordinates": {"lat": 40.4, "long": -3.7}}}]),
        incoming("m_reply", "Yes, that one", reply_to={"mid": "m_text"}),
        {"sender": {"id": PSID}, "recipient": {"id": PAGE_ID}, "timestamp": 1700000001000,
         "postback": {"title": "Track my order", "payload": "TRACK", "mid": "m_pb"}},
        {"sender": {"id": PSID}, "recipient": {"id": PAGE_ID}, "timestamp": 1700000002000,
         "reaction": {"reaction": "love", "emoji": "\u2764\ufe0f", "action": "react", "mid": "m_text"}},
    ]
    async with hooks_client(desk) as client:
        res = await post(client, page_payload(events))
    assert res.status_code == 200 and res.json()["stored"] == 7
    got = {r["external_id"]: r for r in await rows()}
    assert got["m_text"]["text"] == "Do you ship to Spain?" and meta(got["m_text"])["quick_reply"] == {"payload": "SHIPPING_ES"}
    assert got["m_img"]["text"] == "[image]"
    assert got["m_stk"]["text"] == "[sticker]" and meta(got["m_stk"])["sticker_id"] == 369239263222822
    assert got["m_loc"]["text"] == "Location: 40.4, -3.7"
    assert got["m_pb"]["text"] == "Tapped “Track my order”" and meta(got["m_pb"])["postback"]["payload"] == "TRACK"
    reaction = next(r for r in got.values() if r["external_id"].startswith("reaction:"))
    assert reaction["text"] == "Reacted \u2764\ufe0f to a message"
    assert await Ticket.count() == 1
    # The image (and the sticker, same bytes) is downloaded after commit and stored once per message.
    image_id = (await Message.select(Message.id).where(Message.external_id == "m_img").first())["id"]

    async def stored():
        return await Attachment.select().where(Attachment.message == image_id).first()

    att = await wait_for(stored)
    assert att["content_type"] == "image/png" and (desk.data_dir / att["storage_path"]).read_bytes() == b"\x89PNG..."
    cdn_calls = [c for c in graph.calls if c.path == "/cdn/photo1"]
    assert cdn_calls and all(c.headers["authorization"] == f"Bearer {PAGE_TOKEN}" for c in cdn_calls)


async def test_a_lone_reaction_opens_no_ticket(make_desk, graph):
    desk = await make_desk(facebook(graph))
    event = {"sender": {"id": PSID}, "recipient": {"id": PAGE_ID}, "timestamp": 1700000002000,
             "reaction": {"reaction": "like", "emoji": "\U0001f44d", "action": "react", "mid": "m_unknown"}}
    async with hooks_client(desk) as client:
        res = await post(client, page_payload([event]))
    assert res.status_code == 200
    assert await Ticket.count() == 0 and await Message.count() == 0


async def test_echoes_from_the_page_inbox_are_outbound_and_our_own_are_not_duplicated(make_desk, graph):
    desk = await make_desk(facebook(graph))

    def echo_event(mid: str, text: str, metadata: str | None = None, at: int = 1700000003000) -> dict:
        message = {"mid": mid, "is_echo": True, "app_id": 263902037430900, "text": text}
        if metadata is not None:
            message["metadata"] = metadata
        return {"sender": {"id": PAGE_ID}, "recipient": {"id": PSID}, "timestamp": at, "message": message}

    echoes = [
        echo_event("m_echo", "Typed in the Page inbox"),
        # our send carries its idempotency key as metadata (plugins.facebook.plugin._send)
        echo_event("m_own", "from us", f"relaydesk-{desk.desk_id}-msg-12", 1700000004000),
        # sent before desks had ids: the old form is still ours
        echo_event("m_own_old", "from us, long ago", "relaydesk-msg-7", 1700000005000),
        # another desk on the same Page: its reply is a message this desk has not stored
        echo_event("m_other_desk", "from the other desk", "relaydesk-0123456789abcdef-msg-12", 1700000006000),
        # a key of ours with something after the number is not one we made
        echo_event("m_lookalike", "look-alike", f"relaydesk-{desk.desk_id}-msg-12x", 1700000007000),
    ]
    async with hooks_client(desk) as client:
        await post(client, page_payload([incoming("m_in")]))
        res = await post(client, page_payload(echoes))
    assert res.json()["stored"] == 3
    rows = await Message.select(Message.external_id, Message.direction).where(
        Message.external_id.is_in(["m_echo", "m_own", "m_own_old", "m_other_desk", "m_lookalike"]))
    assert sorted((r["external_id"], r["direction"]) for r in rows) == [
        ("m_echo", "outbound"), ("m_lookalike", "outbound"), ("m_other_desk", "outbound")]


async def test_instagram_story_reply_mention_and_echo(make_desk, graph):
    desk = await make_desk(facebook(graph))
    story_url = "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1&signature=x"
    events = [
        incoming("ig_1", "Love this!", sender=IGSID, node=IG_ID, reply_to={"story": {"url": story_url, "id": "1790"}}),
        incoming("ig_2", None, sender=IGSID, node=IG_ID, attachments=[{"type": "story_mention", "payload": {"url": story_url}}]),
        incoming("ig_3", None, sender=IGSID, node=IG_ID, attachments=[{"type": "image", "payload": {"url": story_url}}]),
        {"sender": {"id": IG_ID}, "recipient": {"id": IGSID}, "timestamp": 1700000005000,
         "message": {"mid": "ig_4", "is_echo": True, "text": "Thanks!"}},
    ]
    async with hooks_client(desk) as client:
        res = await post(client, page_payload(events, node=IG_ID, obj="instagram"), account="insta")
    assert res.status_code == 200 and res.json()["stored"] == 4
    got = {r["external_id"]: r for r in await rows()}
    assert got["ig_1"]["text"] == "Love this!\n(replying to your story)"
    assert meta(got["ig_1"])["story_reply"] == {"id": "1790", "url": story_url}
    assert got["ig_2"]["text"] == f"[mentioned you in their story] {story_url}"
    # Instagram media is linked, not stored (Meta's policy): nothing pending, no download.
    assert "pending_attachments" not in meta(got["ig_3"]) and meta(got["ig_3"])["attachments"][0]["url"] == story_url
    assert got["ig_4"]["direction"] == "outbound"
    identity = await Identity.select(Identity.channel_type, Identity.handle).first()
    assert identity == {"channel_type": "instagram", "handle": IGSID}
    assert APP_SECRET  # the same app signs Instagram and Messenger webhooks
