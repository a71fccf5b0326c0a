"""Report figures (core/reports) on a hand-built history with known answers: a controlled clock,
business hours, a reopened ticket, a pending period, an SLA breach; on both databases. The
figures come from the facts the tickets' triggers append and the rollups they are folded into."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from core import sla
from core.outbound import reply
from core.reports import figures, rollups
from core.tables import BusinessCalendar, SlaPolicy, Ticket
from core.tickets import update_ticket
from tests.core.policy_helpers import T0, ticket_of
from tests.helpers import make_agent

UTC = timezone.utc
WEEKDAYS_9_17 = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


async def build_history(desk, at) -> dict[str, int]:
    """Monday 23 Nov 2026 (T0 = 09:00 UTC), business hours 09-17 UTC, first response 60 business
    minutes, resolution 24 business hours. Returns the ids it made."""
    cal = (await BusinessCalendar.insert(BusinessCalendar(name="office", timezone="UTC", hours=WEEKDAYS_9_17))
           .returning(BusinessCalendar.id))[0]["id"]
    await SlaPolicy.insert(SlaPolicy(name="all", conditions={}, first_response_minutes=60,
                                     resolution_minutes=24 * 60, calendar=cal))
    sla.invalidate()
    agent, _ = await make_agent(email="ann@example.com")
    # A: answered in 30 min, solved at 10:00, reopened by the customer at 11:00, solved by a reply at 11:15.
    at(T0)
    a = (await ticket_of(desk, "a1", "cust-a", thread_key="thread-a"))["id"]
    await update_ticket(desk, a, actor="test", assignee=agent, add_tags=["refund"])
    at(minutes(30))
    await reply(desk, a, author_id=agent, text="Looking")
    at(minutes(60))
    await update_ticket(desk, a, actor="test", status="solved")
    at(minutes(120))
    await ticket_of(desk, "a2", "cust-a", "Still broken", thread_key="thread-a")
    at(minutes(135))
    await reply(desk, a, author_id=agent, text="Fixed now", status="solved")
    # B: first response target missed (the sweeper breaches it at 10:30), answered at 10:40 and set
    # pending until the customer writes at 12:00 (not a reopen), solved at 13:10.
    at(minutes(10))
    b = (await ticket_of(desk, "b1", "cust-b"))["id"]
    at(minutes(90))
    await sla.sweep(desk)
    at(minutes(100))
    await reply(desk, b, author_id=agent, text="Please send a photo", status="pending")
    at(minutes(180))
    await ticket_of(desk, "b2", "cust-b", "Here it is")
    at(minutes(250))
    await update_ticket(desk, b, actor="test", status="solved")
    # C: opened at 12:00, never answered: breached at 13:00 (seen by the sweep at 13:30), still open.
    at(minutes(180))
    c = (await ticket_of(desk, "c1", "cust-c"))["id"]
    at(minutes(270))
    await sla.sweep(desk)
    # D: opened at 16:30, answered Tuesday 09:00: 16.5 h on the clock, 30 business minutes: met.
    at(minutes(450))
    d = (await ticket_of(desk, "d1", "cust-d"))["id"]
    at(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    await reply(desk, d, author_id=agent, text="Good morning")
    return {"agent": agent, "a": a, "b": b, "c": c, "d": d}


MONDAY = date(2026, 11, 23)


async def test_monday_figures_are_the_known_answers(make_desk, at):
    desk = await make_desk(run_jobs=False)
    ids = await build_history(desk, at)
    monday = figures.period(MONDAY, MONDAY, UTC)
    got = await figures.totals(monday)
    assert {k: got[k] for k in ("created", "solved", "first_solved", "fcr", "reopened", "frt_n", "replies",
                                "fr_met", "fr_breached", "res_met", "res_breached")} == {
        "created": 4, "solved": 3, "first_solved": 2, "fcr": 2, "reopened": 1, "frt_n": 2, "replies": 4,
        "fr_met": 1, "fr_breached": 2, "res_met": 2, "res_breached": 0}
    assert got["frt_seconds"] == 30 * 60 + 90 * 60  # A 30 min; B 90 min (pending time is after it)
    assert got["res_seconds"] == 3600 + 135 * 60 + 240 * 60  # A 1 h, A again 2 h 15, B 4 h (pending included)
    assert (got["frt_avg_minutes"], got["reopen_percent"], got["fcr_percent"]) == (60.0, 33.3, 100.0)
    assert got["fr_sla_percent"] == 33.3 and got["res_sla_percent"] == 100.0
    # Tuesday: D's first response, 16.5 h on the clock, within its business-hours target
    tuesday = await figures.totals(figures.period(date(2026, 11, 24), date(2026, 11, 24), UTC))
    assert (tuesday["frt_n"], tuesday["frt_seconds"], tuesday["fr_met"], tuesday["created"]) == (1, 16.5 * 3600, 1, 0)
    # the previous period (Sunday) is empty
    assert (await figures.totals(monday.previous()))["created"] == 0
    # per agent: A's facts after the assignment, B's and D's (answered by nobody assigned) under ''
    by_agent = {r["key"]: r for r in await figures.breakdown(monday, "agent")}
    assert (by_agent[str(ids["agent"])]["solved"], by_agent[str(ids["agent"])]["reopened"]) == (2, 1)
    assert (by_agent[""]["created"], by_agent[""]["solved"]) == (4, 1)
    by_tag = {r["key"]: r for r in await figures.breakdown(monday, "tag")}
    assert set(by_tag) == {"refund"} and (by_tag["refund"]["created"], by_tag["refund"]["solved"]) == (1, 2)
    assert [r["key"] for r in await figures.breakdown(monday, "channel")] == ["api"]
    # merging B's customer into A's moves tickets between customers: no figure changes
    from core.merge import merge_customers

    customers = {t["id"]: t["customer"] for t in await Ticket.select(Ticket.id, Ticket.customer)}
    await merge_customers(customers[ids["b"]], customers[ids["a"]], actor="test")
    assert await figures.totals(monday) == got
    # spam is not a new ticket: C marked as spam leaves Monday with three, taken back with four again
    from core import spam

    await spam.mark_spam(desk, ids["c"], actor="test")
    marked = await figures.totals(monday)
    assert (marked["created"], marked["backlog"]) == (3, got["backlog"])  # it leaves the backlog now (Tuesday)
    await spam.not_spam(desk, ids["c"], actor="test")
    assert (await figures.totals(monday))["created"] == 4


async def test_series_backlog_and_heatmap_follow_the_time_zone(make_desk, at):
    desk = await make_desk(run_jobs=False)
    await build_history(desk, at)
    hours = await figures.series(figures.period(MONDAY, MONDAY, UTC), step="hour")
    assert len(hours) == 24
    open_at = {h["bucket"][-5:]: h["open_at_end"] for h in hours}
    # 09h: A and B arrive; 10h: A solved; 11h: A reopened and solved again; 13h: B solved; 16h: D
    assert [open_at[f"{h:02d}:00"] for h in range(8, 18)] == [0, 2, 1, 1, 2, 1, 1, 1, 2, 2]
    days = await figures.series(figures.period(MONDAY, date(2026, 11, 24), UTC))
    assert [(d["bucket"], d["created"], d["open_at_end"]) for d in days] == [
        ("2026-11-23", 4, 2), ("2026-11-24", 0, 2)]
    shanghai = ZoneInfo("Asia/Shanghai")  # UTC+8: Monday 16:30 UTC is Tuesday 00:30 there
    grid = await figures.heatmap(figures.period(MONDAY, date(2026, 11, 24), shanghai))
    assert (grid[0][17], grid[0][20], grid[1][0]) == (2, 1, 1) and sum(map(sum, grid)) == 4
    local = await figures.series(figures.period(MONDAY, date(2026, 11, 24), shanghai))
    assert [(d["bucket"], d["created"]) for d in local] == [("2026-11-23", 3), ("2026-11-24", 1)]
    # totals read whole UTC days from the daily rows and the edges from the hourly ones
    tuesday_there = await figures.totals(figures.period(date(2026, 11, 24), date(2026, 11, 24), shanghai))
    assert (tuesday_there["created"], tuesday_there["frt_n"], tuesday_there["solved"]) == (1, 1, 0)
    week_there = await figures.totals(figures.period(date(2026, 11, 20), date(2026, 11, 27), shanghai))
    assert (week_there["created"], week_there["solved"], week_there["reopened"], week_there["frt_n"]) == (4, 3, 1, 3)
    by_tag = await figures.breakdown(figures.period(date(2026, 11, 20), date(2026, 11, 27), shanghai), "tag")
    assert [(r["key"], r["created"], r["solved"]) for r in by_tag] == [("refund", 1, 2)]


async def test_rebuild_gives_the_kept_rollups_and_seeding_the_tickets_state(make_desk, at):
    desk = await make_desk(run_jobs=False)
    await build_history(desk, at)
    week = figures.period(MONDAY, date(2026, 11, 29), UTC)
    kept = await figures.totals(week)
    seen: list[tuple[int, int]] = []
    folded = await rollups.rebuild(progress=lambda done, total: seen.append((done, total)), chunk=3)
    assert folded == seen[-1][0] == seen[-1][1] and len(seen) > 2
    assert await figures.totals(week) == kept
    assert await figures.breakdown(week, "tag") and await figures.totals(week) == kept
    # From the tickets alone: the latest solve of A only, no pending-time reopen for B.
    await rollups.seed_from_tickets()
    await rollups.rebuild()
    seeded = await figures.totals(week)
    assert (seeded["created"], seeded["solved"], seeded["frt_n"], seeded["fr_breached"]) == (4, 2, 3, 2)
    assert seeded["reopened"] == 0 and seeded["backlog"] == kept["backlog"] == 2


async def test_folds_racing_writers_count_every_fact_once(make_desk):
    """Six writers ingest, solve, reopen and tag while readers fold; then the kept rollups equal a
    rebuild from the facts, and the backlog equals the open tickets (both databases)."""
    import asyncio
    import random

    from core import db
    from core.inbound import ingest
    from core.types import InboundMessage

    desk = await make_desk(run_jobs=False)
    account = desk.registry.account("api_channel", "main")
    tickets: list[int] = []

    async def writer(seed: int) -> None:
        rng = random.Random(seed)
        for step in range(10):
            action = rng.choice(["ingest", "ingest", "solve", "reopen", "tag", "fold"])
            if action == "ingest" or not tickets:
                results = await ingest(desk, account, [InboundMessage(external_id=f"w{seed}-{step}-{i}",
                                                                      sender_handle=f"c{seed}-{step}-{i}", text="hi")
                                                       for i in range(2)])
                tickets.extend(r.ticket_id for r in results)
            elif action == "fold":
                await rollups.fold()
            else:
                changes = {"solve": {"status": "solved"}, "reopen": {"status": "open"},
                           "tag": {"add_tags": [rng.choice(["vip", "refund"])]}}[action]
                await update_ticket(desk, rng.choice(tickets), actor="test", **changes)

    await asyncio.gather(*(writer(seed) for seed in range(6)))
    year = figures.period(date(2020, 1, 1), date(2020, 12, 31), UTC)
    now = datetime.now(UTC).date()
    span = figures.period(now - timedelta(days=2), now + timedelta(days=1), UTC)
    # (tags are the ticket's when a fact is folded, so a rebuild may file them differently: not compared)
    kept = (await figures.totals(span), await figures.breakdown(span, "agent"), await figures.series(span))
    await rollups.rebuild()
    assert (await figures.totals(span), await figures.breakdown(span, "agent"), await figures.series(span)) == kept
    open_now = await db.fetch("SELECT COUNT(*) AS n FROM tickets WHERE status IN ('new', 'open', 'pending', 'on-hold')")
    assert kept[2][-1]["open_at_end"] == int(open_now[0]["n"]) and kept[0]["created"] == len(tickets)
    assert (await figures.totals(year))["created"] == 0


async def test_local_days_across_a_daylight_saving_change(make_desk):
    """Berlin leaves summer time on Sunday 25 Oct 2026 (03:00 CEST -> 02:00 CET): tickets just
    before and after local midnight land on the right local days, on the days either side too."""
    from core.tables import Customer

    await make_desk(run_jobs=False)
    customer = (await Customer.insert(Customer(name="C")).returning(Customer.id))[0]["id"]
    instants = [datetime(2026, 10, 24, 21, 59, tzinfo=UTC),  # Sat 23:59 CEST
                datetime(2026, 10, 24, 22, 0, tzinfo=UTC),   # Sun 00:00 CEST
                datetime(2026, 10, 25, 22, 59, tzinfo=UTC),  # Sun 23:59 CET
                datetime(2026, 10, 25, 23, 0, tzinfo=UTC)]   # Mon 00:00 CET
    await Ticket.insert(*[Ticket(customer=customer, channel_type="api", created_at=t, updated_at=t,
                                 last_message_at=t) for t in instants])
    berlin = ZoneInfo("Europe/Berlin")
    days = await figures.series(figures.period(date(2026, 10, 24), date(2026, 10, 26), berlin))
    assert [(d["bucket"], d["created"]) for d in days] == [("2026-10-24", 1), ("2026-10-25", 2), ("2026-10-26", 1)]
    sunday = await figures.totals(figures.period(date(2026, 10, 25), date(2026, 10, 25), berlin))
    assert sunday["created"] == 2
    grid = await figures.heatmap(figures.period(date(2026, 10, 24), date(2026, 10, 26), berlin))
    assert (grid[5][23], grid[6][0], grid[6][23], grid[0][0]) == (1, 1, 1, 1)
