"""The planning page's figures: the volume forecast from the desk's own rollups, its backtest,
and agents needed per hour (Erlang C) against the agents on shift (the shifts routing knows).

The fit is CPU work (statsmodels) done in a short-lived child process and cached per desk day,
scope and event list; changing the staffing target reuses it. A child, not a thread: statsmodels
with numpy, scipy and pandas add about 100 MB that a desk process (the embedded demo stays under
150 MB) should not keep for a fit made once a day, and the fit holds no lock the desk needs."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any

from core import clock, db
from core.reports import figures, forecast, staffing

HISTORY_DAYS = 730  # two years: last year's 11.11 and Black Friday are in it
DAILY_HORIZON = 90
HOURLY_DAYS = 14
PROFILE_WEEKS = 8
_cache: dict[tuple, tuple[forecast.Forecast, dict[str, Any]]] = {}


async def history(zone: tzinfo, dim: str, key: str, today: date) -> tuple[list[date], list[float]]:
    """New tickets per local day up to yesterday (today is not over), from the first day with any."""
    start = datetime.combine(today - timedelta(days=HISTORY_DAYS), time.min, tzinfo=zone).astimezone(timezone.utc)
    end = datetime.combine(today, time.min, tzinfo=zone).astimezone(timezone.utc)
    rows = await figures.series(figures.Period(start, end, zone), "day", dim, key)
    first = next((i for i, r in enumerate(rows) if r["created"]), len(rows))
    return [date.fromisoformat(r["bucket"]) for r in rows[first:]], [float(r["created"]) for r in rows[first:]]


async def events() -> list[forecast.Event]:
    """The built-in events, with an admin's multipliers, plus the admin's own dated events."""
    rows = await db.fetch("SELECT name, day, multiplier FROM forecast_events ORDER BY name, day")
    out = {name: forecast.Event(name) for name in forecast.DEFAULT_EVENTS}
    for row in rows:
        event = out.setdefault(row["name"], forecast.Event(row["name"]))
        if row["name"] not in forecast.DEFAULT_EVENTS:
            event.days.append(date.fromisoformat(row["day"]))
        if row["multiplier"] is not None:
            event.multiplier = float(row["multiplier"])
    return list(out.values())


async def event_rows() -> list[dict[str, Any]]:
    return await db.fetch("SELECT id, name, day, multiplier, created_by FROM forecast_events ORDER BY day, name")


async def on_shift(starts: list[datetime]) -> tuple[list[float], int]:
    """Agents on shift during each hour starting at `starts` (fractions for part hours), and how
    many active agents have no shift set (they are not counted: nobody knows when they work)."""
    from core.sla import Calendar

    rows = await db.fetch("SELECT a.id, a.timezone, s.hours, s.holidays FROM agents a LEFT JOIN agent_shifts s "
                          "ON s.agent = a.id WHERE a.active AND a.role <> 'readonly'")
    counts = [0.0] * len(starts)
    unknown = 0
    for row in rows:
        if row["hours"] is None:
            unknown += 1
            continue
        hours = json.loads(row["hours"]) if isinstance(row["hours"], str) else row["hours"]
        holidays = json.loads(row["holidays"]) if isinstance(row["holidays"], str) else row["holidays"]
        try:
            shift = Calendar.from_config(row["timezone"] or "UTC", hours or {}, holidays or [])
        except ValueError:
            unknown += 1
            continue
        for i, start in enumerate(starts):
            counts[i] += shift.between(start, start + timedelta(hours=1)) / 60  # minutes on shift
    return [round(c, 2) for c in counts], unknown


def _fit(days: list[date], values: list[float], evs: list[forecast.Event]) -> tuple[forecast.Forecast, dict[str, Any]]:
    fc = forecast.daily(days, values, DAILY_HORIZON, evs)
    return fc, forecast.backtest(days, values, origins=4, step=7, horizon=14, events=evs)


async def _in_child(func: Any, *args: Any) -> Any:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return await asyncio.get_running_loop().run_in_executor(pool, func, *args)


async def plan(zone: tzinfo, target: staffing.Target, dim: str = "all", key: str = "") -> dict[str, Any]:
    today = clock.now().astimezone(zone).date()
    days, values = await history(zone, dim, key, today)
    if len(days) < forecast.MIN_HISTORY_DAYS + 14:
        return {"available": False, "history_days": len(days), "needed_days": forecast.MIN_HISTORY_DAYS + 14}
    evs = await events()
    signature = (dim, key, str(zone), today, tuple((e.name, tuple(e.days), e.multiplier) for e in evs),
                 days[0], sum(values))
    if signature not in _cache:
        _cache.clear()  # one scope at a time is plenty; a new day or event list refits
        _cache[signature] = await _in_child(_fit, days, values, evs)
    fc, backtest = _cache[signature]
    p = figures.Period(datetime.combine(today - timedelta(weeks=PROFILE_WEEKS), time.min, tzinfo=zone)
                       .astimezone(timezone.utc),
                       datetime.combine(today, time.min, tzinfo=zone).astimezone(timezone.utc), zone)
    grid = await figures.heatmap(p)
    profile = forecast.hourly_profile([(d, h, grid[d][h]) for d in range(7) for h in range(24)])
    hourly = forecast.hourly(fc, profile, HOURLY_DAYS)
    starts = [datetime.combine(day, time(hour), tzinfo=zone) for day, hour, _ in hourly]
    shifts, unknown = await on_shift(starts)
    hours = []
    for (day, hour, volume), have in zip(hourly, shifts):
        need = staffing.agents_needed(volume, target)
        hours.append({"day": day.isoformat(), "hour": hour, "volume": round(volume, 1), "needed": need,
                      "on_shift": have, "gap": round(have - need, 2)})
    event_days = {}
    for e in evs:
        for when in e.dates(range(today.year, today.year + 2)):
            if today <= when <= today + timedelta(days=DAILY_HORIZON):
                event_days[when.isoformat()] = e.name
    return {
        "available": True, "today": today.isoformat(), "history_days": len(days),
        "daily": [{"day": d.isoformat(), "volume": round(v, 1), "event": event_days.get(d.isoformat())}
                  for d, v in zip(fc.days, fc.values)],
        "hourly": hours, "lifts": fc.lifts, "backtest": backtest, "agents_without_shift": unknown,
        "understaffed_hours": sum(1 for h in hours if h["gap"] < 0),
        "method": "statsmodels Holt-Winters (damped additive trend, weekly seasonality, log scale)",
    }


async def add_event(name: str, day: date, multiplier: float | None, actor: str) -> int:
    """Add (or change the multiplier of) an event day; returns its id."""
    rows = await db.fetch("SELECT id FROM forecast_events WHERE name = {} AND day = {}", name, day.isoformat())
    if rows:
        await db.fetch("UPDATE forecast_events SET multiplier = {} WHERE id = {}", multiplier, rows[0]["id"])
        return int(rows[0]["id"])
    rows = await db.fetch("INSERT INTO forecast_events (name, day, multiplier, created_by) VALUES ({}, {}, {}, {}) "
                          "RETURNING id", name, day.isoformat(), multiplier, actor)
    return int(rows[0]["id"])


async def delete_event(event_id: int) -> None:
    await db.fetch("DELETE FROM forecast_events WHERE id = {}", event_id)


NOTICE_DAYS = 3  # how far ahead supervisors hear of an understaffed day


async def notice_understaffed(desk: Any) -> int:
    """Tell supervisors and admins, once per coming day, when a day of the next NOTICE_DAYS has
    hours with fewer agents on shift than the forecast needs (the email preset's target: 80%
    within 2 hours, 8 minutes a contact, 30% shrinkage). Returns how many notifications it stored."""
    from zoneinfo import ZoneInfo

    from core import notifications

    zone = ZoneInfo(desk.settings.timezone or "UTC")
    plan_ = await plan(zone, staffing.Target())
    if not plan_.get("available"):
        return 0
    days = sorted({h["day"] for h in plan_["hourly"]})[:NOTICE_DAYS]
    stored = 0
    for day in days:
        short = [h for h in plan_["hourly"] if h["day"] == day and h["gap"] < 0]
        if not short:
            continue
        key = f"understaffed:{day}"
        if await db.fetch("SELECT id FROM notifications WHERE kind = 'understaffed' AND text LIKE {} LIMIT 1",
                          f"%[{key}]"):
            continue  # told already
        params = {"day": day, "hours": len(short), "short": round(-min(h["gap"] for h in short), 1)}
        text = notifications.TEMPLATES["understaffed"].format(**params) + f" [{key}]"
        for role in ("supervisor", "admin"):
            stored += await notifications.notify({"role": role}, text, kind="understaffed", desk=desk, params=params)
    return stored


async def notice_job(ctx: dict) -> int:
    return await notice_understaffed(ctx["desk"])
