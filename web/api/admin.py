"""/api/v1/admin: teams and their routing, business calendars, SLA policies and automation rules.

Admins only. Each write goes through the `save_*` functions below, which the inbox's admin pages
(web/inbox/admin.py) call too: the same validation the desk runs (core.sla.Calendar, core.rules,
core.sla.validate_*), so a 400 -- or the page's error box -- says exactly what is wrong. Caches of
routing, SLA policies and rules are dropped after a write.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal, NoReturn

import msgspec
from litestar import Controller, Request, delete, get, post, put

from core import audit, routing, rules, sla, urlguard
from core.bounds import Id, Int32
from core.errors import N_, Conflict, Invalid, InvalidRequest, NotFound, RelaydeskError
from core.tables import (
    PRIORITIES, Agent, AgentTeam, AutomationRule, BusinessCalendar, SlaPolicy, Team, TeamRouting,
)
from web.api.openapi import errors, with_body
from web.auth import actor, current_agent, require


Short = Annotated[str, msgspec.Meta(max_length=64)]


Visibility = Literal["everyone", "members"]


class TeamIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    agent_ids: list[Id] = []
    # who sees the team's tickets: everyone, or only its members, supervisors and admins (core.visibility)
    visibility: Visibility = "everyone"


class VisibilityIn(msgspec.Struct, forbid_unknown_fields=True):
    visibility: Visibility


class RoutingIn(msgspec.Struct, forbid_unknown_fields=True):
    strategy: Literal["round_robin", "least_loaded"] = "round_robin"
    position: Int32 = 0
    channels: list[Short] = []
    language_match: bool = True
    sticky: bool = False
    vip_tags: list[Short] = []
    keywords: list[Short] = []
    overflow_team: Id | None = None
    overflow_threshold: Int32 | None = None
    skills_match: bool = True
    pool_priorities: list[Short] = []
    claim_cap: Int32 | None = None
    pool_alert_minutes: Int32 | None = None


class CalendarIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    timezone: str
    hours: dict[str, list[list[str]]]
    holidays: list[str] = []


class PolicyIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    position: Int32 = 0
    conditions: dict[str, list[Any]] = {}
    first_response_minutes: Int32 | None = None
    next_response_minutes: Int32 | None = None
    resolution_minutes: Int32 | None = None
    calendar: Id | None = None
    active: bool = True
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    notice: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    warning_minutes: Int32 | None = None


class RuleIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    event: str
    conditions: dict[str, Any] = {}
    actions: list[dict[str, Any]] = []
    position: Int32 = 0
    active: bool = True


def _out(row: dict[str, Any]) -> dict[str, Any]:
    return {k: json.loads(v) if isinstance(v, str) and v[:1] in "[{" else v for k, v in row.items()}


def refuse(error: type[RelaydeskError], template: str, **params: object) -> NoReturn:
    """Raise `error` with the English text of a catalog template: the API answers in English, and
    the admin pages translate it (web.i18n.translate_error reads the Invalid it comes from)."""
    reason = Invalid(template, **params)
    raise error(str(reason)) from reason


def _check(fn: Any, *args: Any) -> None:
    try:
        fn(*args)
    except ValueError as exc:
        raise InvalidRequest(str(exc)) from None


def _name(value: str, what: str = "name") -> str:
    name = (value or "").strip()
    if not name:
        refuse(InvalidRequest, N_("{what}: must not be empty"), what=what)
    if len(name) > 100:
        refuse(InvalidRequest, N_("{what}: at most 100 characters"), what=what)
    return name


# --- the writes, shared by the API and the admin pages ----------------------------------------------


async def create_team(data: TeamIn, who: str) -> dict[str, Any]:
    name = _name(data.name)
    if await Team.exists().where(Team.name == name):
        refuse(Conflict, N_("a team named {name} already exists"), name=repr(name))
    for agent_id in data.agent_ids:
        if not await Agent.exists().where(Agent.id == agent_id):
            refuse(InvalidRequest, N_("agent_ids: agent {agent_id} does not exist"), agent_id=agent_id)
    team_id = (await Team.insert(Team(name=name, visibility=data.visibility)).returning(Team.id))[0]["id"]
    for agent_id in sorted(set(data.agent_ids)):
        await AgentTeam.insert(AgentTeam(agent=agent_id, team=team_id))
    await audit.record(who, "create", "team", team_id, {"name": name, "visibility": data.visibility})
    routing.invalidate()
    return {"id": team_id, "name": name, "visibility": data.visibility, "agent_ids": sorted(set(data.agent_ids))}


async def set_visibility(team_id: int, visibility: str, who: str) -> dict[str, Any]:
    """Who sees the team's tickets (core.visibility); audited as team.set_visibility with the old
    and new value. Takes effect on the next request (open live streams: within 30 seconds)."""
    from core.visibility import VISIBILITIES

    if visibility not in VISIBILITIES:
        refuse(InvalidRequest, N_("visibility: must be one of {known}"), known=", ".join(VISIBILITIES))
    row = await Team.select(Team.visibility).where(Team.id == team_id).first()
    if row is None:
        refuse(NotFound, N_("team {team_id} does not exist"), team_id=team_id)
    if row["visibility"] != visibility:
        await Team.update({Team.visibility: visibility}).where(Team.id == team_id)
        await audit.record(who, "set_visibility", "team", team_id, {"from": row["visibility"], "to": visibility})
    return {"id": team_id, "visibility": visibility}


async def set_members(team_id: int, agent_ids: list[int], who: str) -> None:
    if not await Team.exists().where(Team.id == team_id):
        refuse(NotFound, N_("team {team_id} does not exist"), team_id=team_id)
    for agent_id in agent_ids:
        if not await Agent.exists().where(Agent.id == agent_id):
            refuse(InvalidRequest, N_("agent_ids: agent {agent_id} does not exist"), agent_id=agent_id)
    await AgentTeam.delete().where(AgentTeam.team == team_id)
    for agent_id in sorted(set(agent_ids)):
        await AgentTeam.insert(AgentTeam(agent=agent_id, team=team_id))
    await audit.record(who, "set_members", "team", team_id, {"agent_ids": sorted(set(agent_ids))})
    routing.invalidate()


async def save_routing(team_id: int, data: RoutingIn, who: str) -> dict[str, Any]:
    if not await Team.exists().where(Team.id == team_id):
        refuse(NotFound, N_("team {team_id} does not exist"), team_id=team_id)
    if (data.overflow_team is None) != (data.overflow_threshold is None):
        refuse(InvalidRequest, N_("overflow_team and overflow_threshold go together: set both or neither"))
    if data.overflow_team is not None:
        if data.overflow_team == team_id:
            refuse(InvalidRequest, N_("overflow_team: a team cannot overflow into itself"))
        if not await Team.exists().where(Team.id == data.overflow_team):
            refuse(InvalidRequest, N_("overflow_team: team {team} does not exist"), team=data.overflow_team)
        if data.overflow_threshold < 1:
            refuse(InvalidRequest, N_("overflow_threshold: must be at least 1"))
    unknown = [p for p in data.pool_priorities if p not in PRIORITIES]
    if unknown:
        refuse(InvalidRequest, N_("pool_priorities: {unknown} not a priority; use {known}"),
               unknown=", ".join(map(repr, unknown)), known=", ".join(PRIORITIES))
    if data.claim_cap is not None and data.claim_cap < 1:
        refuse(InvalidRequest, N_("claim_cap: must be at least 1 (or empty for no cap)"))
    if data.pool_alert_minutes is not None and data.pool_alert_minutes < 1:
        refuse(InvalidRequest, N_("pool_alert_minutes: must be at least 1 (or empty for no alert)"))
    if (data.claim_cap is not None or data.pool_alert_minutes is not None) and not data.pool_priorities:
        refuse(InvalidRequest, N_("claim_cap and pool_alert_minutes apply to the claim pool: choose the "
                               "pool_priorities that go to it (e.g. low) first"))
    values = msgspec.structs.asdict(data)
    values["keywords"] = [k.strip().lower() for k in data.keywords if k.strip()]
    values["vip_tags"] = [k.strip().lower() for k in data.vip_tags if k.strip()]
    values["channels"] = [k.strip() for k in data.channels if k.strip()]
    values["pool_priorities"] = sorted(set(data.pool_priorities), key=PRIORITIES.index)
    await TeamRouting.delete().where(TeamRouting.team == team_id)
    await TeamRouting.insert(TeamRouting(team=team_id, **values))
    await audit.record(who, "set_routing", "team", team_id, values)
    routing.invalidate()
    return _out(await TeamRouting.select().where(TeamRouting.team == team_id).first())


async def save_calendar(data: CalendarIn, who: str, calendar_id: int | None = None) -> dict[str, Any]:
    name = _name(data.name)
    _check(sla.Calendar.from_config, data.timezone, data.hours, data.holidays)
    clash = BusinessCalendar.exists().where(BusinessCalendar.name == name)
    if calendar_id is not None:
        if not await BusinessCalendar.exists().where(BusinessCalendar.id == calendar_id):
            refuse(NotFound, N_("calendar {calendar_id} does not exist"), calendar_id=calendar_id)
        clash = BusinessCalendar.exists().where((BusinessCalendar.name == name) & (BusinessCalendar.id != calendar_id))
    if await clash:
        refuse(Conflict, N_("a calendar named {name} already exists"), name=repr(name))
    values = {"name": name, "timezone": data.timezone, "hours": data.hours, "holidays": data.holidays}
    if calendar_id is None:
        calendar_id = (await BusinessCalendar.insert(BusinessCalendar(**values)).returning(BusinessCalendar.id))[0]["id"]
        await audit.record(who, "create", "calendar", calendar_id, {"name": name})
    else:
        await BusinessCalendar.update({getattr(BusinessCalendar, k): v for k, v in values.items()}).where(
            BusinessCalendar.id == calendar_id)
        await audit.record(who, "update", "calendar", calendar_id, {"name": name})
    sla.invalidate()
    return _out(await BusinessCalendar.select().where(BusinessCalendar.id == calendar_id).first())


async def delete_calendar(calendar_id: int, who: str) -> None:
    if await SlaPolicy.exists().where(SlaPolicy.calendar == calendar_id):
        refuse(Conflict, N_("calendar {calendar_id} is used by an SLA policy; change the policy first"),
               calendar_id=calendar_id)
    await BusinessCalendar.delete().where(BusinessCalendar.id == calendar_id)
    await audit.record(who, "delete", "calendar", calendar_id)
    sla.invalidate()


async def save_policy(data: PolicyIn, who: str, policy_id: int | None = None) -> dict[str, Any]:
    _name(data.name)
    _check(sla.validate_conditions, data.conditions)
    targets = (data.first_response_minutes, data.next_response_minutes, data.resolution_minutes)
    if all(t is None for t in targets):
        refuse(InvalidRequest, N_("a policy needs at least one of first_response_minutes, "
                               "next_response_minutes, resolution_minutes"))
    if any(t is not None and t <= 0 for t in targets):
        refuse(InvalidRequest, N_("target minutes must be positive"))
    _check(sla.validate_warning, data.warning_minutes)
    if data.starts_at and data.ends_at and data.ends_at <= data.starts_at:
        refuse(InvalidRequest, N_("ends_at: must be later than starts_at"))
    if any(t is not None and t.tzinfo is None for t in (data.starts_at, data.ends_at)):
        refuse(InvalidRequest, N_("starts_at/ends_at: give a time zone offset, e.g. 2026-11-11T00:00:00+08:00"))
    if data.notice and not (data.starts_at or data.ends_at):
        refuse(InvalidRequest, N_("notice: only a peak profile (a policy with starts_at/ends_at) sends a notice to "
                               "customers"))
    if data.calendar is not None and not await BusinessCalendar.exists().where(BusinessCalendar.id == data.calendar):
        refuse(InvalidRequest, N_("calendar: calendar {calendar} does not exist"), calendar=data.calendar)
    values = msgspec.structs.asdict(data)
    values["name"] = data.name.strip()
    values["notice"] = (data.notice or "").strip() or None
    if policy_id is None:
        policy_id = (await SlaPolicy.insert(SlaPolicy(**values)).returning(SlaPolicy.id))[0]["id"]
        await audit.record(who, "create", "sla_policy", policy_id, {"name": data.name})
    else:
        if not await SlaPolicy.exists().where(SlaPolicy.id == policy_id):
            refuse(NotFound, N_("SLA policy {policy_id} does not exist"), policy_id=policy_id)
        await SlaPolicy.update({getattr(SlaPolicy, k): v for k, v in values.items()}).where(SlaPolicy.id == policy_id)
        await audit.record(who, "update", "sla_policy", policy_id, {"name": data.name})
    sla.invalidate()
    return _out(await SlaPolicy.select().where(SlaPolicy.id == policy_id).first())


async def save_rule(data: RuleIn, who: str, rule_id: int | None = None) -> dict[str, Any]:
    _name(data.name)
    _check(rules.validate, data.event, data.conditions, data.actions)
    try:
        await rules.check_references(data.conditions, data.actions)
    except ValueError as exc:
        raise InvalidRequest(str(exc)) from None
    for i, action in enumerate(data.actions):
        if isinstance(action.get("webhook"), dict):
            try:  # the outbound guard at save time too, so the admin learns now, not from a failed delivery
                await urlguard.check(action["webhook"]["url"])
            except urlguard.UrlRefused as exc:
                raise urlguard.UrlRefused(f"actions[{i}].webhook.url: {exc.message}") from None
    values = msgspec.structs.asdict(data)
    values["name"] = data.name.strip()
    if rule_id is None:
        rule_id = (await AutomationRule.insert(AutomationRule(**values)).returning(AutomationRule.id))[0]["id"]
        await audit.record(who, "create", "rule", rule_id, {"name": data.name})
    else:
        if not await AutomationRule.exists().where(AutomationRule.id == rule_id):
            refuse(NotFound, N_("rule {rule_id} does not exist"), rule_id=rule_id)
        await AutomationRule.update({getattr(AutomationRule, k): v for k, v in values.items()}).where(
            AutomationRule.id == rule_id)
        await audit.record(who, "update", "rule", rule_id, {"name": data.name})
    rules.invalidate()
    return _out(await AutomationRule.select().where(AutomationRule.id == rule_id).first())


async def list_teams() -> list[dict[str, Any]]:
    settings = {r["team"]: _out(r) for r in await TeamRouting.select()}
    members: dict[int, list[int]] = {}
    for r in await AgentTeam.select(AgentTeam.team, AgentTeam.agent):
        members.setdefault(r["team"], []).append(r["agent"])
    return [{**t, "agent_ids": sorted(members.get(t["id"], [])), "routing": settings.get(t["id"])}
            for t in await Team.select(Team.id, Team.name, Team.visibility).order_by(Team.id)]


class AdminController(Controller):
    path = "/api/v1/admin"
    tags = ["admin"]
    guards = [require("supervisor")]  # teams, routing, SLA, rules: the supervisor's work

    # --- teams and routing -------------------------------------------------------------------------

    @get("/teams", responses=errors())
    async def teams(self) -> list[dict[str, Any]]:
        return await list_teams()

    @post("/teams", status_code=201, responses=with_body(409))
    async def create_team(self, request: Request, data: TeamIn) -> dict[str, Any]:
        return await create_team(data, actor(await current_agent(request)))

    @put("/teams/{team_id:int}/visibility", responses=with_body(404))
    async def set_visibility(self, request: Request, team_id: int, data: VisibilityIn) -> dict[str, Any]:
        """"members": the team's tickets are seen only by its members, supervisors and admins (and
        the agent a ticket is assigned to); everyone else gets them left out of every list, count,
        search and live update, and 404 for the ticket itself. "everyone": the default."""
        return await set_visibility(team_id, data.visibility, actor(await current_agent(request)))

    @put("/teams/{team_id:int}/routing", responses=with_body(404))
    async def set_routing(self, request: Request, team_id: int, data: RoutingIn) -> dict[str, Any]:
        return await save_routing(team_id, data, actor(await current_agent(request)))

    # --- business calendars ------------------------------------------------------------------------

    @get("/calendars", responses=errors())
    async def calendars(self) -> list[dict[str, Any]]:
        return [_out(r) for r in await BusinessCalendar.select().order_by(BusinessCalendar.id)]

    @post("/calendars", status_code=201, responses=with_body(409))
    async def create_calendar(self, request: Request, data: CalendarIn) -> dict[str, Any]:
        return await save_calendar(data, actor(await current_agent(request)))

    @put("/calendars/{calendar_id:int}", responses=with_body(404, 409))
    async def update_calendar(self, request: Request, calendar_id: int, data: CalendarIn) -> dict[str, Any]:
        return await save_calendar(data, actor(await current_agent(request)), calendar_id)

    @delete("/calendars/{calendar_id:int}", status_code=204, responses=errors(404, 409))
    async def delete_calendar(self, request: Request, calendar_id: int) -> None:
        await delete_calendar(calendar_id, actor(await current_agent(request)))

    # --- SLA policies ------------------------------------------------------------------------------

    @get("/sla-policies", responses=errors())
    async def policies(self) -> list[dict[str, Any]]:
        return [_out(r) for r in await SlaPolicy.select().order_by(SlaPolicy.position).order_by(SlaPolicy.id)]

    @post("/sla-policies", status_code=201, responses=with_body())
    async def create_policy(self, request: Request, data: PolicyIn) -> dict[str, Any]:
        return await save_policy(data, actor(await current_agent(request)))

    @put("/sla-policies/{policy_id:int}", responses=with_body(404))
    async def update_policy(self, request: Request, policy_id: int, data: PolicyIn) -> dict[str, Any]:
        return await save_policy(data, actor(await current_agent(request)), policy_id)

    @delete("/sla-policies/{policy_id:int}", status_code=204, responses=errors(404))
    async def delete_policy(self, policy_id: int) -> None:
        await SlaPolicy.delete().where(SlaPolicy.id == policy_id)
        sla.invalidate()

    # --- automation rules --------------------------------------------------------------------------

    @get("/rules", responses=errors())
    async def list_rules(self) -> list[dict[str, Any]]:
        return [_out(r) for r in await AutomationRule.select().order_by(AutomationRule.position).order_by(AutomationRule.id)]

    @post("/rules", status_code=201, responses=with_body())
    async def create_rule(self, request: Request, data: RuleIn) -> dict[str, Any]:
        return await save_rule(data, actor(await current_agent(request)))

    @put("/rules/{rule_id:int}", responses=with_body(404))
    async def update_rule(self, request: Request, rule_id: int, data: RuleIn) -> dict[str, Any]:
        return await save_rule(data, actor(await current_agent(request)), rule_id)

    @delete("/rules/{rule_id:int}", status_code=204, responses=errors(404))
    async def delete_rule(self, rule_id: int) -> None:
        await AutomationRule.delete().where(AutomationRule.id == rule_id)
        rules.invalidate()
