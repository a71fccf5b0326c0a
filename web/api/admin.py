"""/api/v1/admin: teams and their routing, business calendars, SLA policies and automation rules.

Admins only. Each write is validated by the same code the desk runs (core.sla.Calendar, core.rules),
so the 400 says exactly what is wrong; caches of routing and SLA policies are dropped after a write.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

import msgspec
from litestar import Controller, Request, delete, get, post, put

from core import audit, routing, rules, sla
from core.errors import Conflict, InvalidRequest, NotFound
from core.tables import (
    Agent, AgentTeam, AutomationRule, BusinessCalendar, SlaPolicy, Team, TeamRouting,
)
from web.auth import actor, current_agent, require


class TeamIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    agent_ids: list[int] = []


class RoutingIn(msgspec.Struct, forbid_unknown_fields=True):
    strategy: Literal["round_robin", "least_loaded"] = "round_robin"
    position: int = 0
    channels: list[str] = []
    language_match: bool = True
    sticky: bool = False
    vip_tags: list[str] = []
    keywords: list[str] = []
    overflow_team: int | None = None
    overflow_threshold: int | None = None


class CalendarIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    timezone: str
    hours: dict[str, list[list[str]]]
    holidays: list[str] = []


class PolicyIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    position: int = 0
    conditions: dict[str, list[Any]] = {}
    first_response_minutes: int | None = None
    next_response_minutes: int | None = None
    resolution_minutes: int | None = None
    calendar: int | None = None
    active: bool = True
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    notice: str | None = None


class RuleIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    event: str
    conditions: dict[str, Any] = {}
    actions: list[dict[str, Any]] = []
    position: int = 0
    active: bool = True


def _out(row: dict[str, Any]) -> dict[str, Any]:
    return {k: json.loads(v) if isinstance(v, str) and v[:1] in "[{" else v for k, v in row.items()}


def _check(fn: Any, *args: Any) -> None:
    try:
        fn(*args)
    except ValueError as exc:
        raise InvalidRequest(str(exc)) from None


class AdminController(Controller):
    path = "/api/v1/admin"
    tags = ["admin"]
    guards = [require("admin")]

    # --- teams and routing -------------------------------------------------------------------------

    @get("/teams")
    async def teams(self) -> list[dict[str, Any]]:
        settings = {r["team"]: _out(r) for r in await TeamRouting.select()}
        members: dict[int, list[int]] = {}
        for r in await AgentTeam.select(AgentTeam.team, AgentTeam.agent):
            members.setdefault(r["team"], []).append(r["agent"])
        return [{**t, "agent_ids": sorted(members.get(t["id"], [])), "routing": settings.get(t["id"])}
                for t in await Team.select(Team.id, Team.name).order_by(Team.id)]

    @post("/teams", status_code=201)
    async def create_team(self, request: Request, data: TeamIn) -> dict[str, Any]:
        name = data.name.strip()
        if not name:
            raise InvalidRequest("name: must not be empty")
        if await Team.exists().where(Team.name == name):
            raise Conflict(f"a team named {name!r} already exists")
        for agent_id in data.agent_ids:
            if not await Agent.exists().where(Agent.id == agent_id):
                raise InvalidRequest(f"agent_ids: agent {agent_id} does not exist")
        team_id = (await Team.insert(Team(name=name)).returning(Team.id))[0]["id"]
        for agent_id in sorted(set(data.agent_ids)):
            await AgentTeam.insert(AgentTeam(agent=agent_id, team=team_id))
        await audit.record(actor(await current_agent(request)), "create", "team", team_id, {"name": name})
        routing.invalidate()
        return {"id": team_id, "name": name, "agent_ids": sorted(set(data.agent_ids))}

    @put("/teams/{team_id:int}/routing")
    async def set_routing(self, request: Request, team_id: int, data: RoutingIn) -> dict[str, Any]:
        if not await Team.exists().where(Team.id == team_id):
            raise NotFound(f"team {team_id} does not exist")
        if (data.overflow_team is None) != (data.overflow_threshold is None):
            raise InvalidRequest("overflow_team and overflow_threshold go together: set both or neither")
        if data.overflow_team is not None:
            if data.overflow_team == team_id:
                raise InvalidRequest("overflow_team: a team cannot overflow into itself")
            if not await Team.exists().where(Team.id == data.overflow_team):
                raise InvalidRequest(f"overflow_team: team {data.overflow_team} does not exist")
            if data.overflow_threshold < 1:
                raise InvalidRequest("overflow_threshold: must be at least 1")
        values = msgspec.structs.asdict(data)
        values["keywords"] = [k.strip().lower() for k in data.keywords if k.strip()]
        await TeamRouting.delete().where(TeamRouting.team == team_id)
        await TeamRouting.insert(TeamRouting(team=team_id, **values))
        await audit.record(actor(await current_agent(request)), "set_routing", "team", team_id, values)
        routing.invalidate()
        return _out(await TeamRouting.select().where(TeamRouting.team == team_id).first())

    # --- business calendars ------------------------------------------------------------------------

    @get("/calendars")
    async def calendars(self) -> list[dict[str, Any]]:
        return [_out(r) for r in await BusinessCalendar.select().order_by(BusinessCalendar.id)]

    @post("/calendars", status_code=201)
    async def create_calendar(self, request: Request, data: CalendarIn) -> dict[str, Any]:
        _check(sla.Calendar.from_config, data.timezone, data.hours, data.holidays)
        if await BusinessCalendar.exists().where(BusinessCalendar.name == data.name):
            raise Conflict(f"a calendar named {data.name!r} already exists")
        rows = await BusinessCalendar.insert(BusinessCalendar(
            name=data.name, timezone=data.timezone, hours=data.hours, holidays=data.holidays)).returning(BusinessCalendar.id)
        await audit.record(actor(await current_agent(request)), "create", "calendar", rows[0]["id"], {"name": data.name})
        sla.invalidate()
        return _out(await BusinessCalendar.select().where(BusinessCalendar.id == rows[0]["id"]).first())

    @delete("/calendars/{calendar_id:int}", status_code=204)
    async def delete_calendar(self, calendar_id: int) -> None:
        if await SlaPolicy.exists().where(SlaPolicy.calendar == calendar_id):
            raise Conflict(f"calendar {calendar_id} is used by an SLA policy; change the policy first")
        await BusinessCalendar.delete().where(BusinessCalendar.id == calendar_id)
        sla.invalidate()

    # --- SLA policies ------------------------------------------------------------------------------

    @get("/sla-policies")
    async def policies(self) -> list[dict[str, Any]]:
        return [_out(r) for r in await SlaPolicy.select().order_by(SlaPolicy.position).order_by(SlaPolicy.id)]

    @post("/sla-policies", status_code=201)
    async def create_policy(self, request: Request, data: PolicyIn) -> dict[str, Any]:
        _check(sla.validate_conditions, data.conditions)
        targets = (data.first_response_minutes, data.next_response_minutes, data.resolution_minutes)
        if all(t is None for t in targets):
            raise InvalidRequest("a policy needs at least one of first_response_minutes, next_response_minutes, "
                                 "resolution_minutes")
        if any(t is not None and t <= 0 for t in targets):
            raise InvalidRequest("target minutes must be positive")
        if data.starts_at and data.ends_at and data.ends_at <= data.starts_at:
            raise InvalidRequest("ends_at: must be later than starts_at")
        if any(t is not None and t.tzinfo is None for t in (data.starts_at, data.ends_at)):
            raise InvalidRequest("starts_at/ends_at: give a time zone offset, e.g. 2026-11-11T00:00:00+08:00")
        if data.calendar is not None and not await BusinessCalendar.exists().where(BusinessCalendar.id == data.calendar):
            raise InvalidRequest(f"calendar: calendar {data.calendar} does not exist")
        rows = await SlaPolicy.insert(SlaPolicy(**msgspec.structs.asdict(data))).returning(SlaPolicy.id)
        await audit.record(actor(await current_agent(request)), "create", "sla_policy", rows[0]["id"], {"name": data.name})
        sla.invalidate()
        return _out(await SlaPolicy.select().where(SlaPolicy.id == rows[0]["id"]).first())

    @delete("/sla-policies/{policy_id:int}", status_code=204)
    async def delete_policy(self, policy_id: int) -> None:
        await SlaPolicy.delete().where(SlaPolicy.id == policy_id)
        sla.invalidate()

    # --- automation rules --------------------------------------------------------------------------

    @get("/rules")
    async def list_rules(self) -> list[dict[str, Any]]:
        return [_out(r) for r in await AutomationRule.select().order_by(AutomationRule.position).order_by(AutomationRule.id)]

    @post("/rules", status_code=201)
    async def create_rule(self, request: Request, data: RuleIn) -> dict[str, Any]:
        _check(rules.validate, data.event, data.conditions, data.actions)
        for action in data.actions:
            agent_id = action.get("assign")
            if agent_id is not None and not await Agent.exists().where(Agent.id == agent_id):
                raise InvalidRequest(f"actions: assign names agent {agent_id}, who does not exist")
        rows = await AutomationRule.insert(AutomationRule(**msgspec.structs.asdict(data))).returning(AutomationRule.id)
        await audit.record(actor(await current_agent(request)), "create", "rule", rows[0]["id"], {"name": data.name})
        rules.invalidate()
        return _out(await AutomationRule.select().where(AutomationRule.id == rows[0]["id"]).first())

    @delete("/rules/{rule_id:int}", status_code=204)
    async def delete_rule(self, rule_id: int) -> None:
        await AutomationRule.delete().where(AutomationRule.id == rule_id)
        rules.invalidate()
