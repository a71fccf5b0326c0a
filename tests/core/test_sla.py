"""SLA: business-hours calendars (time zones, weekends, holidays, DST), policies matched by
conditions, the pending pause, and the sweeper firing warnings and breaches once, on a clock the
tests run forward."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from core import sla
from core.plugins import hookimpl
from core.sla import Calendar
from core.tables import BusinessCalendar, Customer, SlaPause, SlaPolicy, Ticket
from core.tickets import update_ticket
from tests.core.policy_helpers import account, reload
from tests.core.policy_helpers import ticket_of as open_ticket

BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS_9_17 = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
ALWAYS = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def local(tz: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(tz))


# --- business minutes, pure ------------------------------------------------------------------------


def test_weekend_is_skipped():
    cal = Calendar.from_config("Europe/Berlin", WEEKDAYS_9_17)
    friday = local("Europe/Berlin", 2026, 11, 27, 16, 0)
    assert cal.add(friday, 120) == local("Europe/Berlin", 2026, 11, 30, 10, 0)  # 1 h Friday + 1 h Monday
    saturday = local("Europe/Berlin", 2026, 11, 28, 12, 0)
    assert cal.add(saturday, 30) == local("Europe/Berlin", 2026, 11, 30, 9, 30)


def test_holidays_are_skipped():
    cal = Calendar.from_config("Europe/Berlin", WEEKDAYS_9_17, ["2026-12-24", "2026-12-25"])
    wednesday = local("Europe/Berlin", 2026, 12, 23, 16, 30)
    assert cal.add(wednesday, 60) == local("Europe/Berlin", 2026, 12, 28, 9, 30)
    assert cal.between(wednesday, local("Europe/Berlin", 2026, 12, 28, 9, 30)) == 60


def test_same_instant_different_time_zones():
    start = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)  # a Monday
    shanghai = Calendar.from_config("Asia/Shanghai", WEEKDAYS_9_17)  # 16:00 there
    new_york = Calendar.from_config("America/New_York", WEEKDAYS_9_17)  # 03:00 there
    assert shanghai.add(start, 60) == datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
    assert new_york.add(start, 60) == datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)
    # Shanghai: one hour left Monday, then Tuesday 09:00 local (01:00 UTC).
    assert shanghai.add(start, 90) == datetime(2026, 11, 24, 1, 30, tzinfo=timezone.utc)


def test_dst_days_count_real_minutes():
    cal = Calendar.from_config("Europe/Berlin", ALWAYS)
    # 2026-10-25: clocks go back, the day has 25 hours. 24 business hours from Saturday noon
    # end at 11:00 local on Sunday.
    saturday = local("Europe/Berlin", 2026, 10, 24, 12, 0)
    assert cal.add(saturday, 24 * 60).astimezone(BERLIN).hour == 11
    # 2026-03-29: clocks go forward, the day has 23 hours.
    spring = local("Europe/Berlin", 2026, 3, 28, 12, 0)
    assert cal.add(spring, 24 * 60).astimezone(BERLIN).hour == 13
    office = Calendar.from_config("Europe/Berlin", {"sun": [["09:00", "17:00"]], "mon": [["09:00", "17:00"]]})
    assert office.between(local("Europe/Berlin", 2026, 10, 25, 0, 0), local("Europe/Berlin", 2026, 10, 26, 0, 0)) == 8 * 60


@pytest.mark.parametrize("minutes", [1, 59, 480, 481, 2000, 10000])
def test_between_inverts_add(minutes):
    cal = Calendar.from_config("America/New_York", WEEKDAYS_9_17, ["2026-11-26"])
    start = datetime(2026, 11, 20, 21, 17, tzinfo=timezone.utc)
    assert cal.between(start, cal.add(start, minutes)) == pytest.approx(minutes)


@pytest.mark.parametrize("tz, hours, holidays, message", [
    ("Mars/Olympus", WEEKDAYS_9_17, [], "not an IANA time zone"),
    ("UTC", {"monday": [["09:00", "17:00"]]}, [], "unknown day(s) monday"),
    ("UTC", {"mon": [["17:00", "09:00"]]}, [], "the end must be later"),
    ("UTC", {"mon": [["09:00", "13:00"], ["12:00", "17:00"]]}, [], "overlap"),
    ("UTC", {"mon": [["9am", "17:00"]]}, [], "is not a time"),
    ("UTC", {}, [], "at least one day"),
    ("UTC", WEEKDAYS_9_17, ["25.12.2026"], "holidays[0]"),
])
def test_calendar_validation_explains(tz, hours, holidays, message):
    with pytest.raises(ValueError) as info:
        Calendar.from_config(tz, hours, holidays)
    assert message in str(info.value)


# --- with the database -----------------------------------------------------------------------------


async def test_policy_with_calendar_sets_business_due_times(make_desk, at):
    desk = await make_desk(run_jobs=False)
    cal = (await BusinessCalendar.insert(BusinessCalendar(name="berlin", timezone="Europe/Berlin", hours=WEEKDAYS_9_17,
                                                          holidays=["2026-11-30"])).returning(BusinessCalendar.id))[0]["id"]
    await SlaPolicy.insert(
        SlaPolicy(name="vip", position=0, conditions={"customer_tag": ["vip"]}, first_response_minutes=30,
                  resolution_minutes=240, calendar=cal),
        SlaPolicy(name="api", position=1, conditions={"channel": [account(desk).channel_type], "priority": ["normal"]},
                  first_response_minutes=60, next_response_minutes=120, resolution_minutes=600, calendar=cal),
    )
    sla.invalidate()
    at(local("Europe/Berlin", 2026, 11, 27, 16, 30))  # Friday afternoon; Monday 30th is a holiday
    ticket = await open_ticket(desk)
    assert ticket["first_response_due_at"] == local("Europe/Berlin", 2026, 12, 1, 9, 30)
    # 10 h = 30 min Friday + 8 h Tuesday + 1.5 h Wednesday
    assert ticket["resolution_due_at"] == local("Europe/Berlin", 2026, 12, 2, 10, 30)
    assert ticket["sla_due_at"] == ticket["first_response_due_at"]
    await Customer.update({Customer.tags: ["vip"]}).where(Customer.id == ticket["customer"])
    vip = await open_ticket(desk, "m2", "c1", thread_key="other")
    assert vip["first_response_due_at"] == local("Europe/Berlin", 2026, 11, 27, 17, 0)  # 30 min: still Friday
    assert vip["resolution_due_at"] == local("Europe/Berlin", 2026, 12, 1, 12, 30)


async def test_no_policy_falls_back_to_priority_targets(make_desk, at):
    desk = await make_desk(run_jobs=False)
    start = at(datetime(2026, 11, 28, 23, 0, tzinfo=timezone.utc))
    ticket = await open_ticket(desk)
    assert ticket["first_response_due_at"] == start + timedelta(hours=8)


async def test_pending_pauses_and_resumes_the_clock(make_desk, at):
    desk = await make_desk(run_jobs=False)
    t0 = at(datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc))
    ticket = await open_ticket(desk)
    assert ticket["first_response_due_at"] == t0 + timedelta(hours=8)
    at(t0 + timedelta(hours=1))
    await update_ticket(desk, ticket["id"], actor="agent:1", status="pending")
    paused = await reload(ticket["id"])
    assert paused["sla_due_at"] is None
    at(t0 + timedelta(hours=20))
    assert (await sla.sweep(desk)).seen == 0  # a paused ticket is invisible to the sweeper
    await update_ticket(desk, ticket["id"], actor="agent:1", status="open")
    resumed = await reload(ticket["id"])
    assert resumed["first_response_due_at"] == t0 + timedelta(hours=8 + 19)
    assert resumed["resolution_due_at"] == t0 + timedelta(hours=48 + 19)
    assert resumed["sla_due_at"] == resumed["first_response_due_at"]
    assert await SlaPause.count() == 0


async def test_customer_reply_resumes_a_pending_ticket(make_desk, at):
    desk = await make_desk(run_jobs=False)
    t0 = at(datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc))
    ticket = await open_ticket(desk)
    await update_ticket(desk, ticket["id"], actor="agent:1", status="pending")
    at(t0 + timedelta(hours=5))
    await open_ticket(desk, "m2", "c1")  # the same customer writes again: same ticket
    resumed = await reload(ticket["id"])
    assert resumed["status"] == "open"
    assert resumed["first_response_due_at"] == t0 + timedelta(hours=13)
    assert resumed["sla_due_at"] == t0 + timedelta(hours=13)


async def test_sweeper_warns_and_breaches_once(make_desk, at):
    events = []

    class Listener:
        @staticmethod
        @hookimpl
        def ticket_event(event):
            if event.name.startswith("sla_"):
                events.append((event.name, event.data["target"]))

    desk = await make_desk(run_jobs=False, extra_plugins=[("listener", Listener)])
    t0 = at(datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc))
    ticket = await open_ticket(desk)
    quiet = await open_ticket(desk, "q1", "someone-else")  # due at the same time, but answered
    await Ticket.update({Ticket.sla_due_at: None}).where(Ticket.id == quiet["id"])

    at(t0 + timedelta(hours=7))
    assert (await sla.sweep(desk)).seen == 0  # nothing due within the warning lead
    at(t0 + timedelta(hours=7, minutes=45))
    assert (await sla.sweep(desk)).warnings == 1
    assert (await sla.sweep(desk)).warnings == 0
    assert events == [("sla_warning", "first_response")]

    at(t0 + timedelta(hours=8, minutes=1))
    first = await sla.sweep(desk)
    again = await sla.sweep(desk)
    assert (first.breaches, again.breaches) == (1, 0)
    row = await reload(ticket["id"])
    assert row["first_response_breached"] and not row["resolution_breached"]
    assert row["sla_due_at"] == row["resolution_due_at"]  # the next target still running
    assert events[-1] == ("sla_breach", "first_response")

    at(t0 + timedelta(hours=47, minutes=40))
    assert (await sla.sweep(desk)).warnings == 1  # a new due time gets its own warning
    at(t0 + timedelta(hours=49))
    assert (await sla.sweep(desk)).breaches == 1
    assert (await sla.sweep(desk)).seen == 0  # nothing left running: the row leaves the index range
    assert events == [("sla_warning", "first_response"), ("sla_breach", "first_response"),
                      ("sla_warning", "resolution"), ("sla_breach", "resolution")]
    assert not (await reload(quiet["id"]))["first_response_breached"]


async def test_sweep_job_is_registered(desk):
    assert desk.registry.jobs["sla_sweep"].every
    assert desk.registry.jobs["reassign_offline"].every


async def test_hook_sla_targets_sees_policies(make_desk, at):
    seen = []

    class Spy:
        @staticmethod
        @hookimpl
        def sla_targets(ticket):
            seen.append([p.name for p in ticket["sla_policies"]])
            return None

    desk = await make_desk(run_jobs=False, extra_plugins=[("spy", Spy)])
    await SlaPolicy.insert(SlaPolicy(name="everything", conditions={}, first_response_minutes=5))
    sla.invalidate()
    ticket = await open_ticket(desk)
    assert seen == [["everything"]]
    assert ticket["first_response_due_at"] == ticket["created_at"] + timedelta(minutes=5)


async def test_peak_profile_applies_only_in_its_period(make_desk, at):
    desk = await make_desk(run_jobs=False)
    await SlaPolicy.insert(
        SlaPolicy(name="11.11", position=0, conditions={}, first_response_minutes=24 * 60,
                  starts_at=datetime(2026, 11, 10, 16, 0, tzinfo=timezone.utc),
                  ends_at=datetime(2026, 11, 12, 16, 0, tzinfo=timezone.utc),
                  notice="Because of 11.11 we answer within 24 hours."),
        SlaPolicy(name="normal", position=1, conditions={}, first_response_minutes=60),
    )
    sla.invalidate()
    inside = at(datetime(2026, 11, 11, 3, 0, tzinfo=timezone.utc))
    peak = await open_ticket(desk, "m1", "c1")
    after = at(datetime(2026, 11, 12, 16, 0, tzinfo=timezone.utc))
    sla.invalidate()
    calm = await open_ticket(desk, "m2", "c2")
    assert peak["first_response_due_at"] == inside + timedelta(hours=24)
    assert calm["first_response_due_at"] == after + timedelta(minutes=60)
    assert (await sla.load_policies())[0].notice.startswith("Because of 11.11")
