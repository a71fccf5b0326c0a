"""The inbox's filter bar, saved views (with their counts in the navigation) and a search that keeps
the filters and pages past 50, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta

from core import clock
from core.tables import ChannelAccount, SavedView, Team, Ticket, TicketTag
from tests.helpers import client_for, make_agent, message, post_messages
from tests.web.inbox_helpers import csrf_from, form_post, sign_in


def ticket_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'class="ticket-row[^"]*" data-ticket="(\d+)"', html)]


def nav_views(html: str) -> dict[str, str]:
    nav = html.split('id="queue-nav"')[1].split("</nav>")[0]
    return dict(re.findall(r'data-view="\d+"><span>([^<]+?)(?: <span[^>]*>[^<]*</span>)?</span><span class="count"[^>]*>([^<]+)</span>', nav))


async def _tickets(client, n: int, text: str = "question") -> list[int]:
    before = {r["id"] for r in await Ticket.select(Ticket.id)}
    await post_messages(client, [message(f"m{text}{i}", sender=f"{text}{i}", text=f"{text} {i}") for i in range(n)])
    return sorted(r["id"] for r in await Ticket.select(Ticket.id) if r["id"] not in before)


async def test_each_filter_narrows_the_queue(desk):
    me, _ = await make_agent("agent", email="flt@example.com")
    other, _ = await make_agent("agent", email="other@example.com")
    async with client_for(desk) as client:
        ids = await _tickets(client, 8)
        now = clock.now()
        team = (await Team.insert(Team(name="Returns")).returning(Team.id))[0]["id"]
        account = (await ChannelAccount.select(ChannelAccount.id).first())["id"]
        await Ticket.update({Ticket.priority: "urgent", Ticket.assignee: me, Ticket.language: "zh",
                             Ticket.sla_due_at: now - timedelta(minutes=5)}).where(Ticket.id == ids[0])
        await Ticket.update({Ticket.status: "pending", Ticket.team: team, Ticket.assignee: other,
                             Ticket.sla_due_at: now + timedelta(minutes=20)}).where(Ticket.id == ids[1])
        await Ticket.update({Ticket.status: "solved", Ticket.sla_due_at: None,
                             Ticket.created_at: now - timedelta(days=40),
                             Ticket.updated_at: now - timedelta(days=30)}).where(Ticket.id == ids[2])
        await Ticket.update({Ticket.sla_due_at: now + timedelta(days=2)}).where(Ticket.id.is_in(ids[3:]))
        await TicketTag.insert(TicketTag(ticket=ids[3], tag="vip"))
        await sign_in(client, "flt@example.com")

        async def listed(params: dict, queue: str = "open") -> list[int]:
            page = await client.get(f"/inbox/q/{queue}", params=params)
            assert page.status_code == 200, page.text[:300]
            return sorted(ticket_ids(page.text))

        assert await listed({"status": "pending"}) == [ids[1]]
        assert await listed({"status": "solved"}, "open") == []  # the queue (open) and the filter both hold
        assert await listed({"status": "solved"}, "spam") == []
        assert await listed({"priority": "urgent"}) == [ids[0]]
        assert await listed({"assignee": "me"}) == [ids[0]]
        assert await listed({"assignee": str(other)}) == [ids[1]]
        assert await listed({"assignee": "none"}) == sorted(ids[3:])
        assert await listed({"team": str(team)}) == [ids[1]]
        assert await listed({"team": "none", "assignee": "none"}) == sorted(ids[3:])
        assert await listed({"tag": "VIP"}) == [ids[3]]
        assert await listed({"language": "zh"}) == [ids[0]]
        assert await listed({"sla": "breached"}) == [ids[0]]
        assert await listed({"sla": "due_soon"}) == [ids[1]]
        assert await listed({"sla": "ok"}) == sorted(ids[3:])
        assert await listed({"channel": "api", "account": str(account), "priority": "urgent"}) == [ids[0]]
        assert await listed({"channel": "email"}) == []
        # dates: the solved ticket is the only old one (every status through the pending queue's opposite)
        old_day = (now - timedelta(days=40)).date().isoformat()
        page = await client.get("/inbox/q/open", params={"created_to": old_day})
        assert ticket_ids(page.text) == []  # it is solved: not in the open queue
        found = await client.get("/inbox/q/open", params={"q": "question", "created_to": old_day})
        assert ticket_ids(found.text) == [ids[2]]  # a search looks beyond the queue, within the filters
        found = await client.get("/inbox/q/open", params={"q": "question", "updated_from": (now - timedelta(days=1)).date().isoformat()})
        assert sorted(ticket_ids(found.text)) == sorted(set(ids) - {ids[2]})
        found = await client.get("/inbox/q/open", params={"q": "question", "sla": "none"})
        assert ticket_ids(found.text) == [ids[2]]
        # sorts
        newest = ticket_ids((await client.get("/inbox/q/open", params={"sort": "newest"})).text)
        assert newest == sorted(set(ids) - {ids[2]}, reverse=True)
        oldest = ticket_ids((await client.get("/inbox/q/open", params={"sort": "oldest"})).text)
        assert oldest == sorted(set(ids) - {ids[2]})
        due = ticket_ids((await client.get("/inbox/q/open", params={"sort": "due"})).text)
        assert due[:2] == [ids[0], ids[1]]
        # the filter bar shows what is chosen, and the header search keeps it
        page = await client.get("/inbox/q/open", params={"priority": "urgent", "sla": "breached"})
        assert '<option value="urgent" selected>' in page.text
        search_form = page.text.split('role="search"')[1].split("</form>")[0]
        assert 'name="priority" value="urgent"' in search_form and 'name="sla" value="breached"' in search_form


async def test_bad_filter_values_are_400(desk):
    await make_agent("agent", email="bad@example.com")
    async with client_for(desk) as client:
        await sign_in(client, "bad@example.com")
        for params in ({"status": "nope"}, {"priority": "meh"}, {"sla": "late"}, {"sort": "random"},
                       {"assignee": "someone"}, {"assignee": str(2**40)}, {"team": "-1"}, {"account": "x"},
                       {"created_from": "2026-13-40"}, {"updated_to": "yesterday"},
                       {"created_from": "2026-11-11T00:00:00"}, {"tag": "a" * 65}, {"cursor": "bm90IGEgY3Vyc29y"},
                       {"q": "parcel", "cursor": "eyJpIjoxLCJzIjoiZHVlIiwidiI6bnVsbH0"}):
            response = await client.get("/inbox/q/open", params=params)
            assert response.status_code == 400, (params, response.status_code)
        response = await client.get("/inbox/q/open?channel=a%00b")
        assert response.status_code == 400
        assert (await client.get("/inbox/v/999")).status_code == 404


async def test_saved_view_lists_counts_and_stays_private(desk):
    me, _ = await make_agent("agent", email="v1@example.com")
    await make_agent("agent", email="v2@example.com")
    await make_agent("supervisor", email="boss@example.com")
    async with client_for(desk) as client:
        ids = await _tickets(client, 5)
        await Ticket.update({Ticket.priority: "high"}).where(Ticket.id.is_in(ids[:3]))
        await Ticket.update({Ticket.assignee: me}).where(Ticket.id.is_in(ids[:2]))
        await sign_in(client, "v1@example.com")
        # save "mine, high" from the Mine queue with the priority filter
        page = await client.get("/inbox/q/mine", params={"priority": "high"})
        created = await client.post("/inbox/views", data={"name": "My hot ones", "queue": "mine", "priority": "high",
                                                          "_csrf_token": csrf_from(page.text)}, follow_redirects=False)
        assert created.status_code in (302, 303)
        view_url = created.headers["location"]
        row = await SavedView.select().first().output(load_json=True)
        assert row["filters"] == {"status": "open", "assignee": "me", "priority": "high"} and not row["shared"]
        page = await client.get(view_url)
        assert sorted(ticket_ids(page.text)) == sorted(ids[:2])
        assert nav_views(page.text) == {"My hot ones": "2"}
        # an agent may not share
        refused = await form_post(client, "/inbox/views", {"name": "Team", "priority": "high", "shared": "1"})
        assert refused.status_code == 403
        # edit: change the filters from the filter bar and save them into the view
        edited = await client.get(view_url, params={"edited": "1", "priority": "high"})
        assert sorted(ticket_ids(edited.text)) == sorted(ids[:3])
        saved = await form_post(client, view_url, {"name": "Hot", "save_filters": "1", "priority": "high"}, page=view_url)
        assert saved.status_code in (302, 303)
        assert nav_views((await client.get(view_url)).text) == {"Hot": "3"}
        # another agent neither sees nor changes it
        async with client_for(desk) as other:
            await sign_in(other, "v2@example.com")
            assert (await other.get(view_url)).status_code == 404
            assert nav_views((await other.get("/inbox/q/open")).text) == {}
            assert (await form_post(other, f"{view_url}/delete", {})).status_code == 404
        # a supervisor shares one; agents see it (with their own "me") but cannot change it
        async with client_for(desk) as boss:
            await sign_in(boss, "boss@example.com")
            shared = await form_post(boss, "/inbox/views", {"name": "Urgent for me", "assignee": "me", "shared": "1"})
            shared_url = shared.headers["location"]
            assert nav_views((await boss.get("/inbox/q/open")).text) == {"Urgent for me": "0"}
        assert nav_views((await client.get("/inbox/q/open")).text) == {"Urgent for me": "2", "Hot": "3"}
        assert (await form_post(client, shared_url, {"name": "mine now"}, page=shared_url)).status_code == 403
        assert (await form_post(client, f"{shared_url}/delete", {}, page=shared_url)).status_code == 403
        # the owner deletes their own
        assert (await form_post(client, f"{view_url}/delete", {})).status_code in (302, 303)
        assert nav_views((await client.get("/inbox/q/open")).text) == {"Urgent for me": "2"}


async def test_view_count_is_capped(desk, monkeypatch):
    from core import ticket_lists

    monkeypatch.setattr(ticket_lists, "COUNT_CAP", 3)
    await make_agent("agent", email="cap@example.com")
    async with client_for(desk) as client:
        await _tickets(client, 5)
        await sign_in(client, "cap@example.com")
        await form_post(client, "/inbox/views", {"name": "Everything open", "status": "open"})
        assert nav_views((await client.get("/inbox/q/open")).text) == {"Everything open": "3+"}


async def test_search_keeps_filters_and_pages_past_50(desk):
    await make_agent("agent", email="s@example.com")
    async with client_for(desk) as client:
        wanted = await _tickets(client, 62, "parcel")
        others = await _tickets(client, 8, "parcel-other")  # "parcel" too, but not urgent
        await Ticket.update({Ticket.priority: "urgent"}).where(Ticket.id.is_in(wanted))
        await sign_in(client, "s@example.com")
        first = await client.get("/inbox/q/open", params={"q": "parcel", "priority": "urgent"})
        seen = ticket_ids(first.text)
        assert len(seen) == 50
        link = re.search(r'class="more" href="([^"]+)"', first.text).group(1).replace("&amp;", "&")
        assert "q=parcel" in link and "priority=urgent" in link
        second = await client.get(link)
        seen += ticket_ids(second.text)
        assert sorted(seen) == sorted(wanted) and len(set(seen)) == 62
        assert 'class="more"' not in second.text
        everything = ticket_ids((await client.get("/inbox/q/open", params={"q": "parcel"})).text)
        assert len(everything) == 50 and set(everything) & set(others)
        # within a saved view: the search keeps the view's filters
        created = await form_post(client, "/inbox/views", {"name": "Urgent", "priority": "urgent"})
        view_url = created.headers["location"]
        in_view = await client.get(view_url, params={"q": "parcel"})
        assert set(ticket_ids(in_view.text)) <= set(wanted) and len(ticket_ids(in_view.text)) == 50
        link = re.search(r'class="more" href="([^"]+)"', in_view.text).group(1).replace("&amp;", "&")
        assert len(ticket_ids((await client.get(link)).text)) == 12


async def test_next_ticket_follows_the_queue_order(desk):
    await make_agent("agent", email="jk@example.com")
    async with client_for(desk) as client:
        ids = await _tickets(client, 3)
        now = clock.now()
        for n, ticket in enumerate(reversed(ids)):  # the newest is due first
            await Ticket.update({Ticket.sla_due_at: now + timedelta(minutes=n)}).where(Ticket.id == ticket)
        await sign_in(client, "jk@example.com")
        step = await client.get(f"/inbox/t/{ids[2]}/next", params={"queue": "open"}, follow_redirects=False)
        assert step.headers["location"] == f"/inbox/t/{ids[1]}?queue=open"
        back = await client.get(f"/inbox/t/{ids[1]}/next", params={"queue": "open", "step": "-1"}, follow_redirects=False)
        assert back.headers["location"] == f"/inbox/t/{ids[2]}?queue=open"


async def test_a_view_count_is_kept_a_few_seconds(desk, monkeypatch):
    import asyncio

    from web.inbox import queues

    monkeypatch.setattr(queues, "VIEW_COUNT_SECONDS", 0.5)
    await make_agent("agent", email="kept@example.com")
    async with client_for(desk) as client:
        await _tickets(client, 2, "kept")
        await sign_in(client, "kept@example.com")
        await form_post(client, "/inbox/views", {"name": "Unsolved", "status": "open"})
        assert nav_views((await client.get("/inbox/q/open")).text) == {"Unsolved": "2"}
        await _tickets(client, 1, "later")
        assert nav_views((await client.get("/inbox/q/open")).text) == {"Unsolved": "2"}  # kept
        await asyncio.sleep(0.6)
        assert nav_views((await client.get("/inbox/q/open")).text) == {"Unsolved": "3"}
