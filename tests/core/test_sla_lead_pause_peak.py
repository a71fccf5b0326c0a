"""SLA on a controlled clock, both databases: a warning lead per policy, a reply that leaves the
ticket pending pauses the clock and the customer's answer resumes it, and a peak profile's notice
reaches the customer once per ticket in their language without counting as the first response."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core import sla
from core.outbound import reply
from core.plugins import hookimpl
from core.tables import Message, PeakNotice, SlaPause, SlaPolicy
from tests.core.policy_helpers import T0, reload
from tests.core.policy_helpers import ticket_of as open_ticket

class Warnings:
    seen: list = []

    @staticmethod
    @hookimpl
    def ticket_event(event):
        if event.name == "sla_warning":
            Warnings.seen.append(event.ticket_id)


async def test_warning_lead_is_configured_per_policy(make_desk, at):
    Warnings.seen = []
    desk = await make_desk(run_jobs=False, extra_plugins=[("warnings", Warnings)])
    await SlaPolicy.insert(
        SlaPolicy(name="vip", position=0, conditions={"customer_tag": ["vip"]}, first_response_minutes=240,
                  warning_minutes=120),
        SlaPolicy(name="rest", position=1, conditions={}, first_response_minutes=240),
    )
    sla.invalidate()
    plain = await open_ticket(desk, "m1", "c1")
    from core.tables import Customer

    vip_customer = (await Customer.insert(Customer(name="V", tags=["vip"])).returning(Customer.id))[0]["id"]
    from core.tables import Identity

    await Identity.insert(Identity(customer=vip_customer, channel_type="api", handle="vip-1"))
    vip = await open_ticket(desk, "m2", "vip-1")
    assert vip["sla_warning_minutes"] == 120 and plain["sla_warning_minutes"] is None
    at(T0 + timedelta(minutes=119))
    assert (await sla.sweep(desk)).warnings == 0
    at(T0 + timedelta(minutes=121))  # 119 min before the VIP's due time: inside its 120-minute lead
    assert (await sla.sweep(desk)).warnings == 1
    assert Warnings.seen == [vip["id"]]
    at(T0 + timedelta(minutes=211))  # 29 min before: the default 30-minute lead for the other one
    assert (await sla.sweep(desk)).warnings == 1
    assert (await sla.sweep(desk)).warnings == 0
    assert Warnings.seen == [vip["id"], plain["id"]]


def test_warning_lead_validation_explains():
    with pytest.raises(ValueError) as info:
        sla.validate_warning(0)
    assert "warning_minutes: must be a whole number of minutes from 1 to 10080" in str(info.value)
    sla.validate_warning(None)
    sla.validate_warning(45)


async def test_pending_reply_pauses_and_customer_answer_resumes(make_desk, at):
    desk = await make_desk(run_jobs=False)
    await SlaPolicy.insert(SlaPolicy(name="all", conditions={}, first_response_minutes=60, next_response_minutes=60,
                                     resolution_minutes=600))
    sla.invalidate()
    ticket = await open_ticket(desk)
    at(T0 + timedelta(minutes=30))
    await reply(desk, ticket["id"], author_id=None, text="Could you send a photo?", status="pending")
    paused = await reload(ticket["id"])
    assert paused["status"] == "pending" and paused["sla_due_at"] is None
    assert (await SlaPause.select().first())["paused_at"] == T0 + timedelta(minutes=30)
    at(T0 + timedelta(hours=20))  # the customer takes their time: nothing breaches meanwhile
    assert (await sla.sweep(desk)).seen == 0
    await open_ticket(desk, "m2", "c1", "Here is the photo")
    resumed = await reload(ticket["id"])
    assert resumed["status"] == "open" and await SlaPause.count() == 0
    # resolution: 600 min from T0, of which 30 ran before the pause -> 570 left from now
    assert resumed["resolution_due_at"] == T0 + timedelta(hours=20, minutes=570)
    assert resumed["next_response_due_at"] == T0 + timedelta(hours=21)
    assert resumed["sla_due_at"] == resumed["next_response_due_at"]
    assert not resumed["resolution_breached"]


async def test_agent_reply_out_of_pending_resumes_too(make_desk, at):
    desk = await make_desk(run_jobs=False)
    ticket = await open_ticket(desk)  # default targets: normal = 8 h first response, 48 h resolution
    await reply(desk, ticket["id"], author_id=None, text="Waiting for you", status="pending")
    at(T0 + timedelta(hours=5))
    await reply(desk, ticket["id"], author_id=None, text="Following up", status="open")
    row = await reload(ticket["id"])
    assert row["resolution_due_at"] == T0 + timedelta(hours=48 + 5)
    assert row["sla_due_at"] == row["resolution_due_at"] and await SlaPause.count() == 0


PEAK = dict(starts_at=datetime(2026, 11, 10, 16, 0, tzinfo=timezone.utc),
            ends_at=datetime(2026, 11, 12, 16, 0, tzinfo=timezone.utc))


async def test_peak_profile_notice_once_per_ticket_in_the_customers_language(make_desk, at):
    desk = await make_desk(run_jobs=False)
    await SlaPolicy.insert(
        SlaPolicy(name="双11", position=0, conditions={}, first_response_minutes=24 * 60, **PEAK),
        SlaPolicy(name="normal", position=1, conditions={}, first_response_minutes=60),
    )
    sla.invalidate()
    at(datetime(2026, 11, 11, 3, 0, tzinfo=timezone.utc))
    zh = await open_ticket(desk, "m1", "c1", "我的订单在哪里", language="zh-CN")
    en = await open_ticket(desk, "m2", "c2", "Where is my order?", language="en")
    xx = await open_ticket(desk, "m3", "c3", "Hol van a rendelésem?", language="hu")
    await open_ticket(desk, "m4", "c1", "还在吗？", language="zh-CN")  # same ticket: no second notice

    async def outbound(ticket_id):
        return [r["text"] for r in await Message.select(Message.text).where(
            (Message.ticket == ticket_id) & (Message.direction == "outbound"))]

    assert await outbound(zh["id"]) == [
        "感谢您的来信。由于双11期间咨询量远高于平时，我们的回复可能会比平时慢（最长 24 小时）。我们会尽快回复您。"]
    assert (await outbound(en["id"]))[0].startswith("Thank you for your message. Because of 双11")
    assert "(up to 24 hours)" in (await outbound(xx["id"]))[0]  # no catalog for Hungarian: English
    assert await PeakNotice.count() == 3
    row = await reload(zh["id"])
    # the notice is not an answer: the first-response clock still runs
    assert row["first_responded_at"] is None and row["status"] == "new"
    assert row["first_response_due_at"] == datetime(2026, 11, 12, 3, 0, tzinfo=timezone.utc)


async def test_peak_profile_uses_the_admins_notice_and_only_in_its_period(make_desk, at):
    desk = await make_desk(run_jobs=False)
    await SlaPolicy.insert(SlaPolicy(name="Black Friday", position=0, conditions={}, first_response_minutes=720,
                                     notice="Black Friday: we answer within 12 hours.", **PEAK))
    sla.invalidate()
    at(datetime(2026, 11, 11, 3, 0, tzinfo=timezone.utc))
    inside = await open_ticket(desk, "m1", "c1")
    at(datetime(2026, 11, 13, 3, 0, tzinfo=timezone.utc))
    sla.invalidate()
    after = await open_ticket(desk, "m2", "c2")
    texts = {r["ticket"]: r["text"] for r in await Message.select(Message.ticket, Message.text).where(
        Message.direction == "outbound")}
    assert texts == {inside["id"]: "Black Friday: we answer within 12 hours."}
    assert after["id"] not in texts
