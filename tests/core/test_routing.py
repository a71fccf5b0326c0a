"""Routing strategies per team, on both databases: round robin, least loaded with capacity, language
match with the translation path, sticky, VIP and keyword exceptions, and reassignment when an agent
goes offline. Each decision's reason is stored on the ticket."""

from __future__ import annotations


from core import routing
from core.plugins import hookimpl
from core.tables import Agent, Customer, Ticket
from tests.core.policy_helpers import make_team, ticket_of


async def test_round_robin_cycles_through_online_agents(desk):
    team, (a, b, c) = await make_team("rr", [{}, {"availability": "offline"}, {}], strategy="round_robin")
    got = [await ticket_of(desk, f"m{i}", f"cust-{i}") for i in range(4)]
    assert [t["assignee"] for t in got] == [a, c, a, c]
    assert all(t["team"] == team for t in got)
    assert "round robin" in got[0]["route_reason"] and "channel api" in got[0]["route_reason"]


async def test_least_loaded_respects_capacity(desk):
    team, (a, b) = await make_team("ll", [{"capacity": 1}, {"capacity": 5}], strategy="least_loaded")
    first = await ticket_of(desk, "m1", "c1")
    second = await ticket_of(desk, "m2", "c2")
    third = await ticket_of(desk, "m3", "c3")
    assert first["assignee"] == a  # both empty: lowest id
    assert second["assignee"] == b  # a is at its capacity of 1
    assert third["assignee"] == b
    assert "least loaded" in third["route_reason"] and "had 1 open of 5" in third["route_reason"]


async def test_nobody_with_room_leaves_it_in_the_team_queue(desk):
    team, _ = await make_team("full", [{"capacity": 0}], strategy="least_loaded")
    ticket = await ticket_of(desk, "m1", "c1")
    assert ticket["assignee"] is None and ticket["team"] == team
    assert "at capacity" in ticket["route_reason"]


async def test_language_match_and_translation_path(desk):
    _, (en, de) = await make_team("lang", [{"languages": ["en"]}, {"languages": ["de", "en"]}])
    german = await ticket_of(desk, "m1", "c1", "Wo ist meine Bestellung?", language="de-DE")
    assert german["assignee"] == de and "reads de" in german["route_reason"]
    japanese = await ticket_of(desk, "m2", "c2", "注文はどこですか", language="ja")
    assert japanese["assignee"] in (en, de)
    assert "no agent reads ja: translation path" in japanese["route_reason"]


async def test_sticky_returns_to_last_helper_if_available(desk):
    _, (a, b) = await make_team("sticky", [{}, {}], sticky=True)
    first = await ticket_of(desk, "m1", "same-customer", thread_key="t1")
    other = await ticket_of(desk, "m2", "someone-else", thread_key="t2")
    again = await ticket_of(desk, "m3", "same-customer", thread_key="t3")
    assert first["id"] != again["id"]
    assert first["assignee"] == a and other["assignee"] == b
    assert again["assignee"] == a and "sticky" in again["route_reason"]


async def test_vip_and_keyword_exceptions_choose_the_team(desk):
    general, _ = await make_team("general", [{}], position=0)
    senior, (senior_agent,) = await make_team("senior", [{}], position=1, vip_tags=["vip"])
    managers, (manager,) = await make_team("managers", [{}], position=2, keywords=["chargeback", "lawsuit"])
    plain = await ticket_of(desk, "m1", "c1")
    assert plain["team"] == general
    await Customer.update({Customer.tags: ["vip"]}).where(Customer.id == plain["customer"])
    vip = await ticket_of(desk, "m2", "c1", thread_key="new-thread")
    assert vip["team"] == senior and vip["assignee"] == senior_agent
    assert "customer tagged 'vip'" in vip["route_reason"]
    angry = await ticket_of(desk, "m3", "c3", "I will file a CHARGEBACK today")
    assert angry["team"] == managers and angry["assignee"] == manager
    assert "keyword 'chargeback'" in angry["route_reason"]


async def test_no_team_configured_keeps_the_default(desk):
    ticket = await ticket_of(desk, "m1", "c1")
    assert ticket["assignee"] is None and ticket["route_reason"].startswith("default:")


async def test_agent_going_offline_hands_tickets_over(desk):
    events = []

    class Listener:
        @staticmethod
        @hookimpl
        def ticket_event(event):
            events.append(event)

    desk.registry.pm.register(Listener, name="listener")
    try:
        _, (a, b) = await make_team("handover", [{}, {}], strategy="least_loaded")
        t1 = await ticket_of(desk, "m1", "c1")
        t2 = await ticket_of(desk, "m2", "c2")
        assert (t1["assignee"], t2["assignee"]) == (a, b)
        moved = await routing.set_availability(desk, a, "offline")
        assert moved == 1
        t1 = await Ticket.select().where(Ticket.id == t1["id"]).first()
        assert t1["assignee"] == b
        assert t1["route_reason"].startswith(f"reassigned: agent {a} went offline")
        assert [e.data["assignee"] for e in events if e.name == "assigned"] == [b]
        # Nobody left: the ticket stays in the team queue, unassigned, and says why.
        await routing.set_availability(desk, b, "offline")
        t1 = await Ticket.select().where(Ticket.id == t1["id"]).first()
        assert t1["assignee"] is None and "no agent online" in t1["route_reason"]
    finally:
        desk.registry.pm.unregister(name="listener")


async def test_reassign_job_catches_offline_agents(desk):
    _, (a, b) = await make_team("job", [{}, {}], strategy="least_loaded")
    t1 = await ticket_of(desk, "m1", "c1")
    assert t1["assignee"] == a
    # Availability changed elsewhere (the agents API): the periodic job notices.
    await Agent.update({Agent.availability: "offline"}).where(Agent.id == a)
    await routing.reassign_offline_job({"desk": desk})
    t1 = await Ticket.select().where(Ticket.id == t1["id"]).first()
    assert t1["assignee"] == b


async def test_hook_route_sees_the_snapshot_without_io(desk):
    seen = []

    class Spy:
        @staticmethod
        @hookimpl
        def route(ticket, desk):
            seen.append(ticket["routing"])
            return None

    desk.registry.pm.register(Spy, name="spy")
    try:
        team, (a,) = await make_team("spy", [{"languages": ["fr"]}])
        await ticket_of(desk, "m1", "c1")
    finally:
        desk.registry.pm.unregister(name="spy")
    snapshot = seen[0]
    assert [t.team for t in snapshot.teams] == [team]
    assert snapshot.teams[0].agents[0].languages == frozenset({"fr"})


async def test_overflow_when_the_queue_passes_the_threshold(desk):
    backup, (helper,) = await make_team("backup", [{}], position=1, channels=["none"])
    busy, _ = await make_team("busy", [{"availability": "away"}], position=0,
                              overflow_team=backup, overflow_threshold=2)
    queued = [await ticket_of(desk, f"m{i}", f"c{i}") for i in range(3)]
    assert [t["team"] for t in queued] == [busy, busy, backup]
    assert [t["assignee"] for t in queued] == [None, None, helper]
    assert "queue of busy at 2 (threshold 2): overflow to backup" in queued[2]["route_reason"]
    # A fresh snapshot counts the queue from the database the same way.
    routing.invalidate()
    again = await ticket_of(desk, "m9", "c9")
    assert again["team"] == backup


async def test_only_agents_on_shift_in_their_time_zone(desk):
    from datetime import datetime, timezone

    from core import clock
    from core.tables import AgentShift

    _, (shanghai, anywhere) = await make_team("shifts", [{"timezone": "Asia/Shanghai"}, {}], strategy="least_loaded")
    await AgentShift.insert(AgentShift(agent=shanghai, hours={d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}))
    current = [datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)]  # Monday 10:00 in Shanghai
    clock.set_clock(lambda: current[0])
    try:
        routing.invalidate()
        day = await ticket_of(desk, "m1", "c1")
        current[0] = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)  # 20:00 in Shanghai
        routing.invalidate()
        night = await ticket_of(desk, "m2", "c2")
        night2 = await ticket_of(desk, "m3", "c3")
    finally:
        clock.set_clock(None)
    assert day["assignee"] == shanghai
    assert (night["assignee"], night2["assignee"]) == (anywhere, anywhere)


async def test_without_routing_settings_offline_agents_keep_their_tickets(desk):
    from core.tickets import update_ticket

    agent = (await Agent.insert(Agent(name="Night", email="night@example.com", availability="online")).returning(Agent.id))[0]["id"]
    ticket = await ticket_of(desk, "m1", "c1")
    await update_ticket(desk, ticket["id"], actor="agent:1", assignee=agent)
    assert await routing.set_availability(desk, agent, "offline") == 0
    await routing.reassign_offline_job({"desk": desk})
    assert (await Ticket.select(Ticket.assignee).where(Ticket.id == ticket["id"]).first())["assignee"] == agent
