"""Piccolo tables of the reports (created by migration core_0015 in raw SQL: triggers write them)."""

from __future__ import annotations

from piccolo.columns import BigInt, BigSerial, Boolean, DoublePrecision, Integer, Varchar
from piccolo.table import Table


class ReportFact(Table, tablename="report_facts"):
    """One thing that happened to a ticket (created, first response, solved, reopened, a breach, a
    change in and out of the open statuses), appended by the tickets' triggers with the ticket's
    channel, account, team, agent and language at that moment. The history rollups are built from."""

    id = BigSerial(primary_key=True)
    hour = BigInt()  # hours since 1970-01-01 UTC
    ticket = Integer()
    kind = Varchar(length=16)
    value = BigInt(default=0)  # seconds (first response, resolution)
    replies = Integer(default=0)
    first_time = Integer(default=0)
    sla = Integer(default=0)  # 1 target met, -1 missed, 0 no target or judged elsewhere
    delta = Integer(default=0)  # +1 / -1: the ticket entered / left the open statuses
    channel = Varchar(length=64, null=True, default=None)
    account = Integer(null=True, default=None)
    team = Integer(null=True, default=None)
    agent = Integer(null=True, default=None)
    language = Varchar(length=16, null=True, default=None)
    folded = Boolean(default=False)


class ReportRollup(Table, tablename="report_rollups"):
    """Sums of the facts per (dimension, hour, key); unique on (dim, hour, key)."""

    id = BigSerial(primary_key=True)
    dim = Varchar(length=16)
    hour = BigInt()
    key = Varchar(length=80)
    created = BigInt(default=0)
    solved = BigInt(default=0)
    first_solved = BigInt(default=0)
    fcr = BigInt(default=0)
    replies = BigInt(default=0)
    res_seconds = BigInt(default=0)
    reopened = BigInt(default=0)
    frt_n = BigInt(default=0)
    frt_seconds = BigInt(default=0)
    fr_met = BigInt(default=0)
    fr_breached = BigInt(default=0)
    res_met = BigInt(default=0)
    res_breached = BigInt(default=0)
    backlog = BigInt(default=0)


class ForecastEvent(Table, tablename="forecast_events"):
    """An event day an admin adds to the forecast: its name, a local date (YYYY-MM-DD) and the
    multiplier to use when the desk's history has no such day yet."""

    name = Varchar(length=64)
    day = Varchar(length=10)
    multiplier = DoublePrecision(null=True, default=None)
    created_by = Varchar(length=100, default="")


REPORT_TABLES: tuple[type[Table], ...] = (ReportFact, ReportRollup, ForecastEvent)
