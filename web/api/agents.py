"""/api/v1/agents and /api/v1/tokens: who works the desk, and their API tokens."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, delete, get, patch, post, put

from core import audit, clock, desk_mail, people
from core.auth import create_token, hash_password, revoke_token
from core.bounds import Count, Id
from core.errors import Conflict, Forbidden, InvalidRequest, NotFound
from core.sla import Calendar
from core.tables import Agent, AgentShift
from web import people_mail
from web.api.openapi import errors, with_body
from web.auth import ROLE_RANK, actor, current_agent, require

Role = Literal["admin", "supervisor", "agent", "readonly"]
Availability = Literal["online", "away", "offline"]
PUBLIC_FIELDS = (Agent.id, Agent.name, Agent.email, Agent.role, Agent.languages, Agent.skills, Agent.capacity,
                 Agent.availability, Agent.timezone, Agent.locale, Agent.active, Agent.created_at)


Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Short = Annotated[str, msgspec.Meta(max_length=64)]
Zone = Annotated[str, msgspec.Meta(max_length=64)]
Locale = Annotated[str, msgspec.Meta(max_length=16)]


class AgentIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    email: Annotated[str, msgspec.Meta(min_length=3, max_length=254)]
    role: Role = "agent"
    password: Annotated[str, msgspec.Meta(max_length=1024)] | None = None
    languages: list[Short] = []
    skills: list[Short] = []
    capacity: Count = 20
    timezone: Zone = "UTC"
    locale: Locale = "en"


class AgentPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | None = None
    role: Role | None = None
    languages: list[Short] | None = None
    skills: list[Short] | None = None
    capacity: Count | None = None
    availability: Availability | None = None
    timezone: Zone | None = None
    locale: Locale | None = None
    active: bool | None = None


class ShiftIn(msgspec.Struct, forbid_unknown_fields=True):
    """Working hours in the agent's own time zone, e.g. {"mon": [["09:00", "18:00"]]}, and days off."""

    hours: dict[str, list[list[str]]]
    holidays: list[str] = []


class TokenIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    agent_id: Id | None = None


def _agent_out(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for key in ("languages", "skills"):
        if isinstance(out.get(key), str):
            out[key] = json.loads(out[key] or "[]")
    return out


class AgentController(Controller):
    path = "/api/v1/agents"
    tags = ["agents"]

    @get("/", guards=[require("readonly")], responses=errors())
    async def list_agents(self) -> list[dict[str, Any]]:
        return [_agent_out(r) for r in await Agent.select(*PUBLIC_FIELDS).order_by(Agent.id)]

    @get("/me", guards=[require("readonly")], responses=errors())
    async def me(self, request: Request) -> dict[str, Any]:
        agent = await current_agent(request)
        return _agent_out(await Agent.select(*PUBLIC_FIELDS).where(Agent.id == agent["id"]).first())

    @post("/", guards=[require("admin")], status_code=201, responses=with_body(409))
    async def create(self, request: Request, data: AgentIn) -> dict[str, Any]:
        me = await current_agent(request)
        email = data.email.strip().lower()
        if data.password is not None:
            people.check_password(data.password)
        people.check_role(data.role)
        if await Agent.exists().where(Agent.email == email):
            raise Conflict(f"an agent with email {email} already exists")
        rows = await Agent.insert(Agent(
            name=data.name, email=email, role=data.role,
            password_hash=hash_password(data.password) if data.password else None,
            languages=data.languages, skills=data.skills, capacity=data.capacity, timezone=data.timezone,
            locale=data.locale, created_at=clock.now(),
        )).returning(Agent.id)
        await audit.record(actor(me), "create", "agent", rows[0]["id"], {"email": email, "role": data.role})
        return _agent_out(await Agent.select(*PUBLIC_FIELDS).where(Agent.id == rows[0]["id"]).first())

    @patch("/{agent_id:int}", guards=[require("readonly")], responses=with_body(404))
    async def update(self, request: Request, agent_id: int, data: AgentPatch) -> dict[str, Any]:
        me = await current_agent(request)
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}
        is_admin = me["role"] == "admin"
        self_editable = {"availability", "languages", "timezone", "locale", "name"}
        if not is_admin and (agent_id != me["id"] or set(changes) - self_editable):
            raise Forbidden("agents may change only their own name, languages, time zone, locale and availability")
        if not await Agent.exists().where(Agent.id == agent_id):
            raise NotFound(f"agent {agent_id} does not exist")
        # Role and active go through core.people: the last admin stays, a deactivation ends
        # sessions and tokens and routes the agent's open tickets again, as in the CLI and the pages.
        role, active = changes.pop("role", None), changes.pop("active", None)
        if role is not None:
            await people.set_role(agent_id, role, actor=actor(me))
        if active is False:
            await people.deactivate(request.app.state.desk, agent_id, actor=actor(me))
        elif active is True:
            await people.activate(agent_id, actor=actor(me))
        if changes:
            await Agent.update({getattr(Agent, k): v for k, v in changes.items()}).where(Agent.id == agent_id)
            await audit.record(actor(me), "update", "agent", agent_id, changes)
        return _agent_out(await Agent.select(*PUBLIC_FIELDS).where(Agent.id == agent_id).first())

    @post("/{agent_id:int}/password-link", guards=[require("admin")], status_code=201, responses=with_body(404, 409))
    async def password_link(self, request: Request, agent_id: int) -> dict[str, Any]:
        """A signed link that lets the agent choose a password: an invitation (7 days) for an agent
        without one, else a reset (2 hours). It works once. When the desk has outgoing mail (an email
        account with smtp_url) it is mailed to the agent too: `mailed` says whether that worked and
        `mail_error` why not; otherwise pass the link on yourself."""
        me = await current_agent(request)
        agent = await Agent.select().where(Agent.id == agent_id).first()
        if agent is None or not agent["active"]:
            raise NotFound(f"agent {agent_id} does not exist or is deactivated")
        desk = request.app.state.desk
        purpose, url = people_mail.link_for(desk, agent)
        mail_error = await people_mail.mail_link(desk, agent, purpose, url) if desk_mail.available(desk) else None
        mailed = desk_mail.available(desk) and mail_error is None
        await audit.record(actor(me), "password_link", "agent", agent_id, {"purpose": purpose, "mailed": mailed})
        return {"url": url, "purpose": purpose, "mailed": mailed, "mail_error": mail_error,
                "expires_in": people.INVITE_SECONDS if purpose == "invite" else people.RESET_SECONDS}


    # Shifts: routing gives work only to agents on shift in their own time zone (no shift: always on).

    @get("/{agent_id:int}/shift", guards=[require("readonly")], responses=errors(404))
    async def get_shift(self, agent_id: int) -> dict[str, Any]:
        agent = await Agent.select(Agent.timezone).where(Agent.id == agent_id).first()
        if agent is None:
            raise NotFound(f"agent {agent_id} does not exist")
        row = await AgentShift.select(AgentShift.hours, AgentShift.holidays).where(AgentShift.agent == agent_id).first()
        if row is None:
            return {"agent_id": agent_id, "timezone": agent["timezone"], "hours": None, "holidays": [],
                    "note": "no shift: routing treats this agent as always on shift"}
        return {"agent_id": agent_id, "timezone": agent["timezone"], "hours": _loads(row["hours"]),
                "holidays": _loads(row["holidays"])}

    @put("/{agent_id:int}/shift", guards=[require("admin")], responses=with_body(404))
    async def put_shift(self, request: Request, agent_id: int, data: ShiftIn) -> dict[str, Any]:
        me = await current_agent(request)
        agent = await Agent.select(Agent.timezone).where(Agent.id == agent_id).first()
        if agent is None:
            raise NotFound(f"agent {agent_id} does not exist")
        try:  # the same validation as business-hours calendars: it says which day and window is wrong
            Calendar.from_config(agent["timezone"] or "UTC", data.hours, data.holidays)
        except ValueError as exc:
            raise InvalidRequest(f"shift: {exc}") from None
        if await AgentShift.exists().where(AgentShift.agent == agent_id):
            await AgentShift.update({AgentShift.hours: data.hours, AgentShift.holidays: data.holidays}).where(
                AgentShift.agent == agent_id)
        else:
            await AgentShift.insert(AgentShift(agent=agent_id, hours=data.hours, holidays=data.holidays))
        await audit.record(actor(me), "set_shift", "agent", agent_id, {"hours": data.hours, "holidays": data.holidays})
        return await self.get_shift.fn(self, agent_id)

    @delete("/{agent_id:int}/shift", guards=[require("admin")], status_code=204, responses=errors(404))
    async def delete_shift(self, request: Request, agent_id: int) -> None:
        me = await current_agent(request)
        await AgentShift.delete().where(AgentShift.agent == agent_id)
        await audit.record(actor(me), "clear_shift", "agent", agent_id, {})


def _loads(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


class TokenController(Controller):
    path = "/api/v1/tokens"
    tags = ["tokens"]

    @post("/", guards=[require("readonly")], status_code=201, responses=with_body(404))
    async def create(self, request: Request, data: TokenIn) -> dict[str, Any]:
        me = await current_agent(request)
        owner = data.agent_id or me["id"]
        if owner != me["id"] and ROLE_RANK[me["role"]] < ROLE_RANK["admin"]:
            raise Forbidden("only admins create tokens for other agents")
        if not await Agent.exists().where(Agent.id == owner):
            raise NotFound(f"agent {owner} does not exist")
        token = await create_token(owner, data.name)
        await audit.record(actor(me), "create_token", "agent", owner, {"name": data.name})
        return {"token": token, "agent_id": owner, "name": data.name,
                "note": "store it now: only its digest is kept"}

    @delete("/{token_id:int}", guards=[require("readonly")], status_code=204, responses=errors(404))
    async def revoke(self, request: Request, token_id: int) -> None:
        me = await current_agent(request)
        if not await revoke_token(token_id, me["id"]):
            raise NotFound(f"you have no active token {token_id}")
