"""Values of the wrong type anywhere in a WhatsApp webhook (issue 16): the bad change or message is
skipped and counted, the valid ones in the same body are stored, the answer is 200, and nothing is
stored from a wrong-typed field."""

from __future__ import annotations

import copy
from typing import Any, Callable

from core.tables import Message
from tests.plugins.whatsapp.wa_helpers import envelope, hooks_client, post, text_message, whatsapp
from web.metrics import REGISTRY


def invalid_count() -> float:
    return REGISTRY.get_sample_value("relaydesk_webhook_invalid_events_total", {"plugin": "whatsapp"}) or 0.0


def _value(p: dict[str, Any]) -> dict[str, Any]:
    return p["entry"][0]["changes"][0]["value"]


def _set(path: Callable[[dict[str, Any]], dict[str, Any]], key: str, new: Any) -> Callable[[dict[str, Any]], None]:
    def change(p: dict[str, Any]) -> None:
        path(p)[key] = new
    return change


CASES: dict[str, Callable[[dict[str, Any]], None]] = {
    "metadata is a string": _set(_value, "metadata", "x"),
    "contacts[].profile is a string": _set(lambda p: _value(p)["contacts"][0], "profile", "x"),
    "contacts is a string": _set(_value, "contacts", "x"),
    "a contact's name is an object": _set(lambda p: _value(p)["contacts"][0]["profile"], "name", {"a": 1}),
    "the message id is an object": _set(lambda p: _value(p)["messages"][0], "id", {"a": 1}),
    "the text is an object": _set(lambda p: _value(p)["messages"][0]["text"], "body", {"a": 1}),
    "a reaction is a string": lambda p: _value(p)["messages"][0].update(type="reaction", reaction="x"),
    "a reaction's emoji is an object": lambda p: _value(p)["messages"][0].update(
        type="reaction", reaction={"message_id": "wamid.T", "emoji": {"a": 1}}),
    "messages is an object": _set(_value, "messages", {"0": "x"}),
    "a status is a string": lambda p: _value(p).update(statuses=["x"], messages=[]),
    "the entry is a number": lambda p: p["entry"].__setitem__(0, 7),
}


async def test_a_wrong_typed_value_skips_its_event_and_the_valid_ones_are_stored(make_desk, graph):
    desk = await make_desk(whatsapp(graph))
    async with hooks_client(desk) as client:
        for n, (name, mutate) in enumerate(CASES.items()):
            bad = envelope([text_message(f"wamid.bad{n}", "must not be stored", wa_id="4915100000001")], name="Bad")
            mutate(bad)
            good = envelope([text_message(f"wamid.good{n}", f"good {n}")])
            before = invalid_count()
            res = await post(client, {"object": "whatsapp_business_account", "entry": bad["entry"] + good["entry"]})
            assert res.status_code == 200, (name, res.text)
            assert res.json()["stored"] == 1 and res.json()["invalid"] == 1, (name, res.json())
            assert invalid_count() == before + 1, name
        # A body that is not a WhatsApp webhook at all is refused whole.
        for body in ({"object": 5, "entry": []}, {"object": "whatsapp_business_account", "entry": "x"}, [1, 2], "x"):
            res = await post(client, body)  # type: ignore[arg-type]
            assert res.status_code == 400 and "WhatsApp" in res.json()["error"]["message"], body
    rows = await Message.select(Message.external_id, Message.text).order_by(Message.id)
    assert [r["text"] for r in rows] == [f"good {n}" for n in range(len(CASES))]
    assert not [r for r in rows if "{" in r["external_id"] or "must not" in r["text"]]


def test_the_types_accept_every_documented_field_kind():
    """A copy of a valid message with every optional part set parses to one message, nothing invalid."""
    import json

    from plugins.whatsapp.parse import parse_payload

    payload = envelope([text_message("wamid.ok")])
    message = _value(payload)["messages"][0]
    message["context"] = {"from": "15550001111", "id": "wamid.prev", "forwarded": True}
    message["referral"] = {"source_url": "https://fb.me/x", "source_id": "1", "source_type": "ad", "headline": "Sale",
                           "body": "b", "media_type": "image", "image_url": "https://x/i.png", "ctwa_clid": "c"}
    messages, statuses, invalid = parse_payload(json.dumps(copy.deepcopy(payload)).encode(), "1122334455667")
    assert invalid == [] and len(messages) == 1
    assert messages[0].metadata["referral"]["headline"] == "Sale" and messages[0].metadata["forwarded"] is True
