"""The reports area (/inbox/reports): supervisors and admins. Figures from core.reports.report; a
chart per table drawn in the browser by Chart.js (web/static/reports.js), the table beneath it,
and every table as CSV (the same rows, the same words: `table`)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from typing import Any

from litestar import Request, Response, get
from litestar.response import Template

from core import clock
from core.errors import InvalidRequest
from core.reports import figures, report
from web import i18n
from web.i18n import N_
from web.inbox.common import page
from web.sessions import page_guard, session_agent

TABLES = ("overview", "series", "breakdown", "heatmap")
DEFAULT_DAYS = 30
LABELS = {
    "created": N_("New tickets"), "solved": N_("Solved"), "reopened": N_("Reopened"),
    "frt_avg_minutes": N_("First response time (avg. minutes)"),
    "resolution_avg_hours": N_("Full resolution time (avg. hours)"),
    "replies_per_solve": N_("Replies to resolve (avg.)"), "fcr_percent": N_("First-contact resolution %"),
    "reopen_percent": N_("Reopen rate %"), "fr_sla_percent": N_("First response SLA attained %"),
    "res_sla_percent": N_("Resolution SLA attained %"), "fr_breached": N_("First response SLA breaches"),
    "res_breached": N_("Resolution SLA breaches"), "open_at_end": N_("Open at end"),
    "bucket": N_("Period"), "name": N_("Name"), "metric": N_("Figure"), "value": N_("This period"),
    "previous": N_("Previous period"), "change": N_("Change %"), "weekday": N_("Weekday"),
}
DIMENSIONS = {"channel": N_("Channel"), "account": N_("Account / store"), "team": N_("Team"), "agent": N_("Agent"),
              "language": N_("Language"), "tag": N_("Tag")}
WEEKDAYS = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"), N_("Saturday"), N_("Sunday"))
EXTRA_LABELS = (N_("CSAT"), N_("NPS"))  # what the CSAT plugin's report_figures call their figures


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise InvalidRequest(i18n.gettext_("%(name)s must be a date like 2026-11-11.") % {"name": name}) from None


async def choices(request: Request, since: str | None, until: str | None, tz: str | None, by: str | None,
                  step: str | None) -> dict[str, Any]:
    """The query's choices, checked (400 for a bad one), with the defaults filled in."""
    settings = request.app.state.desk.settings
    tz = tz or "desk"
    if tz not in ("desk", "viewer"):
        raise InvalidRequest(i18n.gettext_("tz must be desk or viewer."))
    agent = await session_agent(request)
    zone = i18n.zone(settings.timezone if tz == "desk" else (agent or {}).get("timezone"))
    by = by or "channel"
    if by not in figures.BREAKDOWNS:
        raise InvalidRequest(i18n.gettext_("by must be one of: %(names)s.") % {"names": ", ".join(figures.BREAKDOWNS)})
    step = step or "day"
    if step not in ("day", "hour"):
        raise InvalidRequest(i18n.gettext_("step must be day or hour."))
    today = clock.now().astimezone(zone).date()
    last = _day(until, "to") or today
    first = _day(since, "from") or last - timedelta(days=DEFAULT_DAYS - 1)
    if last < first:
        raise InvalidRequest(i18n.gettext_("The range ends before it starts."))
    if (last - first).days + 1 > figures.MAX_DAYS:
        raise InvalidRequest(i18n.gettext_("A range is at most %(days)s days.") % {"days": figures.MAX_DAYS})
    if step == "hour" and (last - first).days + 1 > 31:
        raise InvalidRequest(i18n.gettext_("Hourly figures are for ranges of at most 31 days."))
    return {"first": first, "last": last, "zone": zone, "tz": tz, "by": by, "step": step}


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def table(data: dict[str, Any], name: str) -> tuple[list[str], list[list[str]]]:
    """(headers, rows) of one of the report's tables, in the current language: what the page shows
    beneath a chart and what its CSV holds."""
    t = i18n.gettext_
    if name == "overview":
        rows = [[t(LABELS[r["metric"]]), _cell(r["value"]), _cell(r["previous"]), _cell(r["change"])]
                for r in data["overview"]]
        rows += [[t(f["label"]), _cell(f["value"]), _cell(f["previous"]), _cell(f["change"])]
                 for f in data["plugin_figures"]]
        return [t(LABELS[c]) for c in ("metric", "value", "previous", "change")], rows
    if name == "series":
        return ([t(LABELS[c]) for c in report.SERIES_COLUMNS],
                [[_cell(r[c]) for c in report.SERIES_COLUMNS] for r in data["series"]])
    if name == "breakdown":
        headers = [t(DIMENSIONS[data["by"]])] + [t(LABELS[c]) for c in report.BREAKDOWN_COLUMNS[1:]]
        return headers, [[_cell(r["name"]) or t("(none)")] + [_cell(r[c]) for c in report.BREAKDOWN_COLUMNS[1:]]
                         for r in data["breakdown"]]
    if name == "heatmap":
        return ([t(LABELS["weekday"])] + [f"{h:02d}" for h in range(24)],
                [[t(WEEKDAYS[d])] + [str(n) for n in data["heatmap"][d]] for d in range(7)])
    raise InvalidRequest(i18n.gettext_("No such table."))


def _script_json(value: Any) -> str:
    """JSON for a <script type="application/json"> block: no "<", ">" or "&" that could close it."""
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _heat_classes(grid: list[list[int]]) -> list[list[int]]:
    """Each cell's shade 0-9 (CSS classes: the page's policy allows no inline styles)."""
    top = max((n for row in grid for n in row), default=0)
    return [[(0 if not n else 1 + min(8, 9 * n // (top + 1))) for n in row] for row in grid]


@get("/inbox/reports", include_in_schema=False, guards=[page_guard("supervisor")])
async def reports_page(request: Request, since: str | None = None, until: str | None = None, tz: str | None = None,
                       by: str | None = None, step: str | None = None) -> Template:
    chosen = await choices(request, since, until, tz, by, step)
    data = await report.build(request.app.state.desk, chosen["first"], chosen["last"], chosen["zone"],
                              chosen["by"], chosen["step"])
    tables = {name: table(data, name) for name in TABLES}
    query = {"since": data["from"], "until": data["to"], "tz": chosen["tz"], "by": chosen["by"], "step": chosen["step"]}
    chart = {  # what reports.js draws; labels already in the reader's language
        "series": {"labels": [r["bucket"] for r in data["series"]],
                   "sets": [{"label": i18n.gettext_(LABELS[k]), "data": [r[k] for r in data["series"]],
                             "kind": "line" if k == "open_at_end" else "bar"}
                            for k in ("created", "solved", "reopened", "open_at_end")]},
        "times": {"labels": [r["bucket"] for r in data["series"]],
                  "sets": [{"label": i18n.gettext_(LABELS[k]), "data": [r[k] for r in data["series"]], "kind": "line"}
                           for k in ("frt_avg_minutes", "resolution_avg_hours")]},
        "sla": {"labels": [r["bucket"] for r in data["series"]],
                "sets": [{"label": i18n.gettext_(LABELS[k]), "data": [r[k] for r in data["series"]], "kind": "line"}
                         for k in ("fr_sla_percent", "res_sla_percent")]},
        "breakdown": {"labels": [r["name"] or i18n.gettext_("(none)") for r in data["breakdown"][:20]],
                      "sets": [{"label": i18n.gettext_(LABELS[k]), "data": [r[k] for r in data["breakdown"][:20]],
                                "kind": "bar"} for k in ("created", "solved")]},
    }
    return await page(request, "reports/index.html", data=data, tables=tables, query=query, chosen=chosen,
                      dimensions={k: i18n.gettext_(v) for k, v in DIMENSIONS.items()},
                      labels={k: i18n.gettext_(v) for k, v in LABELS.items()}, heat=_heat_classes(data["heatmap"]),
                      chart_json=_script_json(chart), weekdays=[i18n.gettext_(d) for d in WEEKDAYS],
                      plugin_labels={f["key"]: i18n.gettext_(f["label"]) for f in data["plugin_figures"]})


def _safe(cell: str) -> str:
    """A name a spreadsheet would run as a formula (=, +, @, or - before a non-number) gets a quote."""
    if cell[:1] in ("=", "+", "@", "\t", "\r") or (cell[:1] == "-" and not _number(cell)):
        return "'" + cell
    return cell


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


@get("/inbox/reports/csv/{name:str}", include_in_schema=False, guards=[page_guard("supervisor")])
async def reports_csv(request: Request, name: str, since: str | None = None, until: str | None = None,
                      tz: str | None = None, by: str | None = None, step: str | None = None) -> Response:
    if name not in TABLES:
        raise InvalidRequest(i18n.gettext_("No such table."))
    chosen = await choices(request, since, until, tz, by, step)
    data = await report.build(request.app.state.desk, chosen["first"], chosen["last"], chosen["zone"],
                              chosen["by"], chosen["step"])
    headers, rows = table(data, name)
    return csv_response(headers, rows, f"relaydesk-{name}-{data['from']}-{data['to']}.csv")


def csv_response(headers: list[str], rows: list[list[str]], filename: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows([[_safe(c) for c in row] for row in rows])
    # a BOM so spreadsheet programs read the Chinese headers as UTF-8
    return Response(content="\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{filename}"'})


ROUTES = [reports_page, reports_csv]
