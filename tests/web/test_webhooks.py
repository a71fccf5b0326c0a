"""The webhook route through HTTP: signatures, sizes, malformed bodies, replays and out-of-order."""

from __future__ import annotations

import json
import time

from core.tables import Message, Ticket
from tests.helpers import client_for, message, post_messages, signed


async def test_hook_parse_webhook(desk):
    async with client_for(desk) as client:
        response = await post_messages(client, [message("m1", text="Hello from the API")])
        assert response.status_code == 200
        body = response.json()
        assert body["stored"] == 1 and body["duplicates"] == 0
        ticket_id = body["messages"][0]["ticket_id"]
    # acknowledged only after commit: the row is there when the 200 arrives
    row = await Message.select(Message.text, Message.ticket).where(Message.external_id == "m1").first()
    assert row == {"text": "Hello from the API", "ticket": ticket_id}


async def test_forged_signature_is_401_and_stores_nothing(desk):
    async with client_for(desk) as client:
        body, headers = signed({"messages": [message("m1")]}, secret="not-the-secret")
        response = await client.post("/hooks/api_channel/main", content=body, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "signature_invalid"
        missing = await client.post("/hooks/api_channel/main", content=body, headers={"content-type": "application/json"})
        assert missing.status_code == 401 and "missing" in missing.json()["error"]["message"]
        old, old_headers = signed({"messages": [message("m2")]}, timestamp=int(time.time()) - 3600)
        stale = await client.post("/hooks/api_channel/main", content=old, headers=old_headers)
        assert stale.status_code == 401 and "tolerance" in stale.json()["error"]["message"]
    assert await Message.count() == 0


async def test_tampered_body_is_401(desk):
    async with client_for(desk) as client:
        body, headers = signed({"messages": [message("m1", text="pay 10")]})
        tampered = body.replace(b"pay 10", b"pay 99")
        response = await client.post("/hooks/api_channel/main", content=tampered, headers=headers)
        assert response.status_code == 401
    assert await Message.count() == 0


async def test_oversized_body_is_413(make_desk):
    desk = await make_desk(lambda c: c["relaydesk"].update(max_webhook_bytes=2048))
    async with client_for(desk) as client:
        response = await post_messages(client, [message("m1", text="x" * 5000)])
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "payload_too_large"
    assert await Message.count() == 0


async def test_malformed_json_is_400_with_the_reason(desk):
    async with client_for(desk) as client:
        body, headers = signed(b'{"messages": [ {"id": "m1", ')
        response = await client.post("/hooks/api_channel/main", content=body, headers=headers)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_request"
        assert "not valid JSON" in response.json()["error"]["message"]
        body, headers = signed({"messages": [{"id": "m1", "text": "no sender"}]})
        response = await client.post("/hooks/api_channel/main", content=body, headers=headers)
        assert response.status_code == 400 and "sender" in response.json()["error"]["message"]
    assert await Message.count() == 0


async def test_unknown_account_is_404(desk):
    async with client_for(desk) as client:
        response = await post_messages(client, [message("m1")], account="nope")
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


async def test_replayed_webhook_changes_nothing(desk):
    async with client_for(desk) as client:
        body, headers = signed({"messages": [message("m1"), message("m2", text="second")]})
        first = await client.post("/hooks/api_channel/main", content=body, headers=headers)
        before = await Ticket.select().first()
        replay = await client.post("/hooks/api_channel/main", content=body, headers=headers)
        assert first.json()["stored"] == 2
        assert replay.status_code == 200 and replay.json()["stored"] == 0 and replay.json()["duplicates"] == 2
    assert await Message.count() == 2
    assert await Ticket.select().first() == before


async def test_out_of_order_deliveries_thread_without_duplicates(desk):
    async with client_for(desk) as client:
        later = await post_messages(client, [message("m2", text="second", thread_id="conv", sent_at="2026-01-01T10:05:00Z")])
        earlier = await post_messages(client, [message("m1", text="first", thread_id="conv", sent_at="2026-01-01T10:00:00Z")])
        await post_messages(client, [message("m2", text="second", thread_id="conv")])
    assert later.json()["messages"][0]["ticket_id"] == earlier.json()["messages"][0]["ticket_id"]
    assert await Message.count() == 2 and await Ticket.count() == 1
    rows = await Message.select(Message.external_id).order_by(Message.created_at)
    assert [r["external_id"] for r in rows] == ["m1", "m2"]


async def test_concurrent_duplicate_deliveries_store_once(desk):
    import asyncio

    async with client_for(desk) as client:
        body, headers = signed({"messages": [message("same", text="racing")]})
        responses = await asyncio.gather(*(client.post("/hooks/api_channel/main", content=body, headers=headers)
                                           for _ in range(5)))
    assert all(r.status_code == 200 for r in responses)
    assert sum(r.json()["stored"] for r in responses) == 1
    assert await Message.count() == 1


async def test_status_updates_through_the_webhook(make_desk):
    from core import outbound

    desk = await make_desk(run_jobs=False)  # no delivery job races the status we post

    async with client_for(desk) as client:
        res = await post_messages(client, [message("m1")])
        ticket_id = res.json()["messages"][0]["ticket_id"]
        reply = await outbound.reply(desk, ticket_id, author_id=None, text="ok")
        await Message.update({Message.external_id: "platform-1", Message.delivery_status: "sent"}).where(
            Message.id == reply["id"])
        r = await post_messages(client, [], statuses=[{"id": "platform-1", "status": "failed", "error": "blocked"}])
        assert r.status_code == 200 and r.json()["statuses"] == 1
    row = await Message.select(Message.delivery_status, Message.delivery_error).where(Message.id == reply["id"]).first()
    assert row == {"delivery_status": "failed", "delivery_error": "blocked"}


def test_signature_helper_round_trip():
    from plugins.api_channel import signing

    body = json.dumps({"a": 1}).encode()
    assert signing.verify("s", body, signing.sign("s", body)) is None
    assert signing.verify("s", body, "t=1,v1=abc") is not None
