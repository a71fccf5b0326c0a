"""The REST API: tokens, roles, filters, cursor pagination, reply, note, updates, errors, OpenAPI."""

from __future__ import annotations

import asyncio

import pytest

from core import clock
from core.tables import AuditEntry, Message, Outbox
from tests.helpers import auth, client_for, make_agent, message, post_messages


async def seed(client, count: int = 5) -> list[int]:
    ids = []
    for i in range(count):
        response = await post_messages(client, [message(f"m{i}", sender=f"cust-{i}", text=f"Question {i}")])
        ids.append(response.json()["messages"][0]["ticket_id"])
    return ids


async def test_requests_without_or_with_bad_tokens_are_refused(desk):
    async with client_for(desk) as client:
        none = await client.get("/api/v1/tickets")
        bad = await client.get("/api/v1/tickets", headers=auth("rd_forged"))
    assert none.status_code == 401 and none.json()["error"]["code"] == "token_missing"
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "token_invalid"


async def test_list_filter_and_paginate(desk):
    _, token = await make_agent("agent")
    async with client_for(desk) as client:
        ids = await seed(client, 5)
        seen, cursor = [], None
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await client.get("/api/v1/tickets", params=params, headers=auth(token))).json()
            seen += [t["id"] for t in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == sorted(ids, reverse=True)
        await client.patch(f"/api/v1/tickets/{ids[0]}", json={"add_tags": ["VIP"]}, headers=auth(token))
        tagged = (await client.get("/api/v1/tickets", params={"tag": "vip"}, headers=auth(token))).json()
        assert [t["id"] for t in tagged["items"]] == [ids[0]] and tagged["items"][0]["tags"] == ["vip"]
        by_status = (await client.get("/api/v1/tickets", params={"status": "open"}, headers=auth(token))).json()
        assert len(by_status["items"]) == 5
        channel = (await client.get("/api/v1/tickets", params={"channel": "email"}, headers=auth(token))).json()
        assert channel["items"] == []


async def test_due_sort_pages_through_due_then_undue(desk):
    _, token = await make_agent("agent")
    async with client_for(desk) as client:
        ids = await seed(client, 4)
        # solving clears the due time, so the solved ticket sorts after every ticket that has one
        await client.patch(f"/api/v1/tickets/{ids[0]}", json={"status": "solved"}, headers=auth(token))
        await client.patch(f"/api/v1/tickets/{ids[3]}", json={"priority": "urgent"}, headers=auth(token))
        seen, cursor = [], None
        while True:
            params = {"limit": 1, "sort": "due", **({"cursor": cursor} if cursor else {})}
            page = (await client.get("/api/v1/tickets", params=params, headers=auth(token))).json()
            seen += [t["id"] for t in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
    assert seen == [ids[1], ids[2], ids[3], ids[0]]


async def test_reply_note_and_update_through_the_api(desk, make_desk):
    agent_id, token = await make_agent("agent")
    async with client_for(desk) as client:
        [ticket_id] = await seed(client, 1)
        reply = await client.post(f"/api/v1/tickets/{ticket_id}/reply", json={"text": "On its way!"}, headers=auth(token))
        assert reply.status_code == 202 and reply.json()["delivery_status"] == "queued"
        note = await client.post(f"/api/v1/tickets/{ticket_id}/notes", json={"text": "Checked the warehouse"},
                                 headers=auth(token))
        assert note.status_code == 201 and note.json()["direction"] == "note"
        updated = await client.patch(f"/api/v1/tickets/{ticket_id}",
                                     json={"status": "pending", "priority": "high", "assignee": agent_id},
                                     headers=auth(token))
        assert updated.status_code == 200
        assert {k: updated.json()[k] for k in ("status", "priority", "assignee")} == {
            "status": "pending", "priority": "high", "assignee": agent_id}
        messages = (await client.get(f"/api/v1/tickets/{ticket_id}/messages", headers=auth(token))).json()["items"]
        assert [m["direction"] for m in messages] == ["inbound", "outbound", "note"]
        assert messages[1]["author"] == agent_id
    assert await Outbox.count() == 1  # a note never goes to the customer
    actions = {r["action"] for r in await AuditEntry.select(AuditEntry.action)}
    assert {"reply", "note", "update"} <= actions


async def test_a_reply_guarded_by_last_seen_is_refused_when_someone_else_answered(desk):
    """The send-time collision check: with last_seen_message_id, a reply by someone else after that
    message answers 409 reply_collision naming it, and nothing is stored or sent; without it, or
    with the newer id, the reply goes."""
    _, ann = await make_agent("agent", email="ann-coll@example.com")
    _, bo = await make_agent("agent", email="bo-coll@example.com")
    async with client_for(desk) as client:
        [ticket_id] = await seed(client, 1)
        seen = (await client.get(f"/api/v1/tickets/{ticket_id}/messages", headers=auth(bo))).json()["items"][-1]["id"]
        first = await client.post(f"/api/v1/tickets/{ticket_id}/reply", json={"text": "Ann was first"}, headers=auth(ann))
        assert first.status_code == 202
        own = await client.post(f"/api/v1/tickets/{ticket_id}/reply",
                                json={"text": "Ann again", "last_seen_message_id": seen}, headers=auth(ann))
        assert own.status_code == 202  # her own replies are no collision for her
        refused = await client.post(f"/api/v1/tickets/{ticket_id}/reply",
                                    json={"text": "Bo blindly", "last_seen_message_id": seen}, headers=auth(bo))
        assert refused.status_code == 409
        error = refused.json()["error"]
        assert error["code"] == "reply_collision"
        assert error["newer_message_ids"] == [first.json()["id"], own.json()["id"]]
        after = await client.post(f"/api/v1/tickets/{ticket_id}/reply",
                                  json={"text": "Bo after reading", "last_seen_message_id": own.json()["id"]},
                                  headers=auth(bo))
        assert after.status_code == 202
    texts = [r["text"] for r in await Message.select(Message.text).where(Message.direction == "outbound").order_by(Message.id)]
    assert texts == ["Ann was first", "Ann again", "Bo after reading"]
    assert await Outbox.count() == 3


async def test_readonly_agent_reads_but_cannot_write(desk):
    _, token = await make_agent("readonly")
    async with client_for(desk) as client:
        [ticket_id] = await seed(client, 1)
        assert (await client.get(f"/api/v1/tickets/{ticket_id}", headers=auth(token))).status_code == 200
        refused = await client.post(f"/api/v1/tickets/{ticket_id}/reply", json={"text": "hi"}, headers=auth(token))
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
        patch = await client.patch(f"/api/v1/tickets/{ticket_id}", json={"status": "closed"}, headers=auth(token))
        assert patch.status_code == 403
    assert await Message.count() == 1


async def test_only_admins_manage_agents(desk):
    _, agent_token = await make_agent("agent")
    _, admin_token = await make_agent("admin")
    new = {"name": "李娜", "email": "li.na@example.cn", "role": "agent", "languages": ["zh", "en"]}
    async with client_for(desk) as client:
        refused = await client.post("/api/v1/agents", json=new, headers=auth(agent_token))
        created = await client.post("/api/v1/agents", json=new, headers=auth(admin_token))
        duplicate = await client.post("/api/v1/agents", json=new, headers=auth(admin_token))
        me = await client.get("/api/v1/agents/me", headers=auth(agent_token))
        own = await client.patch(f"/api/v1/agents/{me.json()['id']}", json={"availability": "away"},
                                 headers=auth(agent_token))
        escalate = await client.patch(f"/api/v1/agents/{me.json()['id']}", json={"role": "admin"},
                                      headers=auth(agent_token))
    assert refused.status_code == 403
    assert created.status_code == 201 and created.json()["languages"] == ["zh", "en"]
    assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "conflict"
    assert own.status_code == 200 and own.json()["availability"] == "away"
    assert escalate.status_code == 403


async def test_tokens_can_be_created_and_revoked(desk):
    _, token = await make_agent("agent")
    async with client_for(desk) as client:
        created = await client.post("/api/v1/tokens", json={"name": "script"}, headers=auth(token))
        new_token = created.json()["token"]
        assert (await client.get("/api/v1/agents/me", headers=auth(new_token))).status_code == 200
        from core.tables import ApiToken

        row = await ApiToken.select(ApiToken.id).where(ApiToken.name == "script").first()
        assert (await client.delete(f"/api/v1/tokens/{row['id']}", headers=auth(new_token))).status_code == 204
        assert (await client.get("/api/v1/agents/me", headers=auth(new_token))).status_code == 401


async def test_customers_with_identities(desk):
    _, token = await make_agent("readonly")
    async with client_for(desk) as client:
        await post_messages(client, [message("m1", sender="wa-1", details={"name": "Anna", "email": "Anna@Example.de"})])
        listing = (await client.get("/api/v1/customers", params={"email": "anna@example.de"}, headers=auth(token))).json()
        [customer] = listing["items"]
        detail = (await client.get(f"/api/v1/customers/{customer['id']}", headers=auth(token))).json()
    assert customer["name"] == "Anna"
    assert [i["handle"] for i in detail["identities"]] == ["wa-1"]


async def test_errors_are_json_with_stable_codes(desk):
    _, token = await make_agent("agent")
    async with client_for(desk) as client:
        missing = await client.get("/api/v1/tickets/999999", headers=auth(token))
        bad_status = await client.get("/api/v1/tickets", params={"status": "lost"}, headers=auth(token))
        bad_cursor = await client.get("/api/v1/tickets", params={"cursor": "!!!"}, headers=auth(token))
        bad_body = await client.post("/api/v1/tickets/1/reply", json={"txt": "typo"}, headers=auth(token))
        empty = await seed(client, 1)
        blank = await client.post(f"/api/v1/tickets/{empty[0]}/reply", json={"text": "  "}, headers=auth(token))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert bad_status.status_code == 400 and "status must be" in bad_status.json()["error"]["message"]
    assert bad_cursor.status_code == 400 and bad_cursor.json()["error"]["code"] == "invalid_request"
    assert bad_body.status_code == 400 and bad_body.json()["error"]["code"] == "invalid_request"
    assert blank.status_code == 400 and "empty" in blank.json()["error"]["message"]


async def test_health_ready_metrics_and_openapi(desk):
    async with client_for(desk) as client:
        await seed(client, 2)
        health = await client.get("/health")
        ready = await client.get("/ready")
        metrics = await client.get("/metrics")
        schema = await client.get("/api/v1/schema/openapi.json")
    assert health.json() == {"status": "ok"}
    async with client_for(desk) as client:
        front = await client.get("/")
    assert front.status_code in (301, 302, 303, 307) and front.headers["location"] == "/inbox"
    assert ready.status_code == 200 and ready.json()["checks"]["database"] == "ok"
    assert 'relaydesk_messages_ingested_total{plugin="api_channel"}' in metrics.text
    samples = dict(line.split(" ", 1) for line in metrics.text.splitlines() if line and not line.startswith("#"))
    transactions = float(samples["relaydesk_ingest_transactions_total"])
    deliveries = float(samples["relaydesk_ingest_deliveries_total"])
    assert 1 <= transactions <= deliveries
    paths = schema.json()["paths"]
    assert "/api/v1/tickets" in paths and "/api/v1/tickets/{ticket_id}/reply" in paths


async def test_ready_reports_a_dead_redis(make_desk):
    desk = await make_desk(lambda c: c["relaydesk"].update(redis="redis://127.0.0.1:1/0"), run_jobs=True)
    async with client_for(desk) as client:
        ready = await client.get("/ready")
    assert ready.status_code == 503 and ready.json()["checks"]["redis"].startswith("error")


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)  # SQLite heartbeats: test_serve_processes
async def test_ready_reports_missing_worker_heartbeats(make_desk, redis_url):
    from core import heartbeat

    desk = await make_desk(lambda c: c["relaydesk"].update(redis=redis_url, worker_heartbeat_timeout_seconds=1.0))
    async with client_for(desk) as client:
        never = await client.get("/ready")
        await heartbeat.beat("host:1", "running", clock.now())
        fresh = await client.get("/ready")
        await asyncio.sleep(1.2)
        stale = await client.get("/ready")
        health = await client.get("/health")
    assert never.status_code == 503 and never.json()["checks"]["worker"].startswith("error: no worker has ever")
    assert fresh.status_code == 200 and fresh.json()["checks"] == {"database": "ok", "redis": "ok", "worker": "ok"}
    assert stale.status_code == 503 and stale.json()["checks"]["worker"].startswith("error: no worker heartbeat for")
    assert health.status_code == 200  # liveness does not depend on the worker


async def test_admins_set_agent_shifts_with_validation(desk):
    agent_id, agent_token = await make_agent("agent")
    _, admin_token = await make_agent("admin")
    week = {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
    async with client_for(desk) as client:
        before = await client.get(f"/api/v1/agents/{agent_id}/shift", headers=auth(agent_token))
        refused = await client.put(f"/api/v1/agents/{agent_id}/shift", json={"hours": week}, headers=auth(agent_token))
        broken = await client.put(f"/api/v1/agents/{agent_id}/shift", json={"hours": {"mon": [["18:00", "09:00"]]}},
                                  headers=auth(admin_token))
        saved = await client.put(f"/api/v1/agents/{agent_id}/shift", json={"hours": week, "holidays": ["2026-11-11"]},
                                 headers=auth(admin_token))
        after = await client.get(f"/api/v1/agents/{agent_id}/shift", headers=auth(agent_token))
        cleared = await client.delete(f"/api/v1/agents/{agent_id}/shift", headers=auth(admin_token))
        gone = await client.get(f"/api/v1/agents/{agent_id}/shift", headers=auth(agent_token))
    assert before.json()["hours"] is None
    assert refused.status_code == 403
    assert broken.status_code == 400 and "hours.mon[0]" in broken.json()["error"]["message"]
    assert saved.status_code == 200 and saved.json()["hours"]["mon"] == [["09:00", "18:00"]]
    assert after.json()["holidays"] == ["2026-11-11"]
    assert cleared.status_code == 204 and gone.json()["hours"] is None
    assert await AuditEntry.count().where(AuditEntry.action == "set_shift") == 1
