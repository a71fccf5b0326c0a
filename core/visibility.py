"""Team visibility: who may see which ticket. The one place that decides it.

A team's `visibility` is "everyone" (the default) or "members". A ticket of a "members" team is
seen only by the team's members, supervisors and admins, and by the agent it is assigned to (a
ticket handed to someone outside the team stays theirs to work). Everyone else is an outsider:
the ticket is left out of their lists, searches, counts and live events, and asking for it by id
answers 404, as if it did not exist. Tickets without a team are seen by everyone.

Callers get a `Viewer` once per request (web/visibility.py caches it on the request) and use
`where()` for piccolo queries, `sql()` for raw statements, `may_see()` for one loaded row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core import db
from core.errors import N_, Invalid, NotFound
from core.people import ROLE_RANK

EVERYONE = "everyone"
MEMBERS = "members"
VISIBILITIES = (EVERYONE, MEMBERS)


@dataclass(frozen=True, slots=True)
class Viewer:
    """One agent's view of the desk: `hidden` are the teams whose tickets they may not see."""

    agent_id: int
    hidden: frozenset[int] = frozenset()

    @property
    def sees_all(self) -> bool:
        return not self.hidden

    def may_see(self, ticket: dict[str, Any]) -> bool:
        """`ticket` needs its team and assignee."""
        team = ticket.get("team")
        return team is None or team not in self.hidden or ticket.get("assignee") == self.agent_id

    def where(self) -> list[Any]:
        """Piccolo clauses for Ticket queries: [] when the agent sees everything."""
        from core.tables import Ticket

        if not self.hidden:
            return []
        return [Ticket.team.is_null() | Ticket.team.not_in(sorted(self.hidden)) | (Ticket.assignee == self.agent_id)]

    def sql(self, alias: str = "tickets") -> tuple[str, list[Any]]:
        """A condition for raw SQL ({} placeholders) on the tickets table under `alias`, to AND into
        a WHERE clause, and its arguments: ("TRUE"-like "1 = 1", []) when the agent sees everything."""
        if not self.hidden:
            return "1 = 1", []
        marks = ", ".join("{}" for _ in self.hidden)
        return (f"({alias}.team IS NULL OR {alias}.team NOT IN ({marks}) OR {alias}.assignee = {{}})",
                [*sorted(self.hidden), self.agent_id])


SEES_ALL = Viewer(agent_id=0)


async def viewer_for(agent: dict[str, Any] | None) -> Viewer:
    """The agent's Viewer: supervisors and admins see everything; others do not see the "members"
    teams they are not in. One query (none for a supervisor)."""
    if agent is None:
        return Viewer(agent_id=0, hidden=frozenset(await restricted_teams()))
    if ROLE_RANK.get(agent.get("role", ""), -1) >= ROLE_RANK["supervisor"]:
        return Viewer(agent_id=agent["id"])
    rows = await db.fetch("SELECT id FROM teams WHERE visibility = {} AND NOT EXISTS "
                          "(SELECT 1 FROM agent_teams WHERE agent_teams.team = teams.id AND agent_teams.agent = {})",
                          MEMBERS, agent["id"])
    return Viewer(agent_id=agent["id"], hidden=frozenset(r["id"] for r in rows))


async def restricted_teams() -> list[int]:
    return [r["id"] for r in await db.fetch("SELECT id FROM teams WHERE visibility = {}", MEMBERS)]


def _not_found(template: str, **params: Any) -> NotFound:
    """The same 404 a missing row gets, in the agent's language on the inbox's pages."""
    problem = Invalid(template, **params)
    error = NotFound(str(problem))
    error.__cause__ = problem
    return error


async def check_ticket(viewer: Viewer, ticket_id: int) -> None:
    """404 when the ticket does not exist or the viewer may not see it (the same answer for both,
    so an outsider cannot tell a hidden ticket from a missing one)."""
    if viewer.sees_all:
        return
    rows = await db.fetch("SELECT team, assignee FROM tickets WHERE id = {}", ticket_id)
    if rows and not viewer.may_see(rows[0]):
        raise _not_found(N_("ticket {ticket_id} does not exist"), ticket_id=ticket_id)


async def check_message(viewer: Viewer, message_id: int) -> None:
    """404 for a message (or its attachments, images, body) of a ticket the viewer may not see."""
    if viewer.sees_all:
        return
    rows = await db.fetch("SELECT t.team, t.assignee FROM messages m JOIN tickets t ON t.id = m.ticket "
                          "WHERE m.id = {}", message_id)
    if rows and not viewer.may_see(rows[0]):
        raise _not_found(N_("message {message_id} does not exist"), message_id=message_id)


async def check_attachment(viewer: Viewer, attachment_id: int) -> None:
    if viewer.sees_all:
        return
    rows = await db.fetch("SELECT t.team, t.assignee FROM attachments a JOIN messages m ON m.id = a.message "
                          "JOIN tickets t ON t.id = m.ticket WHERE a.id = {}", attachment_id)
    if rows and not viewer.may_see(rows[0]):
        raise _not_found(N_("attachment {attachment_id} does not exist"), attachment_id=attachment_id)


async def visible_ids(viewer: Viewer, ticket_ids: list[int]) -> set[int]:
    """Which of these tickets the viewer may see (for bulk work and events)."""
    if viewer.sees_all or not ticket_ids:
        return set(ticket_ids)
    condition, args = viewer.sql()
    marks = ", ".join("{}" for _ in ticket_ids)
    rows = await db.fetch(f"SELECT id FROM tickets WHERE id IN ({marks}) AND {condition}", *ticket_ids, *args)
    return {r["id"] for r in rows}


async def stamp(payloads: list[dict[str, Any]]) -> None:
    """Add each live event's ticket `team` and `assignee` (one query for the batch), so the live
    endpoint can leave out, per browser, the events of tickets its agent may not see without a
    query per event and browser."""
    ids = sorted({p["ticket_id"] for p in payloads if isinstance(p.get("ticket_id"), int)})
    if not ids:
        return
    marks = ", ".join("{}" for _ in ids)
    found = {r["id"]: r for r in await db.fetch(f"SELECT id, team, assignee FROM tickets WHERE id IN ({marks})", *ids)}
    for payload in payloads:
        row = found.get(payload.get("ticket_id"))  # type: ignore[arg-type]
        payload["team"] = row["team"] if row else None
        payload["assignee"] = row["assignee"] if row else None
