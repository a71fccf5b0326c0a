"""GET /api/v1/plugins/csat/report?group=agent|team|channel|week[&since=ISO&until=ISO]

CSAT % = share of CSAT answers scoring 4 or 5; NPS = % promoters (9-10) - % detractors (0-6) of the
NPS answers. Each group carries its counts so a chart can weigh them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import get

from core.plugin_api import InvalidRequest
from core.plugin_api import Agent, Team
from plugins.csat.tables import CsatSurvey
from web.plugin_api import require

GROUPS = ("agent", "team", "channel", "week")


def _parse(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidRequest(f"{name} must be an ISO date or date-time, like 2026-11-01") from None
    if parsed.tzinfo is None:
        from datetime import timezone

        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    csat = [r["score"] for r in rows if r["kind"] == "csat"]
    nps = [r["score"] for r in rows if r["kind"] == "nps"]
    out: dict[str, Any] = {"csat_responses": len(csat), "nps_responses": len(nps), "csat_percent": None,
                           "nps": None, "promoters": sum(s >= 9 for s in nps), "detractors": sum(s <= 6 for s in nps)}
    if csat:
        out["csat_percent"] = round(100 * sum(s >= 4 for s in csat) / len(csat), 1)
        out["csat_average"] = round(sum(csat) / len(csat), 2)
    if nps:
        out["nps"] = round(100 * (out["promoters"] - out["detractors"]) / len(nps), 1)
    return out


def _key(row: dict[str, Any], group: str) -> Any:
    if group == "agent":
        return row["agent"]
    if group == "team":
        return row["team"]
    if group == "channel":
        return row["channel_type"]
    year, week, _ = row["answered_at"].isocalendar()
    return f"{year}-W{week:02d}"


@get("/api/v1/plugins/csat/report", guards=[require("readonly")], tags=["csat"])
async def csat_report(group: str = "agent", since: str | None = None, until: str | None = None) -> dict[str, Any]:
    if group not in GROUPS:
        raise InvalidRequest(f"group must be one of {', '.join(GROUPS)}, not {group!r}")
    where = CsatSurvey.answered_at.is_not_null()
    start, end = _parse(since, "since"), _parse(until, "until")
    if start:
        where &= CsatSurvey.answered_at >= start
    if end:
        where &= CsatSurvey.answered_at < end
    rows = await CsatSurvey.select(CsatSurvey.kind, CsatSurvey.score, CsatSurvey.agent, CsatSurvey.team,
                                   CsatSurvey.channel_type, CsatSurvey.answered_at).where(where)
    buckets: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        buckets.setdefault(_key(row, group), []).append(row)
    names: dict[Any, str] = {}
    ids = [k for k in buckets if k is not None]
    if group == "agent" and ids:
        names = {r["id"]: r["name"] for r in await Agent.select(Agent.id, Agent.name).where(Agent.id.is_in(ids))}
    elif group == "team" and ids:
        names = {r["id"]: r["name"] for r in await Team.select(Team.id, Team.name).where(Team.id.is_in(ids))}
    groups = [{"key": key, "name": names.get(key, key), **summarize(items)}
              for key, items in sorted(buckets.items(), key=lambda kv: (kv[0] is None, str(kv[0])))]
    return {"group": group, "total": summarize(rows), "groups": groups}


async def figures_between(start: datetime, end: datetime) -> list[dict[str, Any]]:
    """CSAT % and NPS of the answers given in [start, end): the reports' `report_figures` hook."""
    rows = await CsatSurvey.select(CsatSurvey.kind, CsatSurvey.score).where(
        CsatSurvey.answered_at.is_not_null() & (CsatSurvey.answered_at >= start) & (CsatSurvey.answered_at < end))
    total = summarize(rows)
    return [{"key": "csat.csat_percent", "label": "CSAT", "value": total["csat_percent"],
             "count": total["csat_responses"]},
            {"key": "csat.nps", "label": "NPS", "value": total["nps"], "count": total["nps_responses"]}]
