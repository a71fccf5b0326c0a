"""Changes agents make to a ticket: status, priority, assignee, team, tags. Each is audited and
published as an event after it commits."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core import audit, clock, db, sla
from core.errors import InvalidRequest, NotFound
from core.events import Event, publish
from core.inbound import add_tag
from core.tables import PRIORITIES, TICKET_STATUSES, Agent, Team, Ticket, TicketTag

if TYPE_CHECKING:
    from core.desk import Desk

_UNSET: Any = object()


async def update_ticket(desk: "Desk", ticket_id: int, *, actor: str, status: str | None = None,
                        priority: str | None = None, assignee: int | None = _UNSET, team: int | None = _UNSET,
                        add_tags: list[str] | None = None, remove_tags: list[str] | None = None) -> dict[str, Any]:
    if status is not None and status not in TICKET_STATUSES:
        raise InvalidRequest(f"status must be one of {', '.join(TICKET_STATUSES)}, not {status!r}")
    if priority is not None and priority not in PRIORITIES:
        raise InvalidRequest(f"priority must be one of {', '.join(PRIORITIES)}, not {priority!r}")
    now = clock.now()
    events: list[Event] = []
    async with db.transaction():
        if not db.is_sqlite():  # two agents changing one ticket take turns (SQLite's writers always do)
            await db.fetch("SELECT id FROM tickets WHERE id = {} FOR UPDATE", ticket_id)
        ticket = await Ticket.select().where(Ticket.id == ticket_id).first()
        if ticket is None:
            raise NotFound(f"ticket {ticket_id} does not exist")
        changes: dict[Any, Any] = {}
        diff: dict[str, Any] = {}
        if status is not None and status != ticket["status"]:
            changes[Ticket.status] = status
            diff["status"] = [ticket["status"], status]
            if status == "pending":  # waiting on the customer: the SLA clock stops
                await sla.pause(ticket_id, now)
            elif ticket["status"] == "pending":
                await (sla.resume(desk.registry, ticket_id, now) if status in ("new", "open", "on-hold")
                       else sla.discard_pause(ticket_id))
            if status == "solved":
                changes[Ticket.solved_at] = now
                changes[Ticket.sla_due_at] = None
                events.append(Event("solved", ticket_id, actor=actor))
            elif status == "closed":
                changes[Ticket.closed_at] = now
                changes[Ticket.sla_due_at] = None
            elif status == "spam":  # out of every queue and clock (core.spam; the sender stays unblocked)
                changes[Ticket.sla_due_at] = None
                changes[Ticket.pooled_at] = None
            events.append(Event("status_changed", ticket_id, actor=actor, data={"from": ticket["status"], "to": status}))
        if priority is not None and priority != ticket["priority"]:
            changes[Ticket.priority] = priority
            diff["priority"] = [ticket["priority"], priority]
        if assignee is not _UNSET and assignee != ticket["assignee"]:
            if assignee is not None and not await Agent.exists().where((Agent.id == assignee) & (Agent.active == True)):  # noqa: E712
                raise InvalidRequest(f"agent {assignee} does not exist or is inactive")
            changes[Ticket.assignee] = assignee
            changes[Ticket.route_reason] = f"assigned by {actor}"
            diff["assignee"] = [ticket["assignee"], assignee]
            # previous_assignee: the agent it was taken from hears of it even when they may no
            # longer see the ticket (core.visibility), so their Mine list drops it at once
            events.append(Event("assigned", ticket_id, actor=actor,
                                data={"assignee": assignee, "previous_assignee": ticket["assignee"]}))
        if team is not _UNSET and team != ticket["team"]:
            if team is not None and not await Team.exists().where(Team.id == team):
                raise InvalidRequest(f"team {team} does not exist")
            changes[Ticket.team] = team
            diff["team"] = [ticket["team"], team]
        for tag in add_tags or []:
            if await add_tag(ticket_id, tag):
                diff.setdefault("tags_added", []).append(tag)
        for tag in remove_tags or []:
            await TicketTag.delete().where((TicketTag.ticket == ticket_id) & (TicketTag.tag == tag.strip().lower()))
            diff.setdefault("tags_removed", []).append(tag)
        if changes or diff:
            changes[Ticket.updated_at] = now
            await Ticket.update(changes).where(Ticket.id == ticket_id)
            await audit.record(actor, "update", "ticket", ticket_id, diff)
    await publish(desk, events)
    return await Ticket.select().where(Ticket.id == ticket_id).first()


async def tags_of(ticket_ids: list[int]) -> dict[int, list[str]]:
    if not ticket_ids:
        return {}
    marks = ", ".join("{}" for _ in ticket_ids)  # every list and ticket page: a plain statement
    rows = await db.fetch(f"SELECT ticket, tag FROM ticket_tags WHERE ticket IN ({marks})", *ticket_ids)
    out: dict[int, list[str]] = {i: [] for i in ticket_ids}
    for row in rows:
        out[row["ticket"]].append(row["tag"])
    return {k: sorted(v) for k, v in out.items()}
