"""Routing strategies per team (team_routing): VIP and keyword exceptions pick the team, then
low-priority work goes to the team's claim pool, or sticky, skills, language match and
round-robin or least-loaded pick an available agent with room.

Reads only the snapshot core.routing.prepare put in the ticket dict: no I/O in this hook. Returns
None when no team has routing settings, so the default (leave it in the queue) applies.
"""

from __future__ import annotations

from typing import Any

from core.plugins import hookimpl
from core.routing import AgentState, RouteDecision, Snapshot, TeamSettings
from core.types import JobSpec


def _team_for(snapshot: Snapshot, ticket: dict[str, Any]) -> tuple[TeamSettings | None, str]:
    tags = set(ticket.get("customer_tags") or ())
    for team in snapshot.teams:
        hit = sorted(tags & set(team.vip_tags))
        if hit:
            return team, f"customer tagged {hit[0]!r}: team {team.name}"
    text = f"{ticket.get('subject') or ''}\n{ticket.get('text') or ''}".lower()
    for team in snapshot.teams:
        for word in team.keywords:
            if word and word in text:
                return team, f"keyword {word!r}: team {team.name}"
    if ticket.get("team") is not None:
        for team in snapshot.teams:
            if team.team == ticket["team"]:
                return team, f"team {team.name}"
    for team in snapshot.teams:
        if not team.channels or ticket.get("channel_type") in team.channels:
            return team, f"channel {ticket.get('channel_type')}: team {team.name}"
    return None, ""


def _base(language: str | None) -> str:
    return (language or "").lower().split("-")[0].split("_")[0]


def _reads(agent: AgentState, language: str) -> bool:
    return any(_base(known) == language for known in agent.languages)


def _needs(team: TeamSettings, candidates: list[AgentState], ticket: dict[str, Any]) -> set[str]:
    """The skills this ticket asks for: its intent and tags, as far as anyone in the team lists them
    as a skill (a tag no one lists as a skill is not a requirement)."""
    if not team.skills_match:
        return set()
    wanted = {str(t).lower() for t in (ticket.get("tags") or ())}
    if ticket.get("intent"):
        wanted.add(str(ticket["intent"]).lower())
    if not wanted:
        return set()
    known: set[str] = set()
    for agent in team.agents:
        known |= agent.skills
    return wanted & known


def pick(team: TeamSettings, ticket: dict[str, Any], why: str) -> RouteDecision:
    if team.pool_priorities and ticket.get("priority") in team.pool_priorities:
        return RouteDecision(None, team.team, f"{why}; priority {ticket.get('priority')}: claim pool of {team.name}",
                             pool=True, pool_alert_minutes=team.pool_alert_minutes)
    online = [a for a in team.agents if a.online]
    if not online:
        return RouteDecision(None, team.team, f"{why}; no agent online (and on shift), left in the team queue")
    candidates = [a for a in online if a.load < a.capacity]
    if not candidates:
        return RouteDecision(None, team.team, f"{why}; every online agent is at capacity, left in the team queue")
    notes = [why]
    helper = ticket.get("last_helper")
    if team.sticky and helper is not None:
        for agent in candidates:
            if agent.id == helper:
                return RouteDecision(agent.id, team.team, f"{why}; sticky: {agent.name} helped this customer last")
    needs = _needs(team, candidates, ticket)
    everyone = candidates
    if needs:
        skilled = [a for a in candidates if a.skills & needs]
        if skilled:
            candidates = skilled
            notes.append(f"skill {', '.join(sorted(needs & set().union(*(a.skills for a in skilled))))}")
        else:
            notes.append(f"no available agent has skill {', '.join(sorted(needs))}")
    language = _base(ticket.get("language"))
    if team.language_match and language:
        readers = [a for a in candidates if _reads(a, language)]
        if not readers and candidates is not everyone:
            # nobody with the skill reads the language: reading the customer beats the skill
            readers = [a for a in everyone if _reads(a, language)]
            if readers:
                notes.append(f"no skilled agent reads {language}")
        if readers:
            candidates = readers
            notes.append(f"reads {language}")
        else:
            notes.append(f"no agent reads {language}: translation path")
    if team.strategy == "least_loaded":
        agent = min(candidates, key=lambda a: (a.load, a.id))
        notes.append(f"least loaded: {agent.name} had {agent.load} open of {agent.capacity}")
    else:
        ordered = sorted(candidates, key=lambda a: a.id)
        later = [a for a in ordered if team.cursor is not None and a.id > team.cursor]
        agent = (later or ordered)[0]
        notes.append(f"round robin: {agent.name}")
    return RouteDecision(agent.id, team.team, "; ".join(notes))


def _overflow(snapshot: Snapshot, team: TeamSettings, why: str) -> tuple[TeamSettings, str]:
    """Follow overflow links while a queue is at its threshold (each team once)."""
    seen = {team.team}
    while team.overflow_team is not None and team.overflow_threshold is not None \
            and team.queued >= team.overflow_threshold:
        target = next((t for t in snapshot.teams if t.team == team.overflow_team), None)
        if target is None or target.team in seen:
            break
        why = f"{why}; queue of {team.name} at {team.queued} (threshold {team.overflow_threshold}): overflow to {target.name}"
        team = target
        seen.add(team.team)
    return team, why


@hookimpl(trylast=True)
def route(ticket, desk):
    snapshot = ticket.get("routing")
    if not isinstance(snapshot, Snapshot) or not snapshot.teams:
        return None
    team, why = _team_for(snapshot, ticket)
    if team is None:
        return None
    team, why = _overflow(snapshot, team, why)
    return pick(team, ticket, why)


@hookimpl
def register_jobs(register):
    from core import routing

    register(JobSpec(name="reassign_offline", func=routing.reassign_offline_job, every=60))
    register(JobSpec(name="pool_sweep", func=routing.sweep_pool_job, every=60))


@hookimpl
def startup(desk):
    from core import routing

    routing.invalidate()  # a snapshot from another desk (another database) must not leak in
