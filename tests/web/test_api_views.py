"""/api/v1/views and GET /api/v1/tickets with filters, a saved view and ?q= (cursor paging past 50),
on SQLite and PostgreSQL; bad parameters answer 400."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

from core import clock
from core.tables import AuditEntry, Team, Ticket, TicketTag
from tests.helpers import auth, client_for, make_agent, message, post_messages


async def _tickets(client, n: int, text: str) -> list[int]:
    before = {r["id"] for r in await Ticket.select(Ticket.id)}
    await post_messages(client, [message(f"{text}{i}", sender=f"{text}{i}", text=f"{text} {i}") for i in range(n)])
    return sorted(r["id"] for r in await Ticket.select(Ticket.id) if r["id"] not in before)


async def _all(client, token: str, params: dict) -> list[int]:
    seen, cursor = [], None
    for _ in range(50):
        response = await client.get("/api/v1/tickets", params={**params, **({"cursor": cursor} if cursor else {})},
                                    headers=auth(token))
        assert response.status_code == 200, response.text
        page = response.json()
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            return seen
    raise AssertionError("the pages never end")


async def test_every_filter_through_the_api(desk):
    me, token = await make_agent("agent", email="api-f@example.com")
    async with client_for(desk) as client:
        ids = await _tickets(client, 6, "box")
        now = clock.now()
        team = (await Team.insert(Team(name="Care")).returning(Team.id))[0]["id"]
        await Ticket.update({Ticket.priority: "urgent", Ticket.assignee: me, Ticket.language: "de",
                             Ticket.sla_due_at: now - timedelta(minutes=1)}).where(Ticket.id == ids[0])
        await Ticket.update({Ticket.team: team, Ticket.sla_due_at: now + timedelta(minutes=10),
                             Ticket.created_at: now - timedelta(days=10)}).where(Ticket.id == ids[1])
        await Ticket.update({Ticket.status: "solved", Ticket.sla_due_at: None,
                             Ticket.updated_at: now - timedelta(days=5)}).where(Ticket.id == ids[2])
        await Ticket.update({Ticket.sla_due_at: now + timedelta(days=1)}).where(Ticket.id.is_in(ids[3:]))
        await TicketTag.insert(TicketTag(ticket=ids[4], tag="refund"))
        cases = [
            ({"status": "solved"}, [ids[2]]), ({"priority": "urgent"}, [ids[0]]), ({"assignee": "me"}, [ids[0]]),
            ({"assignee": str(me)}, [ids[0]]), ({"assignee": "none", "status": "open"}, [ids[1], *ids[3:]]),
            ({"unassigned": "true", "team": str(team)}, [ids[1]]), ({"team": "none", "priority": "urgent"}, [ids[0]]),
            ({"tag": "refund"}, [ids[4]]), ({"language": "DE"}, [ids[0]]), ({"sla": "breached"}, [ids[0]]),
            ({"sla": "due_soon"}, [ids[1]]), ({"sla": "ok"}, ids[3:]), ({"sla": "none"}, [ids[2]]),
            ({"channel": "api", "priority": "urgent"}, [ids[0]]), ({"channel": "whatsapp"}, []),
            ({"created_to": (now - timedelta(days=9)).date().isoformat()}, [ids[1]]),
            ({"created_from": (now - timedelta(hours=1)).isoformat()}, [i for i in ids if i != ids[1]]),
            ({"updated_to": (now - timedelta(days=4)).isoformat()}, [ids[2]]),
            ({"q": "box", "status": "open", "priority": "urgent"}, [ids[0]]),
        ]
        for params, expected in cases:
            assert sorted(await _all(client, token, {**params, "limit": 2})) == sorted(expected), params
        account = (await client.get("/api/v1/tickets", params={"limit": 1}, headers=auth(token))).json()["items"][0]["account"]
        assert len(await _all(client, token, {"account": str(account)})) == 6
        newest = await _all(client, token, {"sort": "newest", "limit": 4})
        assert newest[-1] == ids[1] and await _all(client, token, {"sort": "oldest", "limit": 4}) == newest[::-1]
        assert (await _all(client, token, {"sort": "updated"}))[-1] == ids[2]


async def test_search_pages_past_50_with_filters(desk):
    _, token = await make_agent("readonly", email="api-s@example.com")
    async with client_for(desk) as client:
        wanted = await _tickets(client, 57, "parcel")
        noise = await _tickets(client, 5, "parcelnoise")
        await Ticket.update({Ticket.priority: "high"}).where(Ticket.id.is_in(wanted))
        await Ticket.update({Ticket.priority: "high"}).where(Ticket.id == noise[0])  # high, but no "parcel" word
        first = (await client.get("/api/v1/tickets", params={"q": "parcel", "priority": "high"}, headers=auth(token))).json()
        assert len(first["items"]) == 50 and first["next_cursor"]
        seen = await _all(client, token, {"q": "parcel", "priority": "high"})
        assert sorted(seen) == sorted(wanted) and len(seen) == len(set(seen))
        assert seen == sorted(seen, reverse=True)  # same last activity order as they arrived: newest first
        assert len(await _all(client, token, {"q": "parcel", "limit": 7})) == 57  # "parcelnoise" is another word
        # a sort with a search, a cursor from another list: 400
        assert (await client.get("/api/v1/tickets", params={"q": "parcel", "sort": "due"}, headers=auth(token))).status_code == 400
        other = (await client.get("/api/v1/tickets", params={"limit": 1}, headers=auth(token))).json()["next_cursor"]
        refused = await client.get("/api/v1/tickets", params={"q": "parcel", "cursor": other}, headers=auth(token))
        assert refused.status_code == 400


async def test_view_crud_and_permissions(desk):
    me, token = await make_agent("agent", email="api-v@example.com")
    _, other = await make_agent("agent", email="api-v2@example.com")
    _, boss = await make_agent("supervisor", email="api-boss@example.com")
    async with client_for(desk) as client:
        ids = await _tickets(client, 4, "shoe")
        await Ticket.update({Ticket.priority: "high", Ticket.assignee: me}).where(Ticket.id.is_in(ids[:2]))
        made = await client.post("/api/v1/views", json={"name": "Mine high", "filters": {
            "assignee": "me", "priority": "high", "status": "open", "sort": "newest"}}, headers=auth(token))
        assert made.status_code == 201, made.text
        view = made.json()
        assert view["shared"] is False and view["filters"]["assignee"] == "me"
        listed = (await client.get("/api/v1/views", params={"counts": "true"}, headers=auth(token))).json()
        assert [(v["name"], v["count"], v["count_capped"]) for v in listed] == [("Mine high", 2, False)]
        through = (await client.get("/api/v1/tickets", params={"view": view["id"]}, headers=auth(token))).json()
        assert sorted(t["id"] for t in through["items"]) == sorted(ids[:2])
        with_q = (await client.get("/api/v1/tickets", params={"view": view["id"], "q": "shoe", "priority": "normal"},
                                   headers=auth(token))).json()
        assert with_q["items"] == []  # the given priority replaces the view's; still assigned to me
        # private: the other agent gets 404 everywhere
        assert (await client.get(f"/api/v1/views/{view['id']}", headers=auth(other))).status_code == 404
        assert (await client.patch(f"/api/v1/views/{view['id']}", json={"name": "x"}, headers=auth(other))).status_code == 404
        assert (await client.delete(f"/api/v1/views/{view['id']}", headers=auth(other))).status_code == 404
        assert (await client.get("/api/v1/tickets", params={"view": view["id"]}, headers=auth(other))).status_code == 404
        assert (await client.get("/api/v1/views", headers=auth(other))).json() == []
        # an agent cannot share; a supervisor can, and only supervisors change a shared view
        refused = await client.post("/api/v1/views", json={"name": "All", "filters": {"status": "open"}, "shared": True},
                                    headers=auth(token))
        assert refused.status_code == 403
        assert (await client.patch(f"/api/v1/views/{view['id']}", json={"shared": True}, headers=auth(token))).status_code == 403
        team_view = (await client.post("/api/v1/views", json={"name": "All open", "filters": {"status": "open"},
                                                               "shared": True}, headers=auth(boss))).json()
        assert {v["name"] for v in (await client.get("/api/v1/views", headers=auth(other))).json()} == {"All open"}
        assert (await client.patch(f"/api/v1/views/{team_view['id']}", json={"name": "x"}, headers=auth(other))).status_code == 403
        assert (await client.delete(f"/api/v1/views/{team_view['id']}", headers=auth(other))).status_code == 403
        renamed = await client.patch(f"/api/v1/views/{team_view['id']}", json={"name": "Open", "filters": {"sla": "breached"}},
                                     headers=auth(boss))
        assert renamed.status_code == 200 and renamed.json()["filters"] == {"sla": "breached"}
        assert await AuditEntry.count().where(AuditEntry.entity_type == "saved_view") == 2
        # the owner edits and deletes their own
        patched = await client.patch(f"/api/v1/views/{view['id']}", json={"name": "Hot"}, headers=auth(token))
        assert patched.json()["name"] == "Hot" and patched.json()["filters"]["priority"] == "high"
        assert (await client.delete(f"/api/v1/views/{view['id']}", headers=auth(token))).status_code == 204
        assert (await client.get(f"/api/v1/views/{view['id']}", headers=auth(token))).status_code == 404


async def test_bad_parameters_are_400_never_500(desk):
    _, token = await make_agent("agent", email="api-bad@example.com")
    async with client_for(desk) as client:
        await _tickets(client, 2, "cup")
        tampered = base64.urlsafe_b64encode(json.dumps({"i": 2**40, "s": "search", "v": None}).encode()).decode()
        bad_time = base64.urlsafe_b64encode(json.dumps({"i": 1, "s": "newest", "v": "tomorrow"}).encode()).decode()
        no_value = base64.urlsafe_b64encode(json.dumps({"i": 1, "s": "newest", "v": None}).encode()).decode()
        for params in ({"status": "lost"}, {"priority": "0"}, {"sla": "soon"}, {"sort": "best"}, {"assignee": "her"},
                       {"assignee": str(2**31)}, {"team": "99999999999999999999"}, {"account": str(2**40)},
                       {"customer": "-3"}, {"created_from": "2026-02-30"}, {"created_to": "11/11/2026"},
                       {"updated_from": "2026-11-11T10:00"}, {"language": "x" * 17}, {"tag": "t\x00g"},
                       {"q": "cup\x00"}, {"q": "x" * 501}, {"cursor": "%%%"}, {"cursor": tampered},
                       {"q": "cup", "cursor": bad_time}, {"sort": "newest", "cursor": no_value},
                       {"view": "0"}, {"view": str(2**40)}, {"unassigned": "true", "assignee": "me"}, {"limit": "10000"}):
            response = await client.get("/api/v1/tickets", params=params, headers=auth(token))
            assert response.status_code == 400, (params, response.status_code, response.text[:200])
            assert response.json()["error"]["code"] in ("invalid_request", "bad_request", "validation_error"), response.text
        assert (await client.get("/api/v1/tickets", params={"view": "77"}, headers=auth(token))).status_code == 404
        for body in ({"name": "x", "filters": {}}, {"name": "", "filters": {"status": "open"}},
                     {"name": "x", "filters": {"status": "nope"}}, {"name": "x", "filters": {"colour": "red"}},
                     {"name": "x", "filters": {"created_from": "2026-13-01"}}, {"name": "x\x00", "filters": {"status": "open"}},
                     {"name": "x" * 101, "filters": {"status": "open"}}, {"name": "x", "filters": {"assignee": "9" * 30}}):
            response = await client.post("/api/v1/views", json=body, headers=auth(token))
            assert response.status_code == 400, (body, response.status_code, response.text[:200])
        assert (await client.get(f"/api/v1/views/{2**40}", headers=auth(token))).status_code in (400, 404)


async def test_openapi_documents_views_and_search(desk):
    async with client_for(desk) as client:
        schema = (await client.get("/api/v1/schema/openapi.json")).json()
    assert {"/api/v1/views", "/api/v1/views/{view_id}"} <= set(schema["paths"])
    params = {p["name"] for p in schema["paths"]["/api/v1/tickets"]["get"]["parameters"]}
    assert {"q", "view", "priority", "sla", "language", "account", "created_from", "updated_to", "cursor"} <= params


async def test_dates_are_days_in_the_agents_time_zone(desk):
    from datetime import datetime, timezone

    from core.tables import Agent

    me, token = await make_agent("agent", email="api-tz@example.com")
    await Agent.update({Agent.timezone: "Asia/Shanghai"}).where(Agent.id == me)
    async with client_for(desk) as client:
        early, late = await _tickets(client, 2, "tz")
        # 01:00 on 11 November in Shanghai, still 10 November in UTC; and 23:30 on 11 November there
        await Ticket.update({Ticket.created_at: datetime(2026, 11, 10, 17, 0, tzinfo=timezone.utc)}).where(Ticket.id == early)
        await Ticket.update({Ticket.created_at: datetime(2026, 11, 11, 15, 30, tzinfo=timezone.utc)}).where(Ticket.id == late)
        day = {"created_from": "2026-11-11", "created_to": "2026-11-11"}
        assert sorted(await _all(client, token, day)) == [early, late]
        assert await _all(client, token, {"created_to": "2026-11-10"}) == []
        utc_day = {"created_from": "2026-11-11T00:00:00+00:00", "created_to": "2026-11-11T23:59:59+00:00"}
        assert await _all(client, token, utc_day) == [late]
