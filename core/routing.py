"""Assignment decisions. Strategies are plugins implementing the `route` hook; the core only
applies the first decision and records why it was made.

The route hook is synchronous and must not do I/O, so `prepare` loads a routing snapshot first and
puts it in the ticket dict (ticket["routing"]): the teams' routing settings, each team's agents with
availability, languages, capacity and open-ticket count, and the customer's last helper.

Why a cached snapshot: ingest opens tickets in bursts (a webhook batch, a poll page), and the roster
changes rarely. The snapshot is kept for CACHE_SECONDS and updated in place by every decision taken
in this process (the chosen agent's load goes up, the round-robin cursor moves), so a burst costs
one roster read. Another process's assignments show after at most a second; the cost of that is a
slightly uneven spread, never a lost ticket. `invalidate()` drops it at once (availability changes).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from core import clock

if TYPE_CHECKING:
    from core.desk import Desk

STRATEGIES = ("round_robin", "least_loaded")
CACHE_SECONDS = 1.0


@dataclass(slots=True, frozen=True)
class RouteDecision:
    agent_id: int | None
    team_id: int | None
    reason: str
    # True: the ticket goes to the team's claim pool (agents claim it) instead of an agent.
    pool: bool = False
    # Minutes in the pool after which the team is alerted (None: no alert).
    pool_alert_minutes: int | None = None


@dataclass(slots=True)
class AgentState:
    id: int
    name: str
    online: bool
    languages: frozenset[str]
    capacity: int
    load: int  # open tickets assigned
    skills: frozenset[str] = frozenset()


@dataclass(slots=True)
class TeamSettings:
    team: int
    name: str
    strategy: str = "round_robin"
    channels: tuple[str, ...] = ()
    language_match: bool = True
    sticky: bool = False
    vip_tags: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    overflow_team: int | None = None
    overflow_threshold: int | None = None
    skills_match: bool = True
    pool_priorities: tuple[str, ...] = ()
    claim_cap: int | None = None
    pool_alert_minutes: int | None = None
    queued: int = 0  # open tickets of the team nobody is assigned to
    agents: list[AgentState] = field(default_factory=list)
    cursor: int | None = None  # the agent round-robin gave the last ticket to


@dataclass(slots=True)
class Snapshot:
    teams: list[TeamSettings]  # by position
    taken_at: float

    def agent(self, agent_id: int | None) -> AgentState | None:
        for team in self.teams:
            for state in team.agents:
                if state.id == agent_id:
                    return state  # one state object per agent, shared by all its teams
        return None

    def assigned(self, decision: RouteDecision) -> None:
        """Account for a decision so the next ticket of the burst sees it."""
        if decision.agent_id is None:
            for team in self.teams:
                if team.team == decision.team_id and not decision.pool:
                    team.queued += 1
            return
        state = self.agent(decision.agent_id)
        if state is not None:
            state.load += 1
        for team in self.teams:
            if team.team == decision.team_id:
                team.cursor = decision.agent_id


_cache: dict[str, Any] = {"snapshot": None, "generation": 0}


def invalidate() -> None:
    _cache["snapshot"] = None
    _cache["generation"] += 1


def _loads(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


async def _fetch(conn: Any, sql: str, *args: Any) -> list[dict[str, Any]]:
    """All rows, on the ingest transaction's Conn (core.sql) or on anything with a `fetch`."""
    if hasattr(conn, "fetch"):
        return await conn.fetch(sql, *args)
    if conn.postgres:
        return [dict(r) for r in await conn.raw.fetch(sql, *args)]
    from core.sql import _sqlite_text

    async with conn.raw.execute(_sqlite_text(sql), args) as cursor:
        rows = await cursor.fetchall()
        names = [d[0] for d in cursor.description]
    return [r if isinstance(r, dict) else dict(zip(names, r)) for r in rows]


async def load_snapshot(conn: Any) -> Snapshot:
    """The routing snapshot, from the cache when it is younger than CACHE_SECONDS."""
    cached: Snapshot | None = _cache["snapshot"]
    if cached is not None and time.monotonic() - cached.taken_at < CACHE_SECONDS:
        return cached
    generation = _cache["generation"]
    teams = [
        TeamSettings(team=r["team"], name=r["name"], strategy=r["strategy"], channels=tuple(_loads(r["channels"]) or ()),
                     language_match=bool(r["language_match"]), sticky=bool(r["sticky"]),
                     vip_tags=tuple(_loads(r["vip_tags"]) or ()),
                     keywords=tuple(k.lower() for k in _loads(r["keywords"]) or ()),
                     overflow_team=r["overflow_team"], overflow_threshold=r["overflow_threshold"],
                     skills_match=bool(r["skills_match"]), pool_priorities=tuple(_loads(r["pool_priorities"]) or ()),
                     claim_cap=r["claim_cap"], pool_alert_minutes=r["pool_alert_minutes"])
        for r in await _fetch(conn, 
            "SELECT r.team, t.name, r.strategy, r.channels, r.language_match, r.sticky, r.vip_tags, r.keywords, "
            "r.overflow_team, r.overflow_threshold, r.skills_match, r.pool_priorities, r.claim_cap, r.pool_alert_minutes "
            "FROM team_routing r JOIN teams t ON t.id = r.team ORDER BY r.position, r.id")
    ]
    by_team = {t.team: t for t in teams}
    now = clock.now()
    if by_team:
        marks = ", ".join(f"${i}" for i in range(1, len(by_team) + 1))
        members = await _fetch(conn, 
            f"SELECT m.team, a.id, a.name, a.availability, a.languages, a.skills, a.capacity, a.timezone, s.hours, s.holidays "
            f"FROM agent_teams m JOIN agents a ON a.id = m.agent LEFT JOIN agent_shifts s ON s.agent = a.id "
            f"WHERE a.active = TRUE AND m.team IN ({marks}) ORDER BY a.id",
            *by_team)
        ids = sorted({m["id"] for m in members})
        loads: dict[int, int] = {}
        if ids:
            agent_marks = ", ".join(f"${i}" for i in range(1, len(ids) + 1))
            for row in await _fetch(conn, 
                    f"SELECT assignee, COUNT(*) AS n FROM tickets WHERE assignee IN ({agent_marks}) "
                    f"AND status IN ('new', 'open', 'pending', 'on-hold') GROUP BY assignee", *ids):
                loads[row["assignee"]] = row["n"]
        shared: dict[int, AgentState] = {}  # one state per agent, so a load counts in every team
        for m in members:
            state = shared.setdefault(m["id"], AgentState(
                m["id"], m["name"], m["availability"] == "online" and _on_shift(m, now),
                frozenset(l.lower() for l in _loads(m["languages"]) or ()), m["capacity"], loads.get(m["id"], 0),
                frozenset(k.lower() for k in _loads(m["skills"]) or ())))
            by_team[m["team"]].agents.append(state)
        marks = ", ".join(f"${i}" for i in range(1, len(by_team) + 1))
        for row in await _fetch(conn, 
                f"SELECT team, COUNT(*) AS n FROM tickets WHERE team IN ({marks}) AND assignee IS NULL "
                f"AND pooled_at IS NULL AND status IN ('new', 'open') GROUP BY team", *by_team):
            by_team[row["team"]].queued = row["n"]
        for team in teams:
            row = await conn.fetchrow(
                "SELECT assignee FROM tickets WHERE team = $1 AND assignee IS NOT NULL ORDER BY id DESC LIMIT 1",
                team.team)
            team.cursor = row["assignee"] if row else None
    snapshot = Snapshot(teams, time.monotonic())
    if generation == _cache["generation"]:  # not invalidated while we read
        _cache["snapshot"] = snapshot
    return snapshot


def _on_shift(member: dict[str, Any], now: Any) -> bool:
    """No shift row: always on. Otherwise inside the shift's hours in the agent's own time zone."""
    if member.get("hours") is None:
        return True
    from core.sla import Calendar

    try:
        shift = Calendar.from_config(member["timezone"] or "UTC", _loads(member["hours"]) or {},
                                     _loads(member["holidays"]) or [])
    except ValueError:
        return True  # a broken shift must not hide an agent who is online
    return shift.between(now, now + timedelta(minutes=1)) > 0


async def prepare(conn: Any, ticket: dict[str, Any], text: str = "") -> dict[str, Any]:
    """Load what the route hook reads into the ticket dict (I/O happens here, not in the hook)."""
    ticket["routing"] = await load_snapshot(conn)
    ticket.setdefault("text", text)
    if "customer_tags" not in ticket and ticket.get("customer") is not None:
        tags = await conn.fetchval("SELECT tags FROM customers WHERE id = $1", ticket["customer"])
        ticket["customer_tags"] = list(_loads(tags) or [])
    if "last_helper" not in ticket and ticket.get("customer") is not None:
        # sticky routing: the agent on this customer's most recent assigned ticket (tickets_customer_id)
        ticket["last_helper"] = await conn.fetchval(
            "SELECT assignee FROM tickets WHERE customer = $1 AND assignee IS NOT NULL AND id <> $2 "
            "ORDER BY id DESC LIMIT 1", ticket["customer"], ticket.get("id") or 0)
    return ticket


def pool_columns(decision: RouteDecision, now: Any) -> tuple[Any, Any]:
    """(pooled_at, pool_alert_due_at) for a decision: both NULL unless it sends the ticket to a pool."""
    if not decision.pool or decision.agent_id is not None:
        return None, None
    alert = now + timedelta(minutes=decision.pool_alert_minutes) if decision.pool_alert_minutes else None
    return now, alert


def decide(registry: Any, ticket: dict[str, Any], desk: Any) -> RouteDecision:
    decision = registry.hook.route(ticket=ticket, desk=desk) or RouteDecision(None, None, "no routing plugin decided")
    snapshot = ticket.get("routing")
    if isinstance(snapshot, Snapshot):
        snapshot.assigned(decision)
    return decision


# --- reassignment when an agent goes offline ----------------------------------------------------------


class _DbConn:
    """fetch/fetchrow/fetchval over core.db.fetch ($n placeholders), for work outside ingest."""

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        from core import db
        import re

        return await db.fetch(re.sub(r"\$\d+", "{}", sql), *args)

    async def fetchrow(self, sql: str, *args: Any) -> dict[str, Any] | None:
        rows = await self.fetch(sql, *args)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, *args: Any) -> Any:
        row = await self.fetchrow(sql, *args)
        return next(iter(row.values())) if row else None


async def reassign_from(desk: "Desk", agent_id: int, *, reason: str = "went offline") -> int:
    """Route again every new/open ticket of an agent who cannot work them. Returns how many moved."""
    from core.events import Event, publish
    from core.tables import Ticket

    invalidate()
    conn = _DbConn()
    if not (await load_snapshot(conn)).teams:
        return 0  # no routing configured: assignments are the agents' own business, leave them
    rows = await Ticket.select(
        Ticket.id, Ticket.status, Ticket.priority, Ticket.customer, Ticket.team, Ticket.language,
        Ticket.subject, Ticket.channel_type, Ticket.account,
    ).where((Ticket.assignee == agent_id) & Ticket.status.is_in(["new", "open"])).order_by(Ticket.id)
    events = []
    moved = 0
    for row in rows:
        ticket = {**row, "assignee": None}  # keeps its team: the team's strategy picks the next agent
        await prepare(conn, ticket)
        ticket["last_helper"] = None if ticket.get("last_helper") == agent_id else ticket.get("last_helper")
        decision = decide(desk.registry, ticket, desk)
        if decision.reason.startswith("default:"):
            continue  # no strategy covers this ticket: keep its assignee
        if decision.agent_id == agent_id:
            decision = RouteDecision(None, decision.team_id, "no other agent available")
        now = clock.now()
        pooled_at, alert_at = pool_columns(decision, now)
        await Ticket.update({
            Ticket.assignee: decision.agent_id, Ticket.team: decision.team_id if decision.team_id is not None else row["team"],
            Ticket.route_reason: f"reassigned: agent {agent_id} {reason}; {decision.reason}",
            Ticket.pooled_at: pooled_at, Ticket.pool_alert_due_at: alert_at, Ticket.claimed_at: None,
            Ticket.updated_at: now,
        }).where((Ticket.id == row["id"]) & (Ticket.assignee == agent_id))
        events.append(Event("assigned", row["id"], actor="system:routing", data={"assignee": decision.agent_id}))
        moved += 1
    await publish(desk, events)
    return moved


async def set_availability(desk: "Desk", agent_id: int, availability: str) -> int:
    """Change an agent's availability; going offline hands their open tickets to others."""
    from core.tables import Agent

    await Agent.update({Agent.availability: availability}).where(Agent.id == agent_id)
    invalidate()
    return await reassign_from(desk, agent_id) if availability == "offline" else 0


async def reassign_offline_job(ctx: dict[str, Any]) -> None:
    """Catch what set_availability did not see (an availability changed through the API or a
    session that timed out): open tickets held by agents who are offline or inactive."""
    rows = await _DbConn().fetch(
        "SELECT DISTINCT t.assignee FROM tickets t JOIN agents a ON a.id = t.assignee "
        "WHERE t.status IN ('new', 'open') AND (a.availability = 'offline' OR a.active = FALSE)")
    for row in rows:
        await reassign_from(ctx["desk"], row["assignee"])


# --- the claim pool --------------------------------------------------------------------------------

OPEN = ("new", "open", "pending", "on-hold")


async def pool_tickets(team_ids: list[int] | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Tickets waiting in claim pools (of these teams), longest waiting first (index tickets_pooled)."""
    from core.tables import Ticket

    where = Ticket.pooled_at.is_not_null() & Ticket.assignee.is_null() & Ticket.status.is_in(list(OPEN))
    if team_ids is not None:
        where = where & Ticket.team.is_in(team_ids or [0])
    return await Ticket.select(Ticket.id, Ticket.subject, Ticket.priority, Ticket.team, Ticket.channel_type,
                               Ticket.pooled_at, Ticket.language).where(where).order_by(
        Ticket.pooled_at).order_by(Ticket.id).limit(limit)


async def claimed_count(agent_id: int) -> int:
    """Open tickets this agent claimed from a pool and still holds."""
    from core.tables import Ticket

    return await Ticket.count().where((Ticket.assignee == agent_id) & Ticket.claimed_at.is_not_null()
                                      & Ticket.status.is_in(list(OPEN)))


async def claim(desk: "Desk", ticket_id: int, agent_id: int, *, admin: bool = False) -> dict[str, Any]:
    """An agent takes a ticket from its team's claim pool. Refused (409, with the reason) when the
    ticket is not in a pool any more, the agent is not in the ticket's team, or the agent already
    holds the team's claim cap of claimed tickets. The claim itself is one conditional UPDATE, so
    two agents clicking at once cannot both get it."""
    from core import audit, db
    from core.errors import Conflict, Forbidden, NotFound
    from core.events import Event, publish
    from core.tables import AgentTeam, Team, TeamRouting, Ticket

    now = clock.now()
    async with db.transaction():
        ticket = await Ticket.select(Ticket.id, Ticket.team, Ticket.assignee, Ticket.pooled_at, Ticket.status).where(
            Ticket.id == ticket_id).first()
        if ticket is None:
            raise NotFound(f"ticket {ticket_id} does not exist")
        if ticket["pooled_at"] is None or ticket["assignee"] is not None or ticket["status"] not in OPEN:
            raise Conflict(f"ticket {ticket_id} is not in a claim pool (it was claimed or assigned already)")
        team = await Team.select(Team.name).where(Team.id == ticket["team"]).first() if ticket["team"] else None
        team_name = team["name"] if team else "?"
        if ticket["team"] is not None and not admin and not await AgentTeam.exists().where(
                (AgentTeam.agent == agent_id) & (AgentTeam.team == ticket["team"])):
            raise Forbidden(f"only members of team {team_name} can claim from its pool")
        settings = await TeamRouting.select(TeamRouting.claim_cap).where(TeamRouting.team == ticket["team"]).first() \
            if ticket["team"] is not None else None
        cap = settings["claim_cap"] if settings else None
        held = await claimed_count(agent_id)
        if cap is not None and held >= cap:
            raise Conflict(f"claim cap reached: you hold {held} claimed open ticket(s) and team {team_name} allows "
                           f"{cap}; solve or hand one over before claiming another")
        rows = await Ticket.update({
            Ticket.assignee: agent_id, Ticket.claimed_at: now, Ticket.pooled_at: None, Ticket.pool_alert_due_at: None,
            Ticket.route_reason: f"claimed from the pool of team {team_name} by agent {agent_id}", Ticket.updated_at: now,
        }).where((Ticket.id == ticket_id) & Ticket.assignee.is_null() & Ticket.pooled_at.is_not_null()).returning(Ticket.id)
        if not rows:
            raise Conflict(f"ticket {ticket_id} was claimed by someone else a moment ago")
        await audit.record(f"agent:{agent_id}", "claim", "ticket", ticket_id, {"team": ticket["team"]})
    invalidate()
    await publish(desk, [Event("assigned", ticket_id, actor=f"agent:{agent_id}", data={"assignee": agent_id, "claimed": True})])
    return await Ticket.select().where(Ticket.id == ticket_id).first()


@dataclass(slots=True)
class PoolSweep:
    seen: int = 0
    alerts: int = 0


async def sweep_pool(desk: "Desk", now: Any = None, limit: int = 500) -> PoolSweep:
    """Alert about tickets left in a claim pool too long: reads only `pool_alert_due_at <= now`
    (index tickets_pool_alert); each alert is claimed by a conditional UPDATE that clears the
    column, so it fires once even with several sweepers. An alert is a `pool_alert` event, an audit
    entry and a notification to every member of the ticket's team."""
    from core import audit, notifications
    from core.events import Event, publish
    from core.tables import Team, Ticket

    now = now or clock.now()
    result = PoolSweep()
    rows = await Ticket.select(Ticket.id, Ticket.team, Ticket.subject, Ticket.pooled_at, Ticket.pool_alert_due_at).where(
        Ticket.pool_alert_due_at <= now).order_by(Ticket.pool_alert_due_at).limit(limit)
    events = []
    for row in rows:
        result.seen += 1
        claimed = await Ticket.update({Ticket.pool_alert_due_at: None}).where(
            (Ticket.id == row["id"]) & Ticket.pool_alert_due_at.is_not_null() & Ticket.assignee.is_null()
        ).returning(Ticket.id)
        if not claimed:
            continue
        waited = int((now - row["pooled_at"]).total_seconds() // 60) if row["pooled_at"] else None
        team = await Team.select(Team.name).where(Team.id == row["team"]).first() if row["team"] else None
        params = {"ticket": row["id"], "subject": row["subject"], "minutes": waited,
                  "team": team["name"] if team else "?"}
        text = notifications.TEMPLATES["pool_alert"].format(**params)
        await audit.record("system:pool", "pool_alert", "ticket", row["id"], {"waited_minutes": waited, "team": row["team"]})
        if row["team"] is not None:
            await notifications.notify({"team": row["team"]}, text, ticket_id=row["id"], kind="pool_alert", desk=desk,
                                       params=params)
        events.append(Event("pool_alert", row["id"], actor="system:pool", data={"team": row["team"], "waited_minutes": waited}))
        result.alerts += 1
    await publish(desk, events)
    return result


async def sweep_pool_job(ctx: dict[str, Any]) -> None:
    await sweep_pool(ctx["desk"])
