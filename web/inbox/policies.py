"""Admin pages for routing, SLA and automation: teams with their routing strategy and claim pool,
business calendars, SLA policies (with peak profiles) and rules. Every save goes through the same
functions as /api/v1/admin (web/api/admin.py), so a page shows exactly the validation message the
API would answer with, and keeps what the admin typed. Also: claiming from a pool and the agent's
notifications."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.response import Redirect, Template

from core import jsonsafe, notifications, routing, rules
from core.bounds import MAX_INT, MIN_INT, parse_id
from core.errors import N_, Invalid, RelaydeskError
from core.sla import WEEKDAYS
from core.tables import PRIORITIES, Agent, AutomationRule, BusinessCalendar, SlaPolicy, Team
from web import i18n
from web.api import admin as api
from web.inbox.common import form_list, form_value, is_htmx, page
from web.sessions import can, page_guard, session_agent

ADMIN = [page_guard("supervisor")]  # a supervisor runs routing, SLA and rules


def _who(agent: dict[str, Any]) -> str:
    return f"agent:{agent['id']}"


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace("，", ",").replace("\n", ",").split(",") if part.strip()]


def _int_or_none(text: str, field: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        raise Invalid(N_("{field}: {text} is not a whole number"), field=field, text=repr(text)) from None
    if not MIN_INT <= value <= MAX_INT:
        raise Invalid(N_("{field}: {text} is out of range"), field=field, text=repr(text))
    return value


def _ids(values: list[str]) -> list[int]:
    """Row ids chosen in a form; anything else (not digits, beyond the column's range) names no row."""
    return [i for i in map(parse_id, values) if i is not None]


def _convert(values: dict[str, Any], struct: type) -> Any:
    try:
        return msgspec.convert(values, struct)
    except msgspec.ValidationError as exc:
        raise ValueError(str(exc)) from None


def _error(exc: Exception) -> str:
    """The refusal in the agent's language (validators' Invalid templates go through the catalogs)."""
    return i18n.translate_error(exc)


def _loads(value: Any, default: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value or "null") or default
        except ValueError:
            return default
    return value if value is not None else default


# --- teams and routing ----------------------------------------------------------------------------


async def _teams_page(request: Request, *, edit: int | None = None, error: str | None = None,
                      form: dict[str, Any] | None = None, status: int = 200) -> Template:
    teams = await api.list_teams()
    agents = await Agent.select(Agent.id, Agent.name, Agent.skills, Agent.languages).where(
        Agent.active == True).order_by(Agent.name)  # noqa: E712
    names = {a["id"]: a["name"] for a in agents}
    for team in teams:
        team["members"] = [names.get(i, f"#{i}") for i in team["agent_ids"]]
    current = next((t for t in teams if t["id"] == edit), None)
    channels = sorted(request.app.state.desk.registry.channels)
    return await page(request, "admin/teams.html", status_code=status, teams=teams, current=current, agents=agents,
                      channels=channels, priorities=PRIORITIES, error=error, form=form or {}, section="teams")


@get("/inbox/admin/teams", include_in_schema=False, guards=ADMIN)
async def teams_page(request: Request, edit: int | None = None) -> Template:
    return await _teams_page(request, edit=edit)


@post("/inbox/admin/teams", include_in_schema=False, guards=ADMIN)
async def team_create(request: Request) -> Template | Redirect:
    agent = await session_agent(request)
    form = await request.form()
    try:
        ids = _ids(form_list(form, "agent_ids"))
        visibility = form_value(form, "visibility", "everyone")
        if visibility not in ("everyone", "members"):
            raise ValueError(i18n.gettext_("Choose who sees the team's tickets."))
        team = await api.create_team(api.TeamIn(name=form_value(form, "name"), agent_ids=ids, visibility=visibility),
                                     _who(agent))
    except (RelaydeskError, ValueError) as exc:
        return await _teams_page(request, error=_error(exc), form={"name": form_value(form, "name")}, status=400)
    return Redirect(path=f"/inbox/admin/teams?edit={team['id']}")


@post("/inbox/admin/teams/{team_id:int}", include_in_schema=False, guards=ADMIN)
async def team_save(request: Request, team_id: int) -> Template | Redirect:
    agent = await session_agent(request)
    form = await request.form()
    values: dict[str, Any] = {}
    try:
        values = {
            "strategy": form_value(form, "strategy", "round_robin"),
            "position": _int_or_none(form_value(form, "position"), "position") or 0,
            "channels": form_list(form, "channels"),
            "language_match": form_value(form, "language_match") == "on",
            "sticky": form_value(form, "sticky") == "on",
            "skills_match": form_value(form, "skills_match") == "on",
            "vip_tags": _split(form_value(form, "vip_tags")),
            "keywords": _split(form_value(form, "keywords")),
            "overflow_team": _int_or_none(form_value(form, "overflow_team"), "overflow_team"),
            "overflow_threshold": _int_or_none(form_value(form, "overflow_threshold"), "overflow_threshold"),
            "pool_priorities": form_list(form, "pool_priorities"),
            "claim_cap": _int_or_none(form_value(form, "claim_cap"), "claim_cap"),
            "pool_alert_minutes": _int_or_none(form_value(form, "pool_alert_minutes"), "pool_alert_minutes"),
        }
        await api.save_routing(team_id, _convert(values, api.RoutingIn), _who(agent))
        await api.set_members(team_id, _ids(form_list(form, "agent_ids")), _who(agent))
        await api.set_visibility(team_id, form_value(form, "visibility", "everyone"), _who(agent))
    except (RelaydeskError, ValueError) as exc:
        return await _teams_page(request, edit=team_id, error=_error(exc), form=values, status=400)
    return Redirect(path=f"/inbox/admin/teams?edit={team_id}&saved=1")


# --- business calendars ---------------------------------------------------------------------------


def _hours_text(hours: dict[str, Any]) -> dict[str, str]:
    return {day: ", ".join(f"{a}-{b}" for a, b in hours.get(day) or []) for day in WEEKDAYS}


def _parse_hours(form: Any) -> dict[str, list[list[str]]]:
    hours: dict[str, list[list[str]]] = {}
    for day in WEEKDAYS:
        spans = []
        for part in _split(form_value(form, f"hours_{day}")):
            start, sep, end = part.partition("-")
            if not sep:
                raise Invalid(N_("hours.{day}: {part} is not a window like 09:00-17:00"), day=day, part=repr(part))
            spans.append([start.strip(), end.strip()])
        if spans:
            hours[day] = spans
    return hours


async def _calendars_page(request: Request, *, edit: int | None = None, error: str | None = None,
                          form: dict[str, Any] | None = None, status: int = 200) -> Template:
    rows = await BusinessCalendar.select().order_by(BusinessCalendar.id)
    for row in rows:
        row["hours"] = _loads(row["hours"], {})
        row["holidays"] = _loads(row["holidays"], [])
        row["hours_text"] = _hours_text(row["hours"])
    current = next((r for r in rows if r["id"] == edit), None)
    if form is None and current is not None:
        form = {"id": current["id"], "name": current["name"], "timezone": current["timezone"],
                "hours_text": current["hours_text"], "holidays": "\n".join(current["holidays"])}
    return await page(request, "admin/calendars.html", status_code=status, calendars=rows, current=current,
                      weekdays=WEEKDAYS, error=error, form=form or {"hours_text": {}}, section="calendars")


@get("/inbox/admin/calendars", include_in_schema=False, guards=ADMIN)
async def calendars_page(request: Request, edit: int | None = None) -> Template:
    return await _calendars_page(request, edit=edit)


@post("/inbox/admin/calendars", include_in_schema=False, guards=ADMIN)
async def calendar_save(request: Request) -> Template | Redirect:
    agent = await session_agent(request)
    form = await request.form()
    calendar_id = parse_id(form_value(form, "id"))
    kept = {"id": calendar_id, "name": form_value(form, "name"), "timezone": form_value(form, "timezone"),
            "hours_text": {day: form_value(form, f"hours_{day}") for day in WEEKDAYS},
            "holidays": form_value(form, "holidays")}
    try:
        data = api.CalendarIn(name=kept["name"], timezone=kept["timezone"] or "UTC", hours=_parse_hours(form),
                              holidays=_split(kept["holidays"]))
        await api.save_calendar(data, _who(agent), calendar_id)
    except (RelaydeskError, ValueError) as exc:
        return await _calendars_page(request, edit=calendar_id, error=_error(exc), form=kept, status=400)
    return Redirect(path="/inbox/admin/calendars")


@post("/inbox/admin/calendars/{calendar_id:int}/delete", include_in_schema=False, guards=ADMIN)
async def calendar_delete(request: Request, calendar_id: int) -> Template | Redirect:
    agent = await session_agent(request)
    try:
        await api.delete_calendar(calendar_id, _who(agent))
    except RelaydeskError as exc:
        return await _calendars_page(request, error=_error(exc), status=exc.status_code)
    return Redirect(path="/inbox/admin/calendars")


# --- SLA policies ---------------------------------------------------------------------------------


def _time_text(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else (value or "")


async def _sla_page(request: Request, *, edit: int | None = None, error: str | None = None,
                    form: dict[str, Any] | None = None, status: int = 200) -> Template:
    rows = await SlaPolicy.select().order_by(SlaPolicy.position).order_by(SlaPolicy.id)
    for row in rows:
        row["conditions"] = _loads(row["conditions"], {})
    current = next((r for r in rows if r["id"] == edit), None)
    if form is None and current is not None:
        c = current["conditions"]
        form = {**current, "starts_at": _time_text(current["starts_at"]), "ends_at": _time_text(current["ends_at"]),
                "priority": c.get("priority", []), "team": c.get("team", []),
                "channel": ", ".join(c.get("channel", [])), "customer_tag": ", ".join(c.get("customer_tag", []))}
    calendars = await BusinessCalendar.select(BusinessCalendar.id, BusinessCalendar.name).order_by(BusinessCalendar.name)
    teams = await Team.select(Team.id, Team.name).order_by(Team.name)
    return await page(request, "admin/sla.html", status_code=status, policies=rows, current=current,
                      calendars=calendars, teams=teams, priorities=PRIORITIES, error=error,
                      form=form or {"active": True, "priority": [], "team": []}, section="sla")


@get("/inbox/admin/sla", include_in_schema=False, guards=ADMIN)
async def sla_page(request: Request, edit: int | None = None) -> Template:
    return await _sla_page(request, edit=edit)


@post("/inbox/admin/sla", include_in_schema=False, guards=ADMIN)
async def sla_save(request: Request) -> Template | Redirect:
    agent = await session_agent(request)
    form = await request.form()
    policy_id = parse_id(form_value(form, "id"))
    kept: dict[str, Any] = {key: form_value(form, key) for key in (
        "name", "position", "first_response_minutes", "next_response_minutes", "resolution_minutes", "calendar",
        "warning_minutes", "starts_at", "ends_at", "notice", "channel", "customer_tag")}
    kept.update(id=policy_id, active=form_value(form, "active") == "on", priority=form_list(form, "priority"),
                team=_ids(form_list(form, "team")))
    try:
        conditions: dict[str, list[Any]] = {}
        if kept["priority"]:
            conditions["priority"] = kept["priority"]
        if kept["team"]:
            conditions["team"] = kept["team"]
        for key in ("channel", "customer_tag"):
            if _split(kept[key]):
                conditions[key] = _split(kept[key])
        values = {
            "name": kept["name"], "position": _int_or_none(kept["position"], "position") or 0,
            "conditions": conditions, "active": kept["active"],
            "first_response_minutes": _int_or_none(kept["first_response_minutes"], "first_response_minutes"),
            "next_response_minutes": _int_or_none(kept["next_response_minutes"], "next_response_minutes"),
            "resolution_minutes": _int_or_none(kept["resolution_minutes"], "resolution_minutes"),
            "calendar": _int_or_none(kept["calendar"], "calendar"),
            "warning_minutes": _int_or_none(kept["warning_minutes"], "warning_minutes"),
            "starts_at": kept["starts_at"] or None, "ends_at": kept["ends_at"] or None,
            "notice": kept["notice"] or None,
        }
        await api.save_policy(_convert(values, api.PolicyIn), _who(agent), policy_id)
    except (RelaydeskError, ValueError) as exc:
        return await _sla_page(request, edit=policy_id, error=_error(exc), form=kept, status=400)
    return Redirect(path="/inbox/admin/sla")


@post("/inbox/admin/sla/{policy_id:int}/delete", include_in_schema=False, guards=ADMIN)
async def sla_delete(request: Request, policy_id: int) -> Redirect:
    from core import sla

    await SlaPolicy.delete().where(SlaPolicy.id == policy_id)
    sla.invalidate()
    return Redirect(path="/inbox/admin/sla")


# --- automation rules -----------------------------------------------------------------------------


async def _rules_page(request: Request, *, edit: int | None = None, error: str | None = None,
                      form: dict[str, Any] | None = None, status: int = 200) -> Template:
    rows = await AutomationRule.select().order_by(AutomationRule.position).order_by(AutomationRule.id)
    for row in rows:
        row["conditions"] = _loads(row["conditions"], {})
        row["actions"] = _loads(row["actions"], [])
    current = next((r for r in rows if r["id"] == edit), None)
    if form is None and current is not None:
        form = {**current, "conditions": json.dumps(current["conditions"], ensure_ascii=False, indent=1),
                "actions": json.dumps(current["actions"], ensure_ascii=False, indent=1)}
    return await page(request, "admin/rules.html", status_code=status, rules=rows, current=current,
                      triggers=rules.TRIGGERS + rules.TIME_TRIGGERS, conditions=rules.LIST_CONDITIONS
                      + rules.TEXT_CONDITIONS + rules.OTHER_CONDITIONS, actions=rules.ACTIONS, error=error,
                      form=form or {"active": True, "conditions": "{}", "actions": "[]"}, section="rules")


@get("/inbox/admin/rules", include_in_schema=False, guards=ADMIN)
async def rules_page(request: Request, edit: int | None = None) -> Template:
    return await _rules_page(request, edit=edit)


def _json_field(text: str, field: str, default: Any) -> Any:
    if not text.strip():
        return default
    try:
        return jsonsafe.loads(text)  # a depth limit first: json.loads recurses per level
    except ValueError as exc:
        raise Invalid(N_("{field}: not valid JSON ({error})"), field=field, error=str(exc)) from None


@post("/inbox/admin/rules", include_in_schema=False, guards=ADMIN)
async def rule_save(request: Request) -> Template | Redirect:
    agent = await session_agent(request)
    form = await request.form()
    rule_id = parse_id(form_value(form, "id"))
    kept = {"id": rule_id, "name": form_value(form, "name"), "event": form_value(form, "event"),
            "position": form_value(form, "position"), "active": form_value(form, "active") == "on",
            "conditions": str(form.get("conditions") or ""), "actions": str(form.get("actions") or "")}
    try:
        values = {"name": kept["name"], "event": kept["event"], "active": kept["active"],
                  "position": _int_or_none(kept["position"], "position") or 0,
                  "conditions": _json_field(kept["conditions"], "conditions", {}),
                  "actions": _json_field(kept["actions"], "actions", [])}
        await api.save_rule(_convert(values, api.RuleIn), _who(agent), rule_id)
    except (RelaydeskError, ValueError) as exc:
        return await _rules_page(request, edit=rule_id, error=_error(exc), form=kept, status=400)
    return Redirect(path="/inbox/admin/rules")


@post("/inbox/admin/rules/{rule_id:int}/delete", include_in_schema=False, guards=ADMIN)
async def rule_delete(request: Request, rule_id: int) -> Redirect:
    await AutomationRule.delete().where(AutomationRule.id == rule_id)
    rules.invalidate()
    return Redirect(path="/inbox/admin/rules")


# --- the claim pool and notifications -------------------------------------------------------------


@post("/inbox/t/{ticket_id:int}/claim", include_in_schema=False, guards=[page_guard("agent")])
async def claim(request: Request, ticket_id: int) -> Response | Redirect:
    agent = await session_agent(request)
    await routing.claim(request.app.state.desk, ticket_id, agent["id"], admin=can(agent, "supervisor"))
    if is_htmx(request):
        return Response(content="", status_code=200, headers={"HX-Redirect": f"/inbox/t/{ticket_id}"})
    return Redirect(path=f"/inbox/t/{ticket_id}")


@get("/inbox/notifications", include_in_schema=False, guards=[page_guard("readonly")])
async def notifications_page(request: Request) -> Template:
    agent = await session_agent(request)
    items = await notifications.latest(agent["id"])
    # a rule may have notified about a ticket the agent may not see (core.visibility): left out
    from core.visibility import visible_ids
    from web.visibility import viewer

    shown = await visible_ids(await viewer(request, agent), [i["ticket"] for i in items if i.get("ticket")])
    items = [i for i in items if not i.get("ticket") or i["ticket"] in shown]
    return await page(request, "inbox/notifications.html", items=items)


@get("/inbox/notifications/badge", include_in_schema=False, guards=[page_guard("readonly")])
async def notifications_badge(request: Request) -> Template:
    """The header's notifications link with the unread count (swapped in on a live event)."""
    return await page(request, "inbox/_notifications_badge.html")


@post("/inbox/notifications/read", include_in_schema=False, guards=[page_guard("readonly")])
async def notifications_read(request: Request) -> Redirect:
    agent = await session_agent(request)
    form = await request.form()
    one = form_value(form, "id")
    await notifications.mark_read(agent["id"], parse_id(one))
    return Redirect(path="/inbox/notifications")


ROUTES = [teams_page, team_create, team_save, calendars_page, calendar_save, calendar_delete, sla_page, sla_save,
          sla_delete, rules_page, rule_save, rule_delete, claim, notifications_page, notifications_badge,
          notifications_read]
