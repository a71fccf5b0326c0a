"""Proactive Messaging API messages (only what Amazon allows for the order) and the 24-hour SLA of
Amazon conversations."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from core import clock as core_clock
from core.sla import Calendar
from core.tables import AuditEntry, BusinessCalendar, SlaPolicy, Ticket
from plugins.amazon.tables import AmazonProactiveMessage
from tests.helpers import auth, client_for, make_agent
from tests.plugins.amazon.conftest import DE, amazon_config, amazon_desk, post_mail, relay_mail
from tests.plugins.amazon.fake_spapi import make_order
from tests.plugins.email.mailhelpers import mail

ORDER = "302-1234567-7654321"


async def test_proactive_message_only_when_amazon_lists_the_action(make_desk, fake):
    fake.add_order(make_order(ORDER, updated="2026-11-22T08:00:00Z"), actions=["confirmDeliveryDetails", "legalDisclosure"])
    desk = await amazon_desk(make_desk, amazon_config(fake.url))
    agent_id, token = await make_agent()
    url = f"/api/v1/plugins/amazon/orders/{ORDER}"
    async with client_for(desk) as client:
        unknown = await client.get("/api/v1/plugins/amazon/orders/302-9999999-9999999/messaging-actions", headers=auth(token))
        assert unknown.status_code == 404
        await post_mail(client, relay_mail("inquiry-amazon-de.eml"))  # now the desk knows the order's marketplace
        actions = await client.get(f"{url}/messaging-actions", headers=auth(token))
        assert actions.status_code == 200
        assert actions.json() == {"order_id": ORDER, "marketplace": "amazon.de",
                                  "actions": ["confirmDeliveryDetails", "legalDisclosure"],
                                  "sendable": ["confirmDeliveryDetails"]}
        assert fake.calls("/messaging/")[0].query["marketplaceIds"] == [DE]

        refused = await client.post(f"{url}/messages", headers=auth(token), json={
            "action": "unexpectedProblem", "text": "Your parcel is delayed by a day.", "confirm": True})
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "amazon_action_not_allowed"
        assert "confirmDeliveryDetails" in refused.json()["error"]["message"]
        unconfirmed = await client.post(f"{url}/messages", headers=auth(token), json={
            "action": "confirmDeliveryDetails", "text": "Delivery is on Friday."})
        assert unconfirmed.status_code == 400 and unconfirmed.json()["error"]["code"] == "confirmation_required"
        with_link = await client.post(f"{url}/messages", headers=auth(token), json={
            "action": "confirmDeliveryDetails", "text": "Pick a slot at https://slots.example", "confirm": True})
        assert with_link.status_code == 422 and with_link.json()["error"]["problems"][0]["code"] == "amazon.link"
        assert fake.sent == []

        sent = await client.post(f"{url}/messages", headers=auth(token), json={
            "action": "confirmDeliveryDetails", "text": "Delivery is on Friday between 8 and 12.", "confirm": True,
            "ticket_id": 1})
        assert sent.status_code == 201, sent.text
    assert fake.sent == [{"order_id": ORDER, "action": "confirmDeliveryDetails", "text": "Delivery is on Friday between 8 and 12."}]
    post = [c for c in fake.calls("/messaging/") if c.method == "POST"]
    assert len(post) == 1 and post[0].path == f"/messaging/v1/orders/{ORDER}/messages/confirmDeliveryDetails"
    assert post[0].query["marketplaceIds"] == [DE]
    stored = await AmazonProactiveMessage.select().first()
    assert stored["action"] == "confirmDeliveryDetails" and stored["agent"] == agent_id
    assert await AuditEntry.count().where(AuditEntry.action == "amazon.message_sent") == 1


async def test_amazon_conversations_get_24_hours_round_the_clock(make_desk, fake, monkeypatch):
    # Saturday 10:00 UTC: a business-hours policy for email would wait until Monday.
    saturday = datetime(2026, 11, 28, 10, 0, tzinfo=timezone.utc)
    monkeypatch.setattr(core_clock, "now", lambda: saturday)
    desk = await amazon_desk(make_desk, amazon_config(fake.url))
    calendar = await BusinessCalendar.insert(BusinessCalendar(
        name="office", timezone="Europe/Berlin", hours={d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
        holidays=[])).returning(BusinessCalendar.id)
    await SlaPolicy.insert(SlaPolicy(name="email", conditions={"channel": ["email"]}, first_response_minutes=8 * 60,
                                     next_response_minutes=8 * 60, resolution_minutes=None, calendar=calendar[0]["id"],
                                     position=1, active=True))
    from core import sla

    sla.invalidate()
    async with client_for(desk) as client:
        await post_mail(client, relay_mail("inquiry-amazon-de.eml"))
        await post_mail(client, mail("<plain@buyer.example>", subject="Office hours apply"))
    amazon = await Ticket.select().where(Ticket.thread_key.like("amazon:%")).first()
    plain = await Ticket.select().where(Ticket.subject == "Office hours apply").first()
    assert amazon["first_response_due_at"] == saturday + timedelta(hours=24)  # Sunday 10:00
    assert amazon["resolution_due_at"] is None
    office = Calendar.from_config("Europe/Berlin", {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")})
    assert plain["first_response_due_at"] == office.add(saturday, 8 * 60)  # Monday 17:00 Berlin


async def test_sla_can_be_changed_or_left_to_the_desk(make_desk, fake):
    desk = await amazon_desk(make_desk, amazon_config(fake.url, plugin={"first_response_hours": 12, "resolution_hours": 72}))
    async with client_for(desk) as client:
        await post_mail(client, relay_mail("inquiry-amazon-com.eml"))
    ticket = await Ticket.select().first()
    assert ticket["first_response_due_at"] - ticket["created_at"] == timedelta(hours=12)
    assert ticket["resolution_due_at"] - ticket["created_at"] == timedelta(hours=72)

    from plugins.amazon.plugin import sla_targets
    from plugins.amazon import state

    state.desk.registry.plugin_settings["amazon"].sla = False
    try:
        assert sla_targets({"tags": ["amazon"]}) is None  # the desk's own policies decide
    finally:
        state.desk.registry.plugin_settings["amazon"].sla = True
    assert sla_targets({"tags": ["vip"]}) is None
