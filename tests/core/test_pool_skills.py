"""The claim pool (low-priority work agents claim, a per-agent claim cap, an alert for tickets left
too long, fired once by the sweeper) and skills matching, on both databases, on a controlled clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core import routing
from core.errors import Conflict, Forbidden
from core.plugins import hookimpl
from core.tables import Agent, AuditEntry, Notification, Ticket
from tests.core.policy_helpers import T0, make_team, ticket_of

class LowPriority:
    """Messages that say "whenever" are low priority (a classifier, as a plugin would be)."""

    @staticmethod
    @hookimpl
    def classify(message, ticket):
        if "whenever" in message.text:
            return {"priority": "low"}
        if "refund" in message.text:
            return {"intent": "refund", "tags": ["billing"]}
        return None


async def test_low_priority_goes_to_the_pool_and_is_claimed(make_desk, at):
    desk = await make_desk(run_jobs=False, extra_plugins=[("low", LowPriority)])
    team, (a, b) = await make_team("pool", [{}, {}], pool_priorities=["low"], claim_cap=2, pool_alert_minutes=60)
    pooled = await ticket_of(desk, "m1", "c1", "Please answer whenever you can")
    normal = await ticket_of(desk, "m2", "c2", "Where is my order?")
    assert pooled["assignee"] is None and pooled["team"] == team
    assert pooled["pooled_at"] == T0 and pooled["pool_alert_due_at"] == T0 + timedelta(minutes=60)
    assert "priority low: claim pool of pool" in pooled["route_reason"]
    assert normal["assignee"] in (a, b) and normal["pooled_at"] is None
    assert [t["id"] for t in await routing.pool_tickets([team])] == [pooled["id"]]

    claimed = await routing.claim(desk, pooled["id"], b)
    assert claimed["assignee"] == b and claimed["pooled_at"] is None and claimed["pool_alert_due_at"] is None
    assert claimed["claimed_at"] == T0 and "claimed from the pool of team pool" in claimed["route_reason"]
    with pytest.raises(Conflict) as info:
        await routing.claim(desk, pooled["id"], a)
    assert "not in a claim pool" in str(info.value)
    assert await AuditEntry.count().where(AuditEntry.action == "claim") == 1


async def test_claim_cap_refuses_with_a_clear_message(make_desk, at):
    desk = await make_desk(run_jobs=False, extra_plugins=[("low", LowPriority)])
    team, (a,) = await make_team("capped", [{}], pool_priorities=["low"], claim_cap=2)
    outsider = (await Agent.insert(Agent(name="Out", email="out@example.com", availability="online")).returning(Agent.id))[0]["id"]
    tickets = [await ticket_of(desk, f"m{i}", f"c{i}", "whenever") for i in range(3)]
    with pytest.raises(Forbidden) as info:
        await routing.claim(desk, tickets[0]["id"], outsider)
    assert "only members of team capped" in str(info.value)
    await routing.claim(desk, tickets[0]["id"], a)
    await routing.claim(desk, tickets[1]["id"], a)
    with pytest.raises(Conflict) as info:
        await routing.claim(desk, tickets[2]["id"], a)
    assert "claim cap reached: you hold 2 claimed open ticket(s) and team capped allows 2" in str(info.value)
    assert (await Ticket.select(Ticket.assignee).where(Ticket.id == tickets[2]["id"]).first())["assignee"] is None
    # solving one frees a slot
    from core.tickets import update_ticket

    await update_ticket(desk, tickets[0]["id"], actor="agent:1", status="solved")
    assert (await routing.claim(desk, tickets[2]["id"], a))["assignee"] == a


async def test_pool_alert_fires_once_for_tickets_left_too_long(make_desk, at):
    events = []

    class Listener:
        @staticmethod
        @hookimpl
        def ticket_event(event):
            if event.name == "pool_alert":
                events.append(event.ticket_id)

    desk = await make_desk(run_jobs=False, extra_plugins=[("low", LowPriority), ("listener", Listener)])
    team, (a, b) = await make_team("alerting", [{}, {}], pool_priorities=["low"], pool_alert_minutes=30)
    left = await ticket_of(desk, "m1", "c1", "whenever")
    taken = await ticket_of(desk, "m2", "c2", "whenever")
    await routing.claim(desk, taken["id"], a)
    at(T0 + timedelta(minutes=29))
    assert (await routing.sweep_pool(desk)).seen == 0  # read by index: nothing due yet
    at(T0 + timedelta(minutes=31))
    first = await routing.sweep_pool(desk)
    again = await routing.sweep_pool(desk)
    assert (first.alerts, again.alerts, again.seen) == (1, 0, 0)
    assert events == [left["id"]]
    notes = await Notification.select().where(Notification.ticket == left["id"]).order_by(Notification.agent)
    assert [n["agent"] for n in notes] == [a, b] and all(n["kind"] == "pool_alert" for n in notes)
    assert "has waited 31 min in the claim pool of team alerting" in notes[0]["text"]
    assert await AuditEntry.count().where(AuditEntry.action == "pool_alert") == 1
    assert desk.registry.jobs["pool_sweep"].every


async def test_reassignment_of_a_low_priority_ticket_returns_it_to_the_pool(make_desk, at):
    desk = await make_desk(run_jobs=False, extra_plugins=[("low", LowPriority)])
    team, (a,) = await make_team("back", [{}], pool_priorities=["low"])
    ticket = await ticket_of(desk, "m1", "c1", "whenever")
    await routing.claim(desk, ticket["id"], a)
    await routing.set_availability(desk, a, "offline")
    row = await Ticket.select().where(Ticket.id == ticket["id"]).first()
    assert row["assignee"] is None and row["pooled_at"] is not None and row["claimed_at"] is None
    assert row["route_reason"].startswith(f"reassigned: agent {a} went offline") and "claim pool" in row["route_reason"]


async def test_skills_match_intent_and_tags(make_desk):
    desk = await make_desk(run_jobs=False, extra_plugins=[("low", LowPriority)])
    _, (plain, billing) = await make_team("experts", [{"skills": ["shipping"]}, {"skills": ["Refund"]}],
                                          strategy="round_robin")
    refund = await ticket_of(desk, "m1", "c1", "I want a refund")
    assert refund["assignee"] == billing and "skill refund" in refund["route_reason"]
    # nobody lists the ticket's tags as a skill: not a requirement, the strategy decides
    other = await ticket_of(desk, "m2", "c2", "Hello there")
    assert "skill" not in other["route_reason"]


async def test_language_beats_skill_and_translation_path_is_recorded(make_desk):
    desk = await make_desk(run_jobs=False, extra_plugins=[("low", LowPriority)])
    _, (german, billing) = await make_team("mixed", [{"languages": ["de"], "skills": []},
                                                     {"languages": ["en"], "skills": ["refund"]}])
    de = await ticket_of(desk, "m1", "c1", "Ich will einen refund", language="de")
    assert de["assignee"] == german
    assert "no skilled agent reads de" in de["route_reason"] and "reads de" in de["route_reason"]
    ja = await ticket_of(desk, "m2", "c2", "refund please", language="ja")
    assert ja["assignee"] == billing and "no agent reads ja: translation path" in ja["route_reason"]


async def test_skills_match_can_be_switched_off(make_desk):
    desk = await make_desk(run_jobs=False, extra_plugins=[("low", LowPriority)])
    _, (first, billing) = await make_team("off", [{}, {"skills": ["refund"]}], skills_match=False)
    refund = await ticket_of(desk, "m1", "c1", "refund")
    assert refund["assignee"] == first and "skill" not in refund["route_reason"]
