"""What the reports read: sums of the hourly rollups over a range, never the tickets or messages.

A range is [start, end) in UTC, whole hours (a time zone with a half-hour offset sees its days
start on the hour before: docs/reports.md). Every read folds pending facts first (rollups.fold),
so figures are current the moment a change commits.
"""

from __future__ import annotations

from bisect import bisect_right
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


def _spans(p: Period, dim: str) -> tuple[str, list[Any]]:
    """The WHERE of a range: whole UTC days from the daily rows, the hours at either edge from the
    hourly ones (three ranges of the (dim, hour, key) index)."""
    low, high = p.hours
    day_low, day_high = -(-low // 24) * 24, high // 24 * 24
    if day_low >= day_high:
        return "(dim = {} AND hour >= {} AND hour < {})", [dim, low, high]
    return ("((dim = {} AND hour >= {} AND hour < {}) OR (dim = {} AND hour >= {} AND hour < {}) "
            "OR (dim = {} AND hour >= {} AND hour < {}))",
            [dim, low, day_low, f"{dim}@d", day_low, day_high, dim, day_high, high])


async def totals(p: Period, dim: str = "all", key: str | None = None) -> dict[str, Any]:
    where, args = _spans(p, dim)
    if key is not None:
        where, args = where + " AND key = {}", args + [key]
    rows = await _rows(f"SELECT {_SUMS} FROM report_rollups WHERE {where}", *args)
    return derive(rows[0] if rows else {})


async def breakdown(p: Period, dim: str) -> list[dict[str, Any]]:
    """Each key of one dimension (channel, agent, ...) with its figures, largest volume first."""
    if dim not in BREAKDOWNS:
        raise ValueError(f"breakdown must be one of {', '.join(BREAKDOWNS)}")
    where, args = _spans(p, dim)
    rows = await _rows(f"SELECT key, {_SUMS} FROM report_rollups WHERE {where} GROUP BY key", *args)
    out = [{"key": r["key"], **derive(r)} for r in rows]
    out = [r for r in out if any(r[m] for m in METRICS if m != "backlog")]
    return sorted(out, key=lambda r: (-r["created"], -r["solved"], r["key"]))


async def series(p: Period, step: str = "day", dim: str = "all", key: str = "") -> list[dict[str, Any]]:
    """Per local day (or hour) of the period: the figures of that bucket and the open backlog at
    its end (every ticket that entered the open statuses before, minus every one that left)."""
    if step not in ("day", "hour"):
        raise ValueError("step must be day or hour")
    low, high = p.hours
    local = _local_hour(p)
    bucket = f"({local}) / 24" if step == "day" else "hour"  # local days are summed by the database
    rows = await _rows(f"SELECT {bucket} AS b, {_SUMS} FROM report_rollups WHERE dim = {{}} AND key = {{}} "
                       f"AND hour >= {{}} AND hour < {{}} GROUP BY {bucket}", dim, key, low, high)
    day = low // 24 * 24  # before it: whole days from the daily rows; from it to `low`: hours
    before = await db.fetch("SELECT SUM(backlog) AS n FROM report_rollups WHERE key = {} AND ((dim = {} AND hour < {}) "
                            "OR (dim = {} AND hour >= {} AND hour < {}))", key, f"{dim}@d", day, dim, day, low)
    backlog = int(before[0]["n"] or 0)
    starts = _bucket_starts(p, step)  # each bucket's first hour, ascending
    sums = [{m: 0 for m in METRICS} for _ in starts]
    for row in rows:
        first_hour = int(row["b"]) if step == "hour" else _day_start(int(row["b"]), p)
        into = sums[max(0, bisect_right(starts, first_hour) - 1)]
        for m in METRICS:
            into[m] += int(row[m] or 0)
    out = []
    for start, bucket in zip(starts, sums):
        backlog += bucket["backlog"]
        label = _label(datetime.fromtimestamp(start * 3600, timezone.utc), p.zone, step)
        out.append({"bucket": label, **derive(bucket), "open_at_end": backlog})
    return out


def _offsets(p: Period) -> list[tuple[int, int]]:
    """(from this hour, the zone's UTC offset in whole hours) through the period: one entry, or a
    few where daylight saving time changes the offset."""
    low, high = p.hours
    out: list[tuple[int, int]] = []
    hour = low
    while hour < high + 24:
        offset = int(datetime.fromtimestamp(hour * 3600, timezone.utc).astimezone(p.zone).utcoffset().total_seconds()
                     // 3600)
        if not out or out[-1][1] != offset:
            out.append((hour, offset))
        hour += 24
    return out


def _local_hour(p: Period) -> str:
    """SQL: a rollup row's hour counted in the zone's local time (hours since local 1970-01-01)."""
    offsets = _offsets(p)
    if len(offsets) == 1:
        return f"hour + {offsets[0][1]}"
    cases = " ".join(f"WHEN hour < {start} THEN {prev}" for (start, _), (_, prev) in zip(offsets[1:], offsets))
    return f"hour + CASE {cases} ELSE {offsets[-1][1]} END"


def _day_start(local_day: int, p: Period) -> int:
    """The UTC hour a local day (days since local 1970-01-01) begins."""
    moment = datetime.combine(date(1970, 1, 1) + timedelta(days=local_day), time.min, tzinfo=p.zone)
    return int(moment.timestamp()) // 3600


def _bucket_starts(p: Period, step: str) -> list[int]:
    """The first hour (since 1970, UTC) of every local day or hour of the period."""
    low, high = p.hours
    if step == "hour":
        return list(range(low, high))
    first = p.start.astimezone(p.zone).date()
    days = round((p.end - p.start).total_seconds() / 86400)
    return [int(datetime.combine(first + timedelta(days=i), time.min, tzinfo=p.zone).timestamp()) // 3600
            for i in range(days)]


def _label(moment: datetime, zone: tzinfo, step: str) -> str:
    local = moment.astimezone(zone)
    return local.strftime("%Y-%m-%d") if step == "day" else local.strftime("%Y-%m-%d %H:00")


async def heatmap(p: Period, metric: str = "created") -> list[list[int]]:
    """metric per local weekday (0 = Monday) x hour of day, summed over the period."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}")
    low, high = p.hours
    local = _local_hour(p)
    rows = await _rows(f"SELECT ({local}) % 24 AS h, (({local}) / 24 + 3) % 7 AS d, SUM({metric}) AS n "
                       "FROM report_rollups WHERE dim = 'all' AND hour >= {} AND hour < {} GROUP BY 1, 2", low, high)
    grid = [[0] * 24 for _ in range(7)]
    for row in rows:  # 1970-01-01 was a Thursday (weekday 3)
        grid[int(row["d"])][int(row["h"])] += int(row["n"] or 0)
    return grid
