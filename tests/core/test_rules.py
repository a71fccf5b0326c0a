"""Automation rules on both databases: triggers, conditions, actions, escalation on SLA events,
plugin events, and loop protection."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core import clock, rules, sla
from core.events import Event, publish
from core.inbound import ingest
from core.tables import Agent, AuditEntry, AutomationRule, Message, Ticket, TicketTag
from core.tickets import update_ticket
from core.types import InboundMessage


def account(desk):
    return desk.registry.account("api_channel", "main")


async def open_ticket(desk, text="Hi", external_id="m1", sender="c1", **kw) -> int:
    result = await ingest(desk, account(desk), [InboundMessage(external_id=external_id, sender_handle=sender, text=text, **kw)])
    return result[0].ticket_id


async def add_rule(event: str, conditions: dict, actions: list, position: int = 0) -> int:
    rules.validate(event, conditions, actions)
    rows = await AutomationRule.insert(AutomationRule(name=f"{event}-{position}", event=event, position=position,
                                                      conditions=conditions, actions=actions)).returning(AutomationRule.id)
    rules.invalidate()
    return rows[0]["id"]


async def tags(ticket_id: int) -> set[str]:
    return {r["tag"] for r in await TicketTag.select(TicketTag.tag).where(TicketTag.ticket == ticket_id)}


async def test_created_rule_tags_and_prioritizes_when_text_matches(desk):
    await add_rule("created", {"text_contains": ["refund"], "channel": [account(desk).channel_type]},
                   [{"tag": "refund"}, {"priority": "high"}])
    hit = await open_ticket(desk, "I want a REFUND please")
    miss = await open_ticket(desk, "Where is my parcel?", "m2", "c2")
    assert await tags(hit) == {"refund"}
    assert (await Ticket.select(Ticket.priority).where(Ticket.id == hit).first())["priority"] == "high"
    assert await tags(miss) == set()
    fired = await AuditEntry.select().where(AuditEntry.action == "rule_fired")
    assert [f["entity_id"] for f in fired] == [hit]


async def test_regex_language_and_customer_reply(desk):
    await add_rule("customer_replied", {"text_regex": r"order\s*#?\d{4,}", "language": ["de"]}, [{"tag": "has-order"}])
    ticket = await open_ticket(desk, "Hallo", language="de")
    await open_ticket(desk, "Meine Bestellung order #12345", "m2", language="de")
    assert await tags(ticket) == {"has-order"}


async def test_reply_from_template_and_note(desk):
    await add_rule("created", {}, [{"reply": "Thanks! We got your message about {{ ticket.subject }}."},
                                   {"note": "auto-acknowledged"}])
    ticket = await open_ticket(desk, "Broken zipper")
    rows = await Message.select(Message.direction, Message.text).where(Message.ticket == ticket).order_by(Message.id)
    texts = [(r["direction"], r["text"]) for r in rows]
    assert ("outbound", "Thanks! We got your message about Broken zipper.") in texts
    assert any(text == "auto-acknowledged" for _, text in texts)


async def test_sla_breach_escalates(make_desk):
    desk = await make_desk(run_jobs=False)
    supervisor = (await Agent.insert(Agent(name="Sup", email="sup@example.com", availability="online")).returning(Agent.id))[0]["id"]
    await add_rule("sla_breach", {}, [{"priority": "urgent"}, {"assign": supervisor}, {"tag": "escalated"}])
    t0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
    clock.set_clock(lambda: t0)
    try:
        ticket = await open_ticket(desk)
        await sla.sweep(desk, now=t0 + timedelta(hours=9))
    finally:
        clock.set_clock(None)
    row = await Ticket.select().where(Ticket.id == ticket).first()
    assert (row["priority"], row["assignee"]) == ("urgent", supervisor)
    assert await tags(ticket) == {"escalated"}


async def test_plugin_events_trigger_rules(desk):
    await add_rule("shopify.fulfillment_created", {}, [{"tag": "shipped"}])
    ticket = await open_ticket(desk)
    await publish(desk, [Event("shopify.fulfillment_created", ticket)])
    assert await tags(ticket) == {"shipped"}


async def test_rule_does_not_feed_on_its_own_effects(desk):
    # Every note adds a note: without protection this never ends.
    await add_rule("note_added", {}, [{"note": "again"}])
    ticket = await open_ticket(desk)
    from core.outbound import add_note

    await add_note(desk, ticket, author_id=None, text="first")
    notes = await Message.count().where((Message.ticket == ticket) & (Message.text == "again"))
    assert notes == 1


async def test_rules_that_trigger_each_other_stop(desk):
    # A: pending -> open, B: open -> pending, C: tag on every change: a ping-pong with a bound.
    await add_rule("status_changed", {"status": ["pending"]}, [{"status": "open"}], position=0)
    await add_rule("status_changed", {"status": ["open"]}, [{"status": "pending"}], position=1)
    ticket = await open_ticket(desk)
    await update_ticket(desk, ticket, actor="agent:1", status="pending")
    fired = await AuditEntry.count().where(AuditEntry.action == "rule_fired")
    assert 1 <= fired <= rules.MAX_DEPTH
    row = await Ticket.select(Ticket.status).where(Ticket.id == ticket).first()
    assert row["status"] in ("open", "pending")


@pytest.mark.parametrize("event, conditions, actions, message", [
    ("exploded", {}, [{"tag": "x"}], "event: 'exploded'"),
    ("created", {"colour": ["red"]}, [{"tag": "x"}], "unknown key(s) colour"),
    ("created", {"text_regex": "(unclosed"}, [{"tag": "x"}], "not a valid regular expression"),
    ("created", {"channel": "email"}, [{"tag": "x"}], "conditions.channel: must be a non-empty list"),
    ("created", {}, [], "actions: must be a non-empty list"),
    ("created", {}, [{"launch": "rocket"}], "actions[0]: must be one of"),
    ("created", {}, [{"priority": "whenever"}], "actions[0].priority"),
    ("created", {}, [{"reply": "Hi {{ name"}], "actions[0].reply: template error"),
])
def test_validation_explains(event, conditions, actions, message):
    with pytest.raises(ValueError) as info:
        rules.validate(event, conditions, actions)
    assert message in str(info.value)


# --- the admin API (web/api/admin.py) --------------------------------------------------------------


async def test_admin_api_requires_a_supervisor(desk):
    from tests.helpers import auth, client_for, make_agent

    _, token = await make_agent("agent")
    _, supervisor = await make_agent("supervisor")
    async with client_for(desk) as client:
        response = await client.get("/api/v1/admin/rules", headers=auth(token))
        assert (await client.get("/api/v1/admin/rules", headers=auth(supervisor))).status_code == 200
    assert response.status_code == 403
    assert "supervisor" in response.text


async def test_admin_api_validation_explains(desk):
    from tests.helpers import auth, client_for, make_agent

    _, token = await make_agent("admin")
    async with client_for(desk) as client:
        bad_calendar = await client.post("/api/v1/admin/calendars", headers=auth(token), json={
            "name": "x", "timezone": "Europe/Berlin", "hours": {"mon": [["17:00", "09:00"]]}})
        bad_rule = await client.post("/api/v1/admin/rules", headers=auth(token), json={
            "name": "r", "event": "created", "conditions": {"text_regex": "("}, "actions": [{"tag": "x"}]})
        bad_policy = await client.post("/api/v1/admin/sla-policies", headers=auth(token), json={
            "name": "p", "conditions": {"prio": ["high"]}, "first_response_minutes": 10})
        unknown_field = await client.post("/api/v1/admin/sla-policies", headers=auth(token), json={
            "name": "p", "first_response": 10})
    assert bad_calendar.status_code == 400 and "the end must be later" in bad_calendar.text
    assert bad_rule.status_code == 400 and "not a valid regular expression" in bad_rule.text
    assert bad_policy.status_code == 400 and "unknown key(s) prio" in bad_policy.text
    assert unknown_field.status_code == 400 and "first_response" in unknown_field.text
    assert await AutomationRule.count() == 0


async def test_admin_api_configures_routing_sla_and_rules_end_to_end(desk):
    from tests.helpers import auth, client_for, make_agent

    admin, token = await make_agent("admin", email="boss@example.com")
    async with client_for(desk) as client:
        team = (await client.post("/api/v1/admin/teams", headers=auth(token),
                                  json={"name": "support", "agent_ids": [admin]})).json()
        routed = await client.put(f"/api/v1/admin/teams/{team['id']}/routing", headers=auth(token),
                                  json={"strategy": "least_loaded", "keywords": ["Lawsuit"]})
        calendar = (await client.post("/api/v1/admin/calendars", headers=auth(token), json={
            "name": "always", "timezone": "UTC", "hours": {d: [["00:00", "24:00"]] for d in
                                                           ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}})).json()
        policy = await client.post("/api/v1/admin/sla-policies", headers=auth(token), json={
            "name": "all", "conditions": {"team": [team["id"]]}, "first_response_minutes": 15, "calendar": calendar["id"]})
        rule = await client.post("/api/v1/admin/rules", headers=auth(token), json={
            "name": "legal", "event": "created", "conditions": {"text_contains": ["lawsuit"]},
            "actions": [{"tag": "legal"}, {"priority": "urgent"}]})
        listed = (await client.get("/api/v1/admin/teams", headers=auth(token))).json()
    assert routed.status_code == 200 and routed.json()["keywords"] == ["lawsuit"]
    assert policy.status_code == 201 and rule.status_code == 201
    assert listed[0]["routing"]["strategy"] == "least_loaded" and listed[0]["agent_ids"] == [admin]
    ticket_id = await open_ticket(desk, "This is going to be a lawsuit")
    row = await Ticket.select().where(Ticket.id == ticket_id).first()
    assert row["assignee"] == admin and "keyword 'lawsuit'" in row["route_reason"]
    assert row["first_response_due_at"] == row["created_at"] + timedelta(minutes=15)
    assert row["priority"] == "urgent" and await tags(ticket_id) == {"legal"}


async def test_dynamic_priority_a_customer_writing_again_angrier_moves_up(make_desk):
    from core.plugins import hookimpl

    class Mood:
        @staticmethod
        @hookimpl
        def classify(message, ticket):
            return {"sentiment": "negative"} if "!!" in message.text else None

    desk = await make_desk(extra_plugins=[("mood", Mood)])
    await add_rule("customer_replied", {"sentiment": ["negative"]}, [{"priority": "raise"}])
    ticket = await open_ticket(desk, "Where is my parcel?")
    priorities = []
    for i, text in enumerate(["Still nothing!!", "Hello??", "This is ridiculous!!", "!!!!"]):
        await open_ticket(desk, text, f"r{i}")
        priorities.append((await Ticket.select(Ticket.priority).where(Ticket.id == ticket).first())["priority"])
    assert priorities == ["high", "high", "urgent", "urgent"]


async def test_time_triggers_fire_once_per_waiting_period(make_desk):
    from core.outbound import reply

    desk = await make_desk(run_jobs=False)
    await add_rule("pending_for", {"after_minutes": 3 * 24 * 60}, [{"tag": "nudge"}], position=0)
    await add_rule("no_reply_for", {"after_minutes": 120, "channel": [account(desk).channel_type]},
                   [{"priority": "high"}], position=1)
    t0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
    current = [t0]
    clock.set_clock(lambda: current[0])
    try:
        waiting = await open_ticket(desk, "Hello?")
        parked = await open_ticket(desk, "Thanks, I'll check", "p1", "c2")
        await update_ticket(desk, parked, actor="agent:1", status="pending")
        current[0] = t0 + timedelta(minutes=119)
        assert await rules.run_time_rules(desk) == 0
        current[0] = t0 + timedelta(minutes=121)
        assert await rules.run_time_rules(desk) == 1
        assert await rules.run_time_rules(desk) == 0
        assert (await Ticket.select(Ticket.priority).where(Ticket.id == waiting).first())["priority"] == "high"
        # answered, so no longer waiting on us
        await reply(desk, waiting, author_id=None, text="On its way")
        current[0] = t0 + timedelta(days=2)
        assert await rules.run_time_rules(desk) == 0
        current[0] = t0 + timedelta(days=3, minutes=1)
        assert await rules.run_time_rules(desk) == 1
        assert await tags(parked) == {"nudge"}
        assert await rules.run_time_rules(desk) == 0
    finally:
        clock.set_clock(None)
    assert desk.registry.jobs["rules_time"].every


def test_time_trigger_needs_minutes():
    with pytest.raises(ValueError) as info:
        rules.validate("pending_for", {}, [{"tag": "x"}])
    assert "after_minutes" in str(info.value)
