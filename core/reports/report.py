"""One report as the page, its CSV files and the API all show it: the same dict, so the three
cannot disagree. Keys only; the inbox puts words on them in the reader's language."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING, Any

from core import db
from core.events import await_me_maybe
from core.reports import figures

if TYPE_CHECKING:
    from core.desk import Desk

# The headline figures, in the order the page shows them.
OVERVIEW = ("created", "solved", "reopened", "frt_avg_minutes", "resolution_avg_hours", "replies_per_solve",
            "fcr_percent", "reopen_percent", "fr_sla_percent", "res_sla_percent", "fr_breached", "res_breached")
# Columns of the tables beneath the charts.
SERIES_COLUMNS = ("bucket", "created", "solved", "reopened", "open_at_end", "frt_avg_minutes",
                  "resolution_avg_hours", "fr_sla_percent", "res_sla_percent")
BREAKDOWN_COLUMNS = ("name", "created", "solved", "reopened", "frt_avg_minutes", "resolution_avg_hours",
                     "replies_per_solve", "fcr_percent", "reopen_percent", "fr_sla_percent", "res_sla_percent")
# Where a lower figure is the better one (the page colours a change by it).
LOWER_IS_BETTER = {"reopened", "frt_avg_minutes", "resolution_avg_hours", "replies_per_solve", "reopen_percent",
                   "fr_breached", "res_breached"}


def change(now: float | None, before: float | None) -> float | None:
    """Percent change from the previous period (None when either is missing or before is 0)."""
    if now is None or before in (None, 0):
        return None
    return round(100 * (now - before) / abs(before), 1)


async def names(dim: str, keys: list[str]) -> dict[str, str]:
    """Display names for the keys of one dimension (agents and teams by name, accounts by plugin/name)."""
    ids = [int(k) for k in keys if k.isdigit()]
    table = {"agent": "agents", "team": "teams"}.get(dim)
    if table and ids:
        marks = ", ".join("{}" for _ in ids)
        rows = await db.fetch(f"SELECT id, name FROM {table} WHERE id IN ({marks})", *ids)
        return {str(r["id"]): r["name"] for r in rows}
    if dim == "account" and ids:
        marks = ", ".join("{}" for _ in ids)
        rows = await db.fetch(f"SELECT id, plugin, name FROM channel_accounts WHERE id IN ({marks})", *ids)
        return {str(r["id"]): f"{r['plugin']}/{r['name']}" for r in rows}
    return {}


async def plugin_figures(desk: "Desk", start: datetime, end: datetime) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for result in desk.registry.hook.report_figures(start=start, end=end):
        out.extend(await await_me_maybe(result) or [])
    return out


async def build(desk: "Desk", first: date, last: date, zone: tzinfo, by: str = "channel",
                step: str = "day") -> dict[str, Any]:
    """The report of the local days first..last in `zone`, beside the period of the same length before."""
    p = figures.period(first, last, zone)
    before = p.previous()
    now, prev = await figures.totals(p), await figures.totals(before)
    rows = await figures.breakdown(p, by)
    shown = await names(by, [r["key"] for r in rows])
    for row in rows:
        row["name"] = shown.get(row["key"], row["key"])
    extra_now = await plugin_figures(desk, p.start, p.end)
    extra_before = {f["key"]: f for f in await plugin_figures(desk, before.start, before.end)}
    extra = [{**f, "previous": extra_before.get(f["key"], {}).get("value"),
              "change": change(f["value"], extra_before.get(f["key"], {}).get("value"))} for f in extra_now]
    return {
        "from": first.isoformat(), "to": last.isoformat(), "timezone": str(zone), "by": by, "step": step,
        "start": p.start.isoformat(), "end": p.end.isoformat(),
        "previous": {"from": (first - (last - first) - timedelta(days=1)).isoformat(),
                     "to": (first - timedelta(days=1)).isoformat()},
        "overview": [{"metric": m, "value": now[m], "previous": prev[m], "change": change(now[m], prev[m]),
                      "lower_is_better": m in LOWER_IS_BETTER} for m in OVERVIEW],
        "plugin_figures": extra,
        "series": [{c: r[c] for c in SERIES_COLUMNS} for r in await figures.series(p, step)],
        "breakdown": [{"key": r["key"], **{c: r[c] for c in BREAKDOWN_COLUMNS}} for r in rows],
        "heatmap": await figures.heatmap(p),
        "generated_at": datetime.now(timezone.utc).isoformat(),
    }
