"""What the reports read: sums of the hourly rollups over a range, never the tickets or messages.

A range is [start, end) in UTC, whole hours (a time zone with a half-hour offset sees its days
start on the hour before: docs/reports.md). Every read folds pending facts first (rollups.fold),
so figures are current the moment a change commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any

from core import db
from core.reports import rollups
from core.reports.schema import METRICS

BREAKDOWNS = ("channel", "account", "team", "agent", "language", "tag")
MAX_DAYS = 400  # a year and a bit: a longer range is refused (4xx), not slow


@dataclass(frozen=True, slots=True)
class Period:
    start: datetime  # aware, UTC
    end: datetime
    zone: tzinfo

    @property
    def hours(self) -> tuple[int, int]:
        return int(self.start.timestamp()) // 3600, -(-int(self.end.timestamp()) // 3600)

    def previous(self) -> "Period":
        """The period of the same length just before this one."""
        return Period(self.start - (self.end - self.start), self.start, self.zone)


def period(first: date, last: date, zone: tzinfo) -> Period:
    """From local midnight of `first` to local midnight after `last`."""
    if last < first:
        raise ValueError("the range ends before it starts")
    if (last - first).days + 1 > MAX_DAYS:
        raise ValueError(f"a range is at most {MAX_DAYS} days")
    start = datetime.combine(first, time.min, tzinfo=zone).astimezone(timezone.utc)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone).astimezone(timezone.utc)
    return Period(start, end, zone)


_SUMS = ", ".join(f"SUM({m}) AS {m}" for m in METRICS)


def derive(sums: dict[str, Any]) -> dict[str, Any]:
    """The figures a person reads, from one set of sums (None where there is nothing to divide)."""
    m = {k: int(sums.get(k) or 0) for k in METRICS}

    def ratio(a: float, b: float, scale: float = 1.0, digits: int = 1) -> float | None:
        return round(scale * a / b, digits) if b else None

    return {
        **m,
        "frt_avg_minutes": ratio(m["frt_seconds"], m["frt_n"], 1 / 60),
        "resolution_avg_hours": ratio(m["res_seconds"], m["solved"], 1 / 3600, 2),
        "replies_per_solve": ratio(m["replies"], m["solved"], 1, 2),
        "fcr_percent": ratio(m["fcr"], m["first_solved"], 100),
        "reopen_percent": ratio(m["reopened"], m["solved"], 100),
        "fr_sla_percent": ratio(m["fr_met"], m["fr_met"] + m["fr_breached"], 100),
        "res_sla_percent": ratio(m["res_met"], m["res_met"] + m["res_breached"], 100),
    }


async def _rows(sql: str, *args: Any) -> list[dict[str, Any]]:
    await rollups.fold()
    return await db.fetch(sql, *args)


async def totals(p: Period, dim: str = "all", key: str | None = None) -> dict[str, Any]:
    low, high = p.hours
    where = "dim = {} AND hour >= {} AND hour < {}" + (" AND key = {}" if key is not None else "")
    args = [dim, low, high] + ([key] if key is not None else [])
    rows = await _rows(f"SELECT {_SUMS} FROM report_rollups WHERE {where}", *args)
    return derive(rows[0] if rows else {})


async def breakdown(p: Period, dim: str) -> list[dict[str, Any]]:
    """Each key of one dimension (channel, agent, ...) with its figures, largest volume first."""
    if dim not in BREAKDOWNS:
        raise ValueError(f"breakdown must be one of {', '.join(BREAKDOWNS)}")
    low, high = p.hours
    rows = await _rows(f"SELECT key, {_SUMS} FROM report_rollups WHERE dim = {{}} AND hour >= {{}} AND hour < {{}} "
                       "GROUP BY key", dim, low, high)
    out = [{"key": r["key"], **derive(r)} for r in rows]
    out = [r for r in out if any(r[m] for m in METRICS if m != "backlog")]
    return sorted(out, key=lambda r: (-r["created"], -r["solved"], r["key"]))


async def series(p: Period, step: str = "day", dim: str = "all", key: str = "") -> list[dict[str, Any]]:
    """Per local day (or hour) of the period: the figures of that bucket and the open backlog at
    its end (every ticket that entered the open statuses before, minus every one that left)."""
    if step not in ("day", "hour"):
        raise ValueError("step must be day or hour")
    low, high = p.hours
    rows = await _rows(f"SELECT hour, {_SUMS} FROM report_rollups WHERE dim = {{}} AND key = {{}} AND hour >= {{}} "
                       "AND hour < {} GROUP BY hour ORDER BY hour", dim, key, low, high)
    before = await db.fetch("SELECT SUM(backlog) AS n FROM report_rollups WHERE dim = {} AND key = {} AND hour < {}",
                            dim, key, low)
    backlog = int(before[0]["n"] or 0)
    buckets: dict[str, dict[str, int]] = {}
    moment = p.start
    while moment < p.end:  # every bucket, the empty ones too
        buckets[_label(moment, p.zone, step)] = {m: 0 for m in METRICS}
        moment += timedelta(hours=1)
    for row in rows:
        label = _label(datetime.fromtimestamp(int(row["hour"]) * 3600, timezone.utc), p.zone, step)
        bucket = buckets.setdefault(label, {m: 0 for m in METRICS})
        for m in METRICS:
            bucket[m] += int(row[m] or 0)
    out = []
    for label, sums in buckets.items():
        backlog += sums["backlog"]
        out.append({"bucket": label, **derive(sums), "open_at_end": backlog})
    return out


def _label(moment: datetime, zone: tzinfo, step: str) -> str:
    local = moment.astimezone(zone)
    return local.strftime("%Y-%m-%d") if step == "day" else local.strftime("%Y-%m-%d %H:00")


async def heatmap(p: Period, metric: str = "created") -> list[list[int]]:
    """metric per local weekday (0 = Monday) x hour of day, summed over the period."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}")
    low, high = p.hours
    rows = await _rows(f"SELECT hour, SUM({metric}) AS n FROM report_rollups WHERE dim = 'all' AND hour >= {{}} "
                       "AND hour < {} GROUP BY hour", low, high)
    grid = [[0] * 24 for _ in range(7)]
    for row in rows:
        local = datetime.fromtimestamp(int(row["hour"]) * 3600, timezone.utc).astimezone(p.zone)
        grid[local.weekday()][local.hour] += int(row["n"] or 0)
    return grid
