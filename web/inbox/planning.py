"""The planning page (/inbox/reports/planning): the volume forecast, its backtest, and agents
needed per hour against the agents on shift, for supervisors and admins; admins add event days."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template

from core import audit
from core.errors import InvalidRequest
from core.reports import planning, staffing
from core.reports.figures import BREAKDOWNS
from web import i18n
from web.i18n import N_
from web.inbox.common import form_value, page
from web.inbox.reports import _script_json
from web.sessions import page_guard, session_agent

PRESETS = {  # the examples: email answered within 2 hours, chat within 5 minutes
    "email": {"share": 80, "minutes": 120, "aht": 8, "concurrency": 1, "shrinkage": 30},
    "chat": {"share": 80, "minutes": 5, "aht": 6, "concurrency": 3, "shrinkage": 30},
}
EVENT_NAMES = {"11.11": N_("Singles' Day (11.11)"), "black_friday": N_("Black Friday"),
               "cyber_monday": N_("Cyber Monday"), "6.18": N_("6.18 mid-year sale"),
               "chinese_new_year": N_("Chinese New Year")}


def _number(value: str | None, name: str, low: float, high: float, default: float) -> float:
    if value in (None, ""):
        return default
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not low <= number <= high:
        raise InvalidRequest(i18n.gettext_("%(name)s must be a number from %(low)s to %(high)s.")
                             % {"name": name, "low": low, "high": high})
    return number


def target_from(query: dict[str, Any]) -> tuple[staffing.Target, dict[str, Any]]:
    preset = query.get("preset") or "email"
    if preset not in PRESETS:
        raise InvalidRequest(i18n.gettext_("preset must be email or chat."))
    base = PRESETS[preset]
    chosen = {"preset": preset,
              "share": _number(query.get("share"), "share", 1, 99, base["share"]),
              "minutes": _number(query.get("minutes"), "minutes", 0.1, 10080, base["minutes"]),
              "aht": _number(query.get("aht"), "aht", 0.1, 600, base["aht"]),
              "concurrency": int(_number(query.get("concurrency"), "concurrency", 1, 20, base["concurrency"])),
              "shrinkage": _number(query.get("shrinkage"), "shrinkage", 0, 90, base["shrinkage"])}
    return staffing.Target(share=chosen["share"] / 100, seconds=chosen["minutes"] * 60, aht=chosen["aht"] * 60,
                           concurrency=chosen["concurrency"], shrinkage=chosen["shrinkage"] / 100), chosen


def scope_from(query: dict[str, Any]) -> tuple[str, str]:
    """The whole desk, one channel (`channel=email`), or any breakdown's key (`by=team&key=3`)."""
    if query.get("channel"):
        return "channel", query["channel"][:64]
    by = query.get("by") or "all"
    if by != "all" and by not in BREAKDOWNS:
        raise InvalidRequest(i18n.gettext_("by must be one of: %(names)s.") % {"names": ", ".join(("all",) + BREAKDOWNS)})
    key = (query.get("key") or "")[:80]
    return by, key if by != "all" else ""


def plan_tables(plan: dict[str, Any], day: str | None, names: dict[str, str]) -> dict[str, tuple[list[str], list[list[str]]]]:
    """The planning page's tables as (headers, rows) in the current language: what the page shows
    and what its CSV files hold."""
    t = i18n.gettext_
    daily = ([t("Day"), t("Forecast new tickets"), t("Event")],
             [[d["day"], str(d["volume"]), names.get(d["event"], d["event"]) if d["event"] else ""] for d in plan["daily"]])
    hourly = ([t("Hour"), t("Forecast new tickets"), t("Agents needed"), t("Agents on shift"), t("Gap")],
              [[f"{h['hour']:02d}:00", str(h["volume"]), str(h["needed"]), str(h["on_shift"]), str(h["gap"])]
               for h in plan["hourly"] if h["day"] == day])
    return {"daily": daily, "hourly": hourly}


async def _planned(request: Request) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    query = {k: v for k, v in request.query_params.items()}
    target, chosen = target_from(query)
    by, key = scope_from(query)
    tz = query.get("tz") or "desk"
    if tz not in ("desk", "viewer"):
        raise InvalidRequest(i18n.gettext_("tz must be desk or viewer."))
    me = await session_agent(request)
    zone = i18n.zone(request.app.state.desk.settings.timezone if tz == "desk" else (me or {}).get("timezone"))
    plan = await planning.plan(zone, target, by, key)
    day = query.get("day") or (plan["hourly"][0]["day"] if plan.get("available") else None)
    if day is not None:
        try:
            date.fromisoformat(day)
        except ValueError:
            raise InvalidRequest(i18n.gettext_("%(name)s must be a date like 2026-11-11.") % {"name": "day"}) from None
    names = {k: i18n.gettext_(v) for k, v in EVENT_NAMES.items()}
    return plan, {**chosen, "tz": tz, "by": by, "key": key, "day": day}, names


@get("/inbox/reports/planning", include_in_schema=False, guards=[page_guard("supervisor")])
async def planning_page(request: Request) -> Template:
    plan, chosen, names = await _planned(request)
    day = chosen["day"]
    context: dict[str, Any] = {"plan": plan, "chosen": chosen,
                               "event_names": names, "events": await planning.event_rows(),
                               "presets": PRESETS, "breakdowns": BREAKDOWNS,
                               "channels": sorted(request.app.state.desk.registry.channels)}
    if plan.get("available"):
        hours = [h for h in plan["hourly"] if h["day"] == day]
        days = sorted({h["day"] for h in plan["hourly"]})
        short = {}
        for h in plan["hourly"]:
            if h["gap"] < 0:
                short[h["day"]] = short.get(h["day"], 0) + 1
        query = {k: chosen[k] for k in ("preset", "share", "minutes", "aht", "concurrency", "shrinkage", "tz", "by", "key",
                                        "day")}
        context.update(hours=hours, hourly_days=days, short_days=short, tables=plan_tables(plan, day, names),
                       query=query, chart_json=_script_json({
            "daily": {"labels": [d["day"] for d in plan["daily"]],
                      "sets": [{"label": i18n.gettext_("Forecast new tickets"), "kind": "bar",
                                "data": [d["volume"] for d in plan["daily"]]}]},
            "hourly": {"labels": [f"{h['hour']:02d}" for h in hours],
                       "sets": [{"label": i18n.gettext_("Agents needed"), "kind": "bar", "data": [h["needed"] for h in hours]},
                                {"label": i18n.gettext_("Agents on shift"), "kind": "line",
                                 "data": [h["on_shift"] for h in hours]}]}}))
    return await page(request, "reports/planning.html", **context)


@get("/inbox/reports/planning/csv/{name:str}", include_in_schema=False, guards=[page_guard("supervisor")])
async def planning_csv(request: Request, name: str) -> Response:
    from web.inbox.reports import csv_response

    if name not in ("daily", "hourly"):
        raise InvalidRequest(i18n.gettext_("No such table."))
    plan, chosen, names = await _planned(request)
    if not plan.get("available"):
        raise InvalidRequest(i18n.gettext_("The forecast needs at least %(needed)s days of history; this desk has %(have)s.")
                             % {"needed": plan["needed_days"], "have": plan["history_days"]})
    headers, rows = plan_tables(plan, chosen["day"], names)[name]
    return csv_response(headers, rows, f"relaydesk-plan-{name}-{plan['today']}.csv")


@post("/inbox/reports/planning/events", include_in_schema=False, guards=[page_guard("admin")])
async def change_events(request: Request) -> Redirect:
    me = await session_agent(request)
    form = await request.form()
    actor = f"agent:{me['id']}"
    if form_value(form, "action") == "delete":
        chosen = form_value(form, "id")
        if not chosen.isdigit() or len(chosen) > 12:
            raise InvalidRequest(i18n.gettext_("No such event day."))
        await planning.delete_event(int(chosen))
        await audit.record(actor, "forecast_event_delete", "forecast_event", int(chosen), {})
        return Redirect(path="/inbox/reports/planning")
    name = form_value(form, "name")[:64]
    if not name:
        raise InvalidRequest(i18n.gettext_("Give the event a name."))
    try:
        day = date.fromisoformat(form_value(form, "day")[:10])
    except ValueError:
        raise InvalidRequest(i18n.gettext_("%(name)s must be a date like 2026-11-11.") % {"name": "day"}) from None
    raw = form_value(form, "multiplier")
    multiplier = _number(raw, "multiplier", 0.1, 50, 0) if raw else None
    event_id = await planning.add_event(name, day, multiplier, actor)
    await audit.record(actor, "forecast_event_add", "forecast_event", event_id,
                       {"name": name, "day": day.isoformat(), "multiplier": multiplier})
    return Redirect(path="/inbox/reports/planning")


ROUTES = [planning_page, planning_csv, change_events]
