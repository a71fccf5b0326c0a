"""/api/v1/reports: the figures of the inbox's reports area, for supervisors and admins.

The same dict the page and its CSV files are made from (core.reports.report.build)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from litestar import Controller, Request, get
from litestar.params import Parameter

from core import clock
from core.errors import InvalidRequest
from core.reports import figures, report
from web.api.openapi import errors
from web.auth import require

Breakdown = Literal["channel", "account", "team", "agent", "language", "tag"]


def _zone(name: str | None, desk_zone: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or desk_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidRequest(f"unknown time zone {name!r}; use an IANA name like Asia/Shanghai") from None


class ReportsController(Controller):
    path = "/api/v1/reports"
    tags = ["reports"]
    guards = [require("supervisor")]

    @get("/", responses=errors())
    async def get_report(
        self, request: Request,
        since: date | None = Parameter(default=None, description="first local day (default: 29 days before `until`)"),
        until: date | None = Parameter(default=None, description="last local day, inclusive (default: today)"),
        tz: str | None = Parameter(default=None, max_length=64,
                                   description="IANA time zone the days are in (default: the desk's)"),
        by: Breakdown = Parameter(default="channel", description="what the breakdown table is per"),
        step: Literal["day", "hour"] = Parameter(default="day", description="buckets of the series"),
    ) -> dict[str, Any]:
        """Overview with the previous period, series with the open backlog, breakdown, weekday x hour
        heatmap (Monday first), and plugins' figures (CSAT, NPS). Definitions: docs/reports.md."""
        zone = _zone(tz, request.app.state.desk.settings.timezone)
        last = until or clock.now().astimezone(zone).date()
        first = since or last - timedelta(days=29)
        if last < first:
            raise InvalidRequest("until is before since")
        if (last - first).days + 1 > figures.MAX_DAYS:
            raise InvalidRequest(f"a range is at most {figures.MAX_DAYS} days")
        if step == "hour" and (last - first).days + 1 > 31:
            raise InvalidRequest("hourly series are for ranges of at most 31 days")
        return await report.build(request.app.state.desk, first, last, zone, by, step)

    @get("/forecast", responses=errors())
    async def get_forecast(
        self, request: Request,
        tz: str | None = Parameter(default=None, max_length=64, description="IANA time zone (default: the desk's)"),
        by: Literal["all", "channel", "account", "team", "agent", "language", "tag"] = Parameter(
            default="all", description="forecast one key of a dimension (with `key`), or the whole desk"),
        key: str = Parameter(default="", max_length=80, description="e.g. email, when by=channel"),
        share: float = Parameter(default=80, ge=1, le=99, description="percent answered within the target"),
        minutes: float = Parameter(default=120, gt=0, le=10080, description="the target, in minutes"),
        aht: float = Parameter(default=8, gt=0, le=600, description="handle time per contact, minutes"),
        concurrency: int = Parameter(default=1, ge=1, le=20, description="conversations one agent holds at once"),
        shrinkage: float = Parameter(default=30, ge=0, le=90, description="percent of paid time not on contacts"),
    ) -> dict[str, Any]:
        """New tickets per day (90 days) and per hour (14 days) with agents needed (Erlang C) and on
        shift; the rolling-origin backtest against seasonal-naive. Method: docs/reports.md."""
        from core.reports import planning, staffing

        zone = _zone(tz, request.app.state.desk.settings.timezone)
        target = staffing.Target(share=share / 100, seconds=minutes * 60, aht=aht * 60, concurrency=concurrency,
                                 shrinkage=shrinkage / 100)
        return await planning.plan(zone, target, by, key if by != "all" else "")
