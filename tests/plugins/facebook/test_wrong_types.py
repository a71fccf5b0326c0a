"""Messenger and Instagram webhooks with values of the wrong type (issue 16): the bad event or entry
is skipped and counted, the valid ones in the same body are stored, the answer is 200."""

from __future__ import annotations

from typing import Any, Callable

from core.tables import Message
from tests.plugins.facebook.fb_helpers import PAGE_ID, PSID, facebook, hooks_client, incoming, page_payload, post
from web.metrics import REGISTRY


def invalid_count() -> float:
    return REGISTRY.get_sample_value("relaydesk_webhook_invalid_events_total", {"plugin": "facebook"}) or 0.0


CASES: dict[str, Callable[[dict[str, Any]], None]] = {
    "sender is a string": lambda e: e.update(sender="x"),
    "recipient is missing": lambda e: e.pop("recipient"),
    "the text is an object": lambda e: e["message"].update(text={"a": 1}),
    "the mid is an object": lambda e: e["message"].update(mid={"a": 1}),
    "a location's coordinates are a string": lambda e: e["message"].update(
        attachments=[{"type": "location", "payload": {"coordinates": "x"}}]),
    "attachments is a string": lambda e: e["message"].update(attachments="x"),
    "a reaction's emoji is an object": lambda e: (e.pop("message"), e.update(
        reaction={"reaction": "love", "emoji": {"a": 1}, "action": "react", "mid": "m_x"})),
    "a postback is a list": lambda e: (e.pop("message"), e.update(postback=[1])),
    "the timestamp is a string": lambda e: e.update(timestamp="soon"),
    "the event is a number": lambda e: (e.clear(), e.update(_replace=5)),
}


async def test_a_wrong_typed_value_skips_its_event_and_the_valid_ones_are_stored(make_desk, graph):
    desk = await make_desk(facebook(graph))
    async with hooks_client(desk) as client:
        for n, (name, mutate) in enumerate(CASES.items()):
            bad = incoming(f"m_bad{n}", "must not be stored", sender="111")
            mutate(bad)
            events: list[Any] = [5 if "_replace" in bad else bad, incoming(f"m_good{n}", f"good {n}")]
            before = invalid_count()
            res = await post(client, page_payload(events))
            assert res.status_code == 200, (name, res.text)
            assert res.json()["stored"] == 1 and res.json()["invalid"] == 1, (name, res.json())
            assert invalid_count() == before + 1, name
        # A bad entry (its id a number) costs only itself; a good entry in the same body is stored.
        body = page_payload([incoming("m_entry_good", "entry good")])
        body["entry"].insert(0, {"id": 104729185512345, "time": 1, "messaging": [incoming("m_entry_bad")]})
        res = await post(client, body)
        assert res.status_code == 200 and res.json()["stored"] == 1 and res.json()["invalid"] == 1
        # A body that is not a Messenger webhook at all is refused whole.
        for whole in ({"object": ["page"], "entry": []}, {"object": "page", "entry": {"id": PAGE_ID}}, [1]):
            res = await post(client, whole)  # type: ignore[arg-type]
            assert res.status_code == 400, whole
    rows = await Message.select(Message.external_id, Message.text).order_by(Message.id)
    assert [r["text"] for r in rows] == [f"good {n}" for n in range(len(CASES))] + ["entry good"]
    assert all(r["external_id"].startswith("m_") and "{" not in r["external_id"] for r in rows)
    assert PSID
