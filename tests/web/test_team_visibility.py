"""Team visibility (issue 19 item 2): a "members" team's tickets are seen by its members, supervisors
and admins (and the agent a ticket is assigned to); an outsider meets them on no path: API lists,
reads and writes, inbox pages and fragments, search, counts, customer timeline and panel, bulk
work, attachment downloads and live events. Every path is tried as an outsider, a member and a
supervisor, on both databases."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import timedelta
from types import SimpleNamespace

import httpx
import pytest
import uvicorn

from core import clock, counts
from core.tables import Attachment, AuditEntry, Message, Ticket
from tests.helpers import auth, client_for, make_agent, message, post_messages
from tests.services import free_port
from tests.web.inbox_helpers import csrf_from, form_post, sign_in
from web.app import create_app

SECRET = "Secret VIP refund for order 7781"
PUBLIC = "Public question about order 7781"


async def _ticket_of(text: str) -> int:
    row = await Message.select(Message.ticket).where(Message.text == text).first()
    return row["ticket"]


async def _desk_with_a_team_only_ticket(client: httpx.AsyncClient) -> SimpleNamespace:
    """A "members" team with one member, an outsider agent, a supervisor, and one customer with a
    team-only ticket (with a file) and an ordinary one."""
    sup_id, sup = await make_agent("supervisor", email="vis-sup@example.com")
    member_id, member = await make_agent("agent", email="vis-member@example.com")
    outsider_id, outsider = await make_agent("agent", email="vis-outsider@example.com")
    made = await client.post("/api/v1/admin/teams", headers=auth(sup), json={
        "name": "VIP desk", "agent_ids": [member_id], "visibility": "members"})
    assert made.status_code == 201, made.text
    team = made.json()["id"]
    sender = {"name": "Vera VIP", "email": "vera@example.com"}
    posted = await post_messages(client, [
        message("vis-1", "vera", SECRET, details=sender, thread_id="vip-thread",
                attachments=[{"filename": "secret-invoice.pdf", "content_type": "application/pdf",
                              "data": base64.b64encode(b"%PDF-1.4 secret").decode()}]),
        message("vis-2", "vera", PUBLIC, details=sender, thread_id="public-thread"),
    ])
    assert posted.status_code == 200, posted.text
    hidden, public = await _ticket_of(SECRET), await _ticket_of(PUBLIC)
    assert hidden != public
    moved = await client.patch(f"/api/v1/tickets/{hidden}", headers=auth(sup), json={"team": team, "add_tags": ["vip"]})
    assert moved.status_code == 200, moved.text
    message_id = (await Message.select(Message.id).where(Message.text == SECRET).first())["id"]
    attachment = (await Attachment.select(Attachment.id).where(Attachment.message == message_id).first())["id"]
    return SimpleNamespace(team=team, hidden=hidden, public=public, message=message_id, attachment=attachment,
                           sup=sup, member=member, outsider=outsider, sup_id=sup_id, member_id=member_id,
                           outsider_id=outsider_id, customer=(await Ticket.select(Ticket.customer).where(
                               Ticket.id == hidden).first())["customer"])


async def test_the_setting_is_validated_audited_and_listed(desk):
    async with client_for(desk) as client:
        d = await _desk_with_a_team_only_ticket(client)
        listed = (await client.get("/api/v1/admin/teams", headers=auth(d.sup))).json()
        assert [(t["name"], t["visibility"]) for t in listed] == [("VIP desk", "members")]
        bad = await client.put(f"/api/v1/admin/teams/{d.team}/visibility", headers=auth(d.sup),
                               json={"visibility": "secret"})
        assert bad.status_code == 400
        missing = await client.put("/api/v1/admin/teams/999999/visibility", headers=auth(d.sup),
                                   json={"visibility": "members"})
        assert missing.status_code == 404
        refused = await client.put(f"/api/v1/admin/teams/{d.team}/visibility", headers=auth(d.member),
                                   json={"visibility": "everyone"})
        assert refused.status_code == 403
        opened = await client.put(f"/api/v1/admin/teams/{d.team}/visibility", headers=auth(d.sup),
                                  json={"visibility": "everyone"})
        assert opened.status_code == 200 and opened.json() == {"id": d.team, "visibility": "everyone"}
        entries = await AuditEntry.select(AuditEntry.action, AuditEntry.actor, AuditEntry.changes).where(
            (AuditEntry.entity_type == "team") & (AuditEntry.entity_id == d.team)).order_by(AuditEntry.id)
        assert [e["action"] for e in entries] == ["create", "set_visibility"]
        changes = entries[-1]["changes"]
        changes = json.loads(changes) if isinstance(changes, str) else changes
        assert changes == {"from": "members", "to": "everyone"} and entries[-1]["actor"] == f"agent:{d.sup_id}"
        # everyone again: the outsider now reads the ticket
        assert (await client.get(f"/api/v1/tickets/{d.hidden}", headers=auth(d.outsider))).status_code == 200


async def test_every_api_path_hides_the_ticket_from_an_outsider_only(desk):
    async with client_for(desk) as client:
        d = await _desk_with_a_team_only_ticket(client)
        for token, sees in ((d.outsider, False), (d.member, True), (d.sup, True)):
            h = auth(token)
            ids = [t["id"] for t in (await client.get("/api/v1/tickets", headers=h)).json()["items"]]
            assert (d.hidden in ids) is sees and d.public in ids
            by_customer = (await client.get("/api/v1/tickets", params={"customer": d.customer}, headers=h)).json()
            assert (d.hidden in [t["id"] for t in by_customer["items"]]) is sees
            by_team = (await client.get("/api/v1/tickets", params={"team": d.team, "tag": "vip"}, headers=h)).json()
            assert [t["id"] for t in by_team["items"]] == ([d.hidden] if sees else [])
            expected = 200 if sees else 404
            for path in ("", "/messages", "/reply-limits", "/templates"):
                answer = await client.get(f"/api/v1/tickets/{d.hidden}{path}", headers=h)
                assert answer.status_code == expected, (path, answer.text)
                if not sees:  # the same answer as a ticket that does not exist
                    assert answer.json()["error"]["code"] == "not_found"
                    assert "7781" not in answer.text and "VIP" not in answer.text
            writes = [("POST", "/draft-check", {"text": "hi"}), ("POST", "/notes", {"text": "a note"}),
                      ("PATCH", "", {"priority": "high"}), ("POST", "/reply", {"text": "We refund it."})]
            for method, path, body in writes:
                answer = await client.request(method, f"/api/v1/tickets/{d.hidden}{path}", headers=h, json=body)
                assert (answer.status_code == 404) is not sees, (method, path, answer.status_code, answer.text)
            for path in ("/spam", "/not-spam", "/claim"):  # a claim of a ticket in no pool: 409 for those who see it
                answer = await client.post(f"/api/v1/tickets/{d.hidden}{path}", headers=h)
                assert (answer.status_code == 404) is not sees, (path, answer.status_code, answer.text)
        # the outsider's refused writes changed nothing
        notes = await Message.count().where((Message.ticket == d.hidden) & (Message.text == "a note"))
        assert notes == 2  # the member's and the supervisor's
        # a missing ticket answers exactly like a hidden one
        missing = await client.get("/api/v1/tickets/999999", headers=auth(d.outsider))
        hidden = await client.get(f"/api/v1/tickets/{d.hidden}", headers=auth(d.outsider))
        assert missing.status_code == hidden.status_code == 404
        assert missing.json()["error"]["message"].replace("999999", "N") == \
            hidden.json()["error"]["message"].replace(str(d.hidden), "N")
        # exports are the admin's: an outsider agent cannot take the customer's data out at all
        assert (await client.get(f"/api/v1/customers/{d.customer}/export", headers=auth(d.outsider))).status_code == 403


async def test_every_inbox_path_hides_the_ticket_from_an_outsider_only(desk):
    async with client_for(desk) as setup:
        d = await _desk_with_a_team_only_ticket(setup)
    for email, sees in (("vis-outsider@example.com", False), ("vis-member@example.com", True),
                        ("vis-sup@example.com", True)):
        async with client_for(desk) as client:
            await sign_in(client, email)
            queue = await client.get("/inbox/q/open")
            assert queue.status_code == 200
            assert (f'href="/inbox/t/{d.hidden}' in queue.text) is sees and f'href="/inbox/t/{d.public}' in queue.text
            found = await client.get("/inbox/q/open", params={"q": "7781"})
            assert (f'href="/inbox/t/{d.hidden}' in found.text) is sees and f'href="/inbox/t/{d.public}' in found.text
            by_team = await client.get("/inbox/q/open", params={"team": d.team})
            assert (f'href="/inbox/t/{d.hidden}' in by_team.text) is sees
            expected = 200 if sees else 404
            page = await client.get(f"/inbox/t/{d.hidden}")
            assert page.status_code == expected
            if not sees:
                assert SECRET not in page.text and "secret-invoice" not in page.text
                assert "does not exist" in page.text  # the page a missing ticket gets
            for path in ("/timeline", "/properties", "/head", "/viewers", "/macros", "/next"):
                answer = await client.get(f"/inbox/t/{d.hidden}{path}", follow_redirects=False)
                assert (answer.status_code == 404) is not sees, (path, answer.status_code)
            for url in (f"/inbox/attachments/{d.attachment}", f"/inbox/messages/{d.message}/body"):
                answer = await client.get(url)
                assert (answer.status_code == 404) is not sees, url
                if not sees:
                    assert b"secret" not in answer.content.lower().replace(b"does not exist", b"")
            for path, data in (("/update", {"priority": "low"}), ("/presence", {}), ("/spam", {}),
                               ("/reply", {"text": "hello", "kind": "note"})):
                answer = await form_post(client, f"/inbox/t/{d.hidden}{path}", data)
                assert (answer.status_code == 404) is not sees, (path, answer.status_code)
                if path == "/spam" and sees:
                    await form_post(client, f"/inbox/t/{d.hidden}/not-spam", {})
            # the customer's other ticket: its timeline and panel leave the hidden ticket out
            other = await client.get(f"/inbox/t/{d.public}")
            assert other.status_code == 200 and PUBLIC in other.text
            assert (SECRET in other.text) is sees and ("secret-invoice.pdf" in other.text) is sees
            assert (f'href="/inbox/t/{d.hidden}"' in other.text) is sees
            timeline = await client.get(f"/inbox/t/{d.public}/timeline")
            assert (SECRET in timeline.text) is sees
            # bulk work: a hidden ticket is one that does not exist, and stays as it was
            bulk = await form_post(client, "/inbox/bulk", {"ids": [str(d.hidden), str(d.public)], "action": "priority",
                                                           "priority": "urgent"})
            assert bulk.status_code == 200
            priority = (await Ticket.select(Ticket.priority).where(Ticket.id == d.hidden).first())["priority"]
            assert (priority == "urgent") is sees
            if not sees:
                assert f"ticket {d.hidden} does not exist" in bulk.text
            await Ticket.update({Ticket.priority: "normal"}).where(Ticket.id.is_in([d.hidden, d.public]))
            # the navigation's counts
            nav = await client.get("/inbox/counts")
            assert nav.status_code == 200
            assert ("VIP desk" in nav.text) is sees


async def test_counts_leave_hidden_tickets_out_and_equal_a_scan(desk):
    async with client_for(desk) as client:
        d = await _desk_with_a_team_only_ticket(client)
        await client.patch(f"/api/v1/tickets/{d.public}", headers=auth(d.sup), json={"add_tags": ["vip"]})
        await Ticket.update({Ticket.sla_due_at: clock.now() - timedelta(hours=3)}).where(Ticket.id == d.hidden)
        await Ticket.update({Ticket.sla_due_at: clock.now() + timedelta(minutes=20)}).where(Ticket.id == d.public)
        hidden = frozenset({d.team})

        async def check(agent_id: int, team_hidden: frozenset[int]) -> dict:
            assert await counts.kept() == await counts.recount()
            now = clock.now()
            shown = await counts.navigation(agent_id, now, team_hidden)
            assert shown == await counts.navigation_by_scan(agent_id, now, team_hidden)
            return shown

        outside = await check(d.outsider_id, hidden)
        inside = await check(d.member_id, frozenset())
        assert (outside["open"], inside["open"]) == (1, 2)
        assert (outside["unassigned"], outside["breached"], outside["due_soon"]) == (1, 0, 1)
        assert inside["breached"] == 1
        assert outside["tags"] == [{"key": "vip", "n": 1}] and inside["tags"] == [{"key": "vip", "n": 2}]
        assert outside["channels"] == [{"key": "api", "n": 1}] and outside["teams"] == []
        # the outsider's nav in the browser says 1 open, the member's 2
        for email, n in (("vis-outsider@example.com", 1), ("vis-member@example.com", 2)):
            async with client_for(desk) as browser:
                await sign_in(browser, email)
                nav = (await browser.get("/inbox/counts")).text
                assert f'href="/inbox/q/open"' in nav
                assert _count_of(nav, "/inbox/q/open") == n
        # assigned to the outsider by a supervisor: now theirs to see, in every figure
        await client.patch(f"/api/v1/tickets/{d.hidden}", headers=auth(d.sup), json={"assignee": d.outsider_id})
        outside = await check(d.outsider_id, hidden)
        assert (outside["open"], outside["mine"], outside["breached"]) == (2, 1, 1)
        assert outside["tags"] == [{"key": "vip", "n": 2}]
        assert (await client.get(f"/api/v1/tickets/{d.hidden}", headers=auth(d.outsider))).status_code == 200
        # moved out of the team: everyone's again; closed: out of every count
        await client.patch(f"/api/v1/tickets/{d.hidden}", headers=auth(d.sup), json={"team": None, "assignee": None})
        assert (await check(d.outsider_id, hidden))["open"] == 2
        await client.patch(f"/api/v1/tickets/{d.hidden}", headers=auth(d.sup), json={"team": d.team, "status": "solved"})
        assert (await check(d.outsider_id, hidden))["open"] == 1


def _count_of(nav: str, href: str) -> int:
    import re

    match = re.search(re.escape(f'href="{href}"') + r'[^>]*>.*?<span class="count">(\d+)</span>', nav, re.S)
    assert match, nav
    return int(match.group(1))


@pytest.mark.parametrize("through_redis", [False, True], ids=["embedded", "redis"])
async def test_live_events_of_a_hidden_ticket_reach_members_only(make_desk, redis_url, through_redis):
    """Real SSE streams under uvicorn: the outsider's stream never names the hidden ticket (not even
    a queue refresh for it), the member's and the supervisor's do; in the embedded mode and through
    Redis (the scaled deployment's live bus)."""
    desk = await make_desk((lambda c: c["relaydesk"].update(redis=redis_url)) if through_redis else None)
    app = create_app(desk=desk)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on", log_config=None,
                                           access_log=False))
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=10) as api:
            d = await _desk_with_a_team_only_ticket(api)
            heard: dict[str, list[str]] = {}
            streams = []
            for email in ("vis-outsider@example.com", "vis-member@example.com", "vis-sup@example.com"):
                browser = httpx.AsyncClient(base_url=base, timeout=10)
                login = await browser.get("/login")
                await browser.post("/login", data={"email": email, "password": "pw", "_csrf_token": csrf_from(login.text),
                                                   "next": "/inbox"})
                heard[email] = []
                ready = asyncio.Event()
                streams.append((browser, asyncio.create_task(_listen(browser, heard[email], ready))))
                await asyncio.wait_for(ready.wait(), 10)
            # the hidden ticket changes and gets a message; then the public one does
            await api.patch(f"/api/v1/tickets/{d.hidden}", headers=auth(d.sup), json={"status": "pending"})
            await post_messages(api, [message("vis-3", "vera", "Another secret line", thread_id="vip-thread")])
            assert await _ticket_of("Another secret line") == d.hidden
            await api.patch(f"/api/v1/tickets/{d.public}", headers=auth(d.sup), json={"status": "pending"})
            for email in heard:
                await _until(lambda e=email: f"ticket-{d.public}" in heard[e], heard)
            await _until(lambda: f"ticket-{d.hidden}" in heard["vis-member@example.com"])
            await _until(lambda: f"ticket-{d.hidden}" in heard["vis-sup@example.com"])
            outsider = heard["vis-outsider@example.com"]
            assert f"ticket-{d.hidden}" not in outsider
            # one queue refresh per public event only: none for the hidden ticket's events
            assert outsider.count("queue") == outsider.count(f"ticket-{d.public}")
            assert heard["vis-member@example.com"].count("queue") > outsider.count("queue")
            # assigned to the outsider: theirs to hear of; taken back: they hear that, and nothing after
            await api.patch(f"/api/v1/tickets/{d.hidden}", headers=auth(d.sup), json={"assignee": d.outsider_id})
            await _until(lambda: outsider.count(f"ticket-{d.hidden}") == 1, heard)
            await api.patch(f"/api/v1/tickets/{d.hidden}", headers=auth(d.sup), json={"assignee": d.member_id})
            await _until(lambda: outsider.count(f"ticket-{d.hidden}") == 2, heard)
            await api.patch(f"/api/v1/tickets/{d.hidden}", headers=auth(d.sup), json={"status": "on-hold"})
            await api.patch(f"/api/v1/tickets/{d.public}", headers=auth(d.sup), json={"status": "open"})
            await _until(lambda: outsider.count(f"ticket-{d.public}") == 2, heard)
            await _until(lambda: heard["vis-member@example.com"].count(f"ticket-{d.hidden}") >= 5, heard)
            assert outsider.count(f"ticket-{d.hidden}") == 2
            for browser, task in streams:
                task.cancel()
                await browser.aclose()
    finally:
        server.should_exit = True
        await serving


async def _listen(browser: httpx.AsyncClient, into: list[str], ready: asyncio.Event) -> None:
    async with browser.stream("GET", "/inbox/live") as stream:
        async for line in stream.aiter_lines():
            if line.startswith(": connected"):
                ready.set()
            if line.startswith("data:"):
                into.append(line[5:].strip())


async def _until(predicate, shown: object = None, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, f"timed out; heard {shown}"
        await asyncio.sleep(0.05)


async def test_the_team_page_edits_the_setting_in_both_languages(desk):
    from core.tables import Agent, Team

    sup_id, _ = await make_agent("supervisor", email="vis-page-sup@example.com")
    member_id, _ = await make_agent("agent", email="vis-page-member@example.com")
    async with client_for(desk) as client:
        await sign_in(client, "vis-page-sup@example.com")
        made = await form_post(client, "/inbox/admin/teams", {"name": "Wholesale", "visibility": "members"},
                               page="/inbox/admin/teams")
        assert made.status_code in (302, 303), made.text
        team = (await Team.select(Team.id, Team.visibility).where(Team.name == "Wholesale").first())
        assert team["visibility"] == "members"
        listed = await client.get("/inbox/admin/teams", params={"edit": team["id"]})
        assert "Team only" in listed.text and 'value="members" selected' in listed.text
        saved = await form_post(client, f"/inbox/admin/teams/{team['id']}", {
            "strategy": "round_robin", "agent_ids": [str(member_id)], "visibility": "everyone"},
            page="/inbox/admin/teams")
        assert saved.status_code in (302, 303), saved.text
        assert (await Team.select(Team.visibility).where(Team.id == team["id"]).first())["visibility"] == "everyone"
        actions = [r["action"] for r in await AuditEntry.select(AuditEntry.action).where(
            (AuditEntry.entity_type == "team") & (AuditEntry.entity_id == team["id"])).order_by(AuditEntry.id)]
        assert actions[0] == "create" and actions[-1] == "set_visibility"
        bad = await form_post(client, f"/inbox/admin/teams/{team['id']}", {
            "strategy": "round_robin", "visibility": "nobody"}, page="/inbox/admin/teams")
        assert bad.status_code == 400 and "visibility" in bad.text
        await Agent.update({Agent.locale: "zh"}).where(Agent.id == sup_id)
        chinese = await client.get("/inbox/admin/teams", params={"edit": team["id"]})
        assert "谁能看到其工单" in chinese.text and "仅团队成员、主管和管理员" in chinese.text and "所有人" in chinese.text


async def test_merge_answers_and_notifications_leave_hidden_tickets_out(desk):
    from core import notifications

    async with client_for(desk) as client:
        d = await _desk_with_a_team_only_ticket(client)
        await post_messages(client, [message("vis-9", "other-buyer", "A different customer", details={"name": "Otto"})])
        target = (await Ticket.select(Ticket.customer).where(
            Ticket.id == await _ticket_of("A different customer")).first())["customer"]
        merged = await client.post(f"/api/v1/customers/{target}/merge", headers=auth(d.outsider),
                                   json={"source_id": d.customer})
        assert merged.status_code == 200, merged.text
        assert merged.json()["tickets"] == [d.public]  # the hidden one moved too, unnamed
        assert (await Ticket.select(Ticket.customer).where(Ticket.id == d.hidden).first())["customer"] == target
        split = await client.post(f"/api/v1/customers/{d.customer}/split", headers=auth(d.member))
        assert split.status_code == 200 and sorted(split.json()["tickets"]) == sorted([d.hidden, d.public])
        # a rule told the outsider about the hidden ticket: neither the list nor the badge shows it
        await notifications.notify({"agent": d.outsider_id}, f"Look at {SECRET}", ticket_id=d.hidden)
        await notifications.notify({"agent": d.outsider_id}, "Look at the public one", ticket_id=d.public)
        await notifications.notify({"agent": d.member_id}, f"Look at {SECRET}", ticket_id=d.hidden)
    for email, sees in (("vis-outsider@example.com", False), ("vis-member@example.com", True)):
        async with client_for(desk) as browser:
            await sign_in(browser, email)
            listed = await browser.get("/inbox/notifications")
            assert (SECRET in listed.text) is sees
            badge = await browser.get("/inbox/notifications/badge")
            assert '<span class="count">1</span>' in badge.text


async def test_saved_views_and_filtered_search_leave_hidden_tickets_out(desk):
    """The lists saved views and the API's search read go through the one where-clause
    (core.ticket_filter.where), which takes the viewer: a shared view counts and lists the hidden
    ticket for a member and a supervisor, never for an outsider; nor does ?q= with filters."""
    async with client_for(desk) as client:
        d = await _desk_with_a_team_only_ticket(client)
        made = await client.post("/api/v1/views", headers=auth(d.sup), json={
            "name": "Order 7781", "shared": True, "filters": {"status": "open", "tag": "vip"}})
        assert made.status_code == 201, made.text
        view = made.json()["id"]
        for token, sees in ((d.outsider, False), (d.member, True), (d.sup, True)):
            listed = (await client.get("/api/v1/views?counts=true", headers=auth(token))).json()
            assert [v["count"] for v in listed if v["id"] == view] == [1 if sees else 0]
            through_view = (await client.get(f"/api/v1/tickets?view={view}", headers=auth(token))).json()
            assert [t["id"] for t in through_view["items"]] == ([d.hidden] if sees else [])
            found = (await client.get("/api/v1/tickets", headers=auth(token),
                                      params={"q": "7781", "status": "open"})).json()
            assert sorted(t["id"] for t in found["items"]) == sorted([d.hidden, d.public] if sees else [d.public])
    async with client_for(desk) as browser:
        await sign_in(browser, "vis-outsider@example.com")
        page = await browser.get(f"/inbox/v/{view}")
        assert page.status_code == 200 and SECRET[:20] not in page.text
        searched = await browser.get("/inbox/q/open", params={"q": "7781", "status": "open"})
        assert SECRET[:20] not in searched.text and PUBLIC[:20] in searched.text
    async with client_for(desk) as member:
        await sign_in(member, "vis-member@example.com")
        assert SECRET[:20] in (await member.get(f"/inbox/v/{view}")).text
        assert SECRET[:20] in (await member.get("/inbox/q/open", params={"q": "7781", "status": "open"})).text
