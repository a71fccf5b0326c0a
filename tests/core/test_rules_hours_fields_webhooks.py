"""Rule conditions on business hours and on plugin context fields; the webhook action (a job,
signed like the api_channel, retried on 503, given up on 4xx) against a loopback receiver; the
notify action; and what validation says, on both databases and a controlled clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core import clock, rule_webhooks, rules, sla
from core.plugins import hookimpl
from core.tables import Agent, AgentTeam, AutomationRule, BusinessCalendar, Notification, Team, TicketTag, WebhookDelivery
from tests.core.policy_helpers import ticket_of
from plugins.api_channel import signing
from tests.conftest import allow_loopback
from tests.loopback import Scripted

WEEKDAYS_9_18 = {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


@pytest.fixture
def at(at):
    """The shared moving clock, starting on Monday 10:00 in Shanghai."""
    at(datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc))
    return at


async def open_ticket(desk, text="Hi", external_id="m1", sender="c1", **kw) -> int:
    return (await ticket_of(desk, external_id, sender, text, **kw))["id"]


async def add_rule(event: str, conditions: dict, actions: list, position: int = 0) -> int:
    rules.validate(event, conditions, actions)
    await rules.check_references(conditions, actions)
    rows = await AutomationRule.insert(AutomationRule(name=f"{event}-{position}", event=event, position=position,
                                                      conditions=conditions, actions=actions)).returning(AutomationRule.id)
    rules.invalidate()
    return rows[0]["id"]


async def tags(ticket_id: int) -> set[str]:
    return {r["tag"] for r in await TicketTag.select(TicketTag.tag).where(TicketTag.ticket == ticket_id)}


async def test_business_hours_condition_inside_and_outside(make_desk, at):
    desk = await make_desk(run_jobs=False)
    await BusinessCalendar.insert(BusinessCalendar(name="shanghai", timezone="Asia/Shanghai", hours=WEEKDAYS_9_18,
                                                   holidays=["2026-11-24"]))
    sla.invalidate()
    await add_rule("created", {"business_hours": {"calendar": "shanghai", "inside": False}}, [{"tag": "after-hours"}])
    await add_rule("created", {"business_hours": {"calendar": "shanghai"}}, [{"tag": "in-hours"}], position=1)
    day = await open_ticket(desk, external_id="m1", sender="c1")
    at(datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc))  # 20:00 in Shanghai
    night = await open_ticket(desk, external_id="m2", sender="c2")
    at(datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc))  # Tuesday 10:00, but a holiday
    holiday = await open_ticket(desk, external_id="m3", sender="c3")
    assert (await tags(day), await tags(night), await tags(holiday)) == ({"in-hours"}, {"after-hours"}, {"after-hours"})


class Orders:
    """A commerce plugin's context, as shopify's customer_context returns it."""

    status = "unfulfilled"

    @staticmethod
    @hookimpl
    def customer_context(customer, ticket):
        async def build():
            return {"shop": {"order_status": Orders.status, "orders": [{"id": 1, "tags": ["gift"]}, {"id": 2}]}}
        return build()


async def test_plugin_context_fields_in_conditions(make_desk):
    desk = await make_desk(run_jobs=False, extra_plugins=[("orders", Orders)])
    await add_rule("created", {"fields": [{"field": "shop.order_status", "in": ["unfulfilled", "on_hold"]}]},
                   [{"tag": "not-shipped"}])
    await add_rule("created", {"fields": [{"field": "shop.orders.tags", "equals": "gift"},
                                          {"field": "shop.refund", "exists": False}]}, [{"tag": "gift"}], position=1)
    await add_rule("created", {"fields": [{"field": "shop.order_status", "not_in": ["unfulfilled"]}]},
                   [{"tag": "shipped"}], position=2)
    Orders.status = "unfulfilled"
    first = await open_ticket(desk, external_id="m1", sender="c1")
    Orders.status = "fulfilled"
    second = await open_ticket(desk, external_id="m2", sender="c2")
    assert await tags(first) == {"not-shipped", "gift"}
    assert await tags(second) == {"gift", "shipped"}


def test_field_values_walks_lists():
    ctx = {"orders": [{"status": "paid", "lines": [{"sku": "A"}, {"sku": "B"}]}, {"status": "refunded"}]}
    assert rules.field_values(ctx, "orders.status") == ["paid", "refunded"]
    assert rules.field_values(ctx, "orders.lines.sku") == ["A", "B"]
    assert rules.field_values(ctx, "orders.missing") == []


async def test_webhook_action_is_signed_retried_and_recorded(make_desk, receiver, monkeypatch):
    monkeypatch.setenv("RULE_HOOK_SECRET", "s3cret")
    receiver.script = [Scripted(status=503, headers={"retry-after": "0"}), Scripted(status=200)]
    desk = await make_desk(allow_loopback)
    rule_id = await add_rule("created", {"text_contains": ["chargeback"]},
                             [{"webhook": {"url": receiver.url + "/hook", "secret_env": "RULE_HOOK_SECRET"}}])
    ticket = await open_ticket(desk, "I will file a chargeback")
    await open_ticket(desk, "hello", "m2", "c2")  # does not match: nothing sent

    async def delivered():
        row = await WebhookDelivery.select().first()
        return row if row and row["status"] == "done" else None

    from tests.conftest import wait_for

    row = await wait_for(delivered, timeout=15)
    assert row["attempts"] == 2 and row["rule"] == rule_id and row["ticket"] == ticket
    assert len(receiver.requests) == 2
    sent = receiver.requests[-1]
    assert sent.path == "/hook" and sent.headers["idempotency-key"] == f"relaydesk-{desk.desk_id}-rule-webhook-{row['id']}"
    assert signing.verify("s3cret", sent.body, sent.headers["x-relaydesk-signature"]) is None
    assert signing.verify("wrong", sent.body, sent.headers["x-relaydesk-signature"]) is not None
    body = sent.json()
    assert body["type"] == "rule_fired" and body["ticket"]["id"] == ticket and body["event"]["name"] == "created"
    assert await WebhookDelivery.count() == 1


async def test_webhook_refused_or_unsigned_fails_for_good(make_desk, receiver, monkeypatch):
    monkeypatch.delenv("MISSING_SECRET", raising=False)
    receiver.default = Scripted(status=400, body={"error": "bad"})
    desk = await make_desk(allow_loopback, run_jobs=False)
    await add_rule("created", {}, [{"webhook": {"url": receiver.url + "/a"}},
                                   {"webhook": {"url": receiver.url + "/b", "secret_env": "MISSING_SECRET"}}])
    await open_ticket(desk)
    first, second = [r["id"] for r in await WebhookDelivery.select(WebhookDelivery.id).order_by(WebhookDelivery.id)]
    assert await rule_webhooks.deliver(desk, first) == "failed"
    assert await rule_webhooks.deliver(desk, second) == "failed"
    rows = {r["id"]: r for r in await WebhookDelivery.select()}
    assert "answered 400" in rows[first]["last_error"]
    assert "MISSING_SECRET" in rows[second]["last_error"] and len(receiver.requests) == 1
    assert await rule_webhooks.deliver(desk, first) == "skipped"  # failed rows are never sent again
    assert desk.registry.jobs["rule_webhook_sweep"].every


async def test_webhook_sweep_resends_what_a_lost_queue_forgot(make_desk, receiver, at):
    desk = await make_desk(allow_loopback, run_jobs=False)  # nothing runs the enqueued job: as if Redis lost it
    await add_rule("created", {}, [{"webhook": {"url": receiver.url + "/later"}}])
    await open_ticket(desk)
    assert receiver.requests == []
    row = await WebhookDelivery.select().first()
    assert row["status"] == "pending"
    assert await rule_webhooks.sweep(desk) == 1
    assert await rule_webhooks.deliver(desk, row["id"]) == "done"
    assert len(receiver.requests) == 1


async def test_notify_action_reaches_supervisors_team_and_assignee(make_desk, at):
    desk = await make_desk(run_jobs=False)
    boss = (await Agent.insert(Agent(name="Boss", email="boss@example.com", role="admin")).returning(Agent.id))[0]["id"]
    member = (await Agent.insert(Agent(name="Mem", email="mem@example.com")).returning(Agent.id))[0]["id"]
    team = (await Team.insert(Team(name="vip")).returning(Team.id))[0]["id"]
    await AgentTeam.insert(AgentTeam(agent=member, team=team))
    await add_rule("sla_breach", {}, [{"notify": {"to": "supervisors", "text": "Breach on #{{ ticket.id }} ({{ rule }})"}},
                                      {"notify": {"to": f"team:{team}"}},
                                      {"notify": {"to": "assignee"}}])
    ticket = await open_ticket(desk)
    await sla.sweep(desk, now=clock.now() + timedelta(hours=9))
    notes = await Notification.select().order_by(Notification.id)
    assert [(n["agent"], n["kind"]) for n in notes] == [(boss, "rule"), (member, "rule")]  # nobody assigned
    assert notes[0]["text"] == f"Breach on #{ticket} (sla_breach-0)"
    assert notes[1]["text"].startswith(f'Rule "sla_breach-0" on ticket #{ticket}')


@pytest.mark.parametrize("event, conditions, actions, message", [
    ("created", {"business_hours": "shanghai"}, [{"tag": "x"}], "conditions.business_hours: must be"),
    ("created", {"fields": [{"field": "shop.status"}]}, [{"tag": "x"}], "conditions.fields[0]: give exactly one of"),
    ("created", {"fields": [{"field": "shop status", "in": ["x"]}]}, [{"tag": "x"}], "is not a dotted path"),
    ("created", {"fields": [{"field": "a", "in": []}]}, [{"tag": "x"}], "conditions.fields[0].in: must be a non-empty list"),
    ("created", {}, [{"webhook": {"url": "ftp://x"}}], "actions[0].webhook.url: 'ftp://x' is not an http(s) URL"),
    ("created", {}, [{"webhook": {"url": "https://x.example", "secret_env": "s3cret-literal"}}],
     "the secret itself never goes in a rule"),
    ("created", {}, [{"webhook": "https://x.example"}], "actions[0].webhook: must be"),
    ("created", {}, [{"notify": {"to": "everyone"}}], "actions[0].notify.to: must be"),
    ("created", {}, [{"notify": {"to": "supervisors", "text": "{{ oops"}}], "actions[0].notify.text: template error"),
])
def test_new_conditions_and_actions_validation_explains(event, conditions, actions, message):
    with pytest.raises(ValueError) as info:
        rules.validate(event, conditions, actions)
    assert message in str(info.value)


async def test_references_are_checked_against_the_database(desk):
    with pytest.raises(ValueError) as info:
        await rules.check_references({"business_hours": {"calendar": "nowhere"}}, [{"tag": "x"}])
    assert "there is no calendar named 'nowhere'" in str(info.value)
    with pytest.raises(ValueError) as info:
        await rules.check_references({}, [{"notify": {"to": "agent:999"}}])
    assert "actions[0].notify.to: agent 999 does not exist" in str(info.value)
