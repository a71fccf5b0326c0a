"""The planning page and /api/v1/reports/forecast: a forecast from the desk's own history, agents
needed per hour (Erlang C) against the agents on shift, event days an admin adds; both databases."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone

from core import clock
from core.reports import staffing
from core.tables import AgentShift, Customer, Ticket
from tests.helpers import auth, client_for, make_agent
from tests.web.inbox_helpers import form_post, sign_in
from tests.web.test_reports_pages import tables_of

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)  # a Monday morning
WEEKLY = [9, 8, 8, 7, 7, 3, 2]


async def ten_weeks_of_tickets() -> None:
    """New tickets over the ten weeks before NOW, weekdays busier, in office hours."""
    rng = random.Random(4)
    customer = (await Customer.insert(Customer(name="C")).returning(Customer.id))[0]["id"]
    rows = []
    for d in range(70, 0, -1):
        day = (NOW - timedelta(days=d)).replace(hour=0)
        for _ in range(WEEKLY[day.weekday()] + rng.randint(-1, 1)):
            at = day + timedelta(hours=rng.randint(9, 16), minutes=rng.randint(0, 59))
            rows.append(Ticket(customer=customer, channel_type="api", status="solved", created_at=at, updated_at=at,
                               last_message_at=at))
    await Ticket.insert(*rows)


async def test_planning_shows_needed_against_on_shift_and_takes_event_days(make_desk):
    clock.set_clock(lambda: NOW)
    try:
        desk = await make_desk(run_jobs=False)
        await ten_weeks_of_tickets()
        lead, token = await make_agent("admin", email="boss@example.com")
        await make_agent("agent", email="al@example.com")
        await AgentShift.insert(AgentShift(agent=lead, hours={d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}))
        async with client_for(desk) as client:
            await sign_in(client, "al@example.com")
            assert (await client.get("/inbox/reports/planning")).status_code == 403
        async with client_for(desk) as client:
            await sign_in(client, "boss@example.com")
            page = await client.get("/inbox/reports/planning?preset=chat&shrinkage=0")
            assert page.status_code == 200, page.text[:500]
            hourly = {row[0]: row[1:] for row in tables_of(page.text)["hourly"][1:]}
            assert hourly["10:00"][2] == "1.0" and hourly["20:00"][2] == "0.0"  # on shift 09-17 on a Monday
            assert float(hourly["10:00"][0]) > float(hourly["03:00"][0])  # the office-hours profile
            from tests.web.test_reports_pages import csv_rows

            for name in ("daily", "hourly"):  # the CSV holds the page's rows
                download = await client.get(f"/inbox/reports/planning/csv/{name}?preset=chat&shrinkage=0")
                assert download.status_code == 200 and csv_rows(download.text) == tables_of(page.text)[name], name
            assert (await client.get("/inbox/reports/planning/csv/secrets")).status_code == 400
            backtest = tables_of(page.text)["backtest"]
            assert backtest[1][1] and backtest[2][1]  # the model's and the baseline's MAPE
            one_channel = await client.get("/inbox/reports/planning?channel=api")
            assert one_channel.status_code == 200 and '<option value="api" selected>' in one_channel.text
            nothing = await client.get("/inbox/reports/planning?channel=fax")  # a channel with no history
            assert nothing.status_code == 200 and "days of history" in nothing.text
            for bad in ("preset=phone", "share=0", "aht=-1", "tz=mars", "by=planet", "day=2026-13-01"):
                assert (await client.get(f"/inbox/reports/planning?{bad}")).status_code == 400, bad
            added = await form_post(client, "/inbox/reports/planning/events",
                                    {"name": "prime_day", "day": "2026-12-01", "multiplier": "3"},
                                    page="/inbox/reports/planning")
            assert added.status_code in (302, 303)
            page = await client.get("/inbox/reports/planning")
            assert "prime_day" in page.text
            got = await client.get("/api/v1/reports/forecast?minutes=5&aht=6&concurrency=3&shrinkage=0",
                                   headers=auth(token))
        assert got.status_code == 200
        plan = got.json()
        daily = {d["day"]: d for d in plan["daily"]}
        assert daily["2026-12-01"]["event"] == "prime_day"
        assert 2.5 < daily["2026-12-01"]["volume"] / daily["2026-12-08"]["volume"] < 3.5  # lifted by 3
        assert len(plan["daily"]) == 90 and len(plan["hourly"]) == 14 * 24
        target = staffing.Target(share=0.8, seconds=300, aht=360, concurrency=3, shrinkage=0)
        for hour in plan["hourly"][:48]:
            assert hour["needed"] == staffing.agents_needed(hour["volume"], target) or abs(
                hour["needed"] - staffing.agents_needed(hour["volume"], target)) <= 1  # volume shown rounded
        monday = [h for h in plan["hourly"] if h["day"] == "2026-11-23"]
        assert [h["on_shift"] for h in monday] == [0.0] * 9 + [1.0] * 8 + [0.0] * 7
        assert plan["understaffed_hours"] == sum(1 for h in plan["hourly"] if h["gap"] < 0)
    finally:
        clock.set_clock(None)


async def test_supervisors_hear_of_an_understaffed_day_once(make_desk):
    from core.reports import planning
    from core.tables import Notification

    clock.set_clock(lambda: NOW)
    try:
        desk = await make_desk(run_jobs=False)
        await ten_weeks_of_tickets()
        lead, _ = await make_agent("supervisor", email="sue@example.com")
        agent, _ = await make_agent("agent", email="al@example.com")
        # one agent on shift for an hour early in the week: the rest of the office hours are short
        await AgentShift.insert(AgentShift(agent=agent, hours={d: [["09:00", "10:00"]] for d in ("mon", "tue", "wed")}))
        stored = await planning.notice_understaffed(desk)
        again = await planning.notice_understaffed(desk)
        rows = await Notification.select().where(Notification.agent == lead)
        assert stored >= 1 and again == 0 and len(rows) == stored
        params = rows[0]["params"] if isinstance(rows[0]["params"], dict) else json.loads(rows[0]["params"])
        assert rows[0]["kind"] == "understaffed" and params["day"] == "2026-11-23" and params["hours"] >= 1
        assert not await Notification.exists().where(Notification.agent == agent)  # agents are not told
    finally:
        clock.set_clock(None)
