"""Bulk work on many tickets: status, priority, team, assignee, tags, and a template reply rendered
for each ticket. Each ticket is changed on its own (audited and published like a single change), so
one refusal (a closed messaging window, a ticket gone meanwhile) is reported for that ticket and the
others go on.

Changes that only set fields can be undone for UNDO_SECONDS: `apply` returns what each ticket had
before, the caller signs it (web layer), and `undo` puts back what is still as the bulk left it (a
ticket someone changed since keeps the newer change). A reply cannot be undone: it is on its way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.errors import InvalidRequest, RelaydeskError
from core.tables import Macro, Ticket, TicketTag
from core.tickets import update_ticket

if TYPE_CHECKING:
    from core.desk import Desk

ACTIONS = ("status", "priority", "team", "assign", "unassign", "tag_add", "tag_remove", "reply")
MAX_TICKETS = 500
UNDO_SECONDS = 30
_FIELDS = {"status": "status", "priority": "priority", "team": "team", "assign": "assignee", "unassign": "assignee"}


@dataclass
class BulkResult:
    action: str
    done: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    # per ticket: the field or tag the bulk changed and its value before (what undo restores)
    before: dict[int, Any] = field(default_factory=dict)
    after: Any = None

    @property
    def undoable(self) -> bool:
        return self.action != "reply" and bool(self.done)


async def apply(desk: "Desk", ticket_ids: list[int], action: str, value: Any, *, actor: str,
                agent: dict[str, Any]) -> BulkResult:
    if action not in ACTIONS:
        raise InvalidRequest(f"action must be one of {', '.join(ACTIONS)}")
    ids = list(dict.fromkeys(ticket_ids))
    if not ids:
        raise InvalidRequest("choose at least one ticket")
    if len(ids) > MAX_TICKETS:
        raise InvalidRequest(f"at most {MAX_TICKETS} tickets at once")
    result = BulkResult(action)
    macro = await _macro(value) if action == "reply" else None
    from core.visibility import viewer_for

    seen = await viewer_for(agent)  # a ticket the agent may not see is, to them, one that does not exist
    current = {r["id"]: r for r in await Ticket.select(
        Ticket.id, Ticket.status, Ticket.priority, Ticket.team, Ticket.assignee).where(Ticket.id.is_in(ids))
        if seen.may_see(r)}
    tagged = set()
    if action in ("tag_add", "tag_remove"):
        if not value:
            raise InvalidRequest("name the tag")
        value = str(value).strip().lower()
        tagged = {r["ticket"] for r in await TicketTag.select(TicketTag.ticket).where(
            TicketTag.ticket.is_in(ids) & (TicketTag.tag == value))}
    result.after = None if action == "unassign" else value
    for ticket_id in ids:
        if ticket_id not in current:
            result.failed[ticket_id] = f"ticket {ticket_id} does not exist"
            continue
        try:
            if action == "reply":
                await _reply(desk, macro, ticket_id, agent)
            elif action in ("tag_add", "tag_remove"):
                had = ticket_id in tagged
                await update_ticket(desk, ticket_id, actor=actor, **(
                    {"add_tags": [value]} if action == "tag_add" else {"remove_tags": [value]}))
                result.before[ticket_id] = had
            else:
                name = _FIELDS[action]
                await update_ticket(desk, ticket_id, actor=actor, **{name: result.after})
                result.before[ticket_id] = current[ticket_id][name]
            result.done.append(ticket_id)
        except RelaydeskError as exc:
            result.failed[ticket_id] = exc.message if hasattr(exc, "message") else str(exc)
    return result


async def _macro(macro_id: Any) -> dict[str, Any]:
    try:
        wanted = int(macro_id)
    except (TypeError, ValueError):
        raise InvalidRequest("choose the reply template to send") from None
    macro = await Macro.select().where(Macro.id == wanted).first()
    if macro is None:
        raise InvalidRequest(f"reply template {macro_id} does not exist")
    return macro


async def _reply(desk: "Desk", macro: dict[str, Any], ticket_id: int, agent: dict[str, Any]) -> None:
    """The template's best version for this ticket's channel and language, rendered for it, sent
    through the same path as a reply typed in the box (draft checks, channel limits)."""
    from core import macros, outbound

    ticket = await Ticket.select(Ticket.channel_type, Ticket.language).where(Ticket.id == ticket_id).first()
    versions = await Macro.select().where(Macro.shortcut == macro["shortcut"])
    fitting = [v for v in versions if macros._fit(v, ticket["channel_type"], ticket["language"]) >= 0]
    if not fitting:
        raise InvalidRequest(f"the template /{macro['shortcut']} has no version for this ticket's channel or language")
    best = max(fitting, key=lambda v: macros._fit(v, ticket["channel_type"], ticket["language"]))
    text = await macros.render_for_ticket(desk, best["id"], ticket_id, agent)
    await outbound.reply(desk, ticket_id, author_id=agent["id"], text=text)


async def undo(desk: "Desk", action: str, before: dict[int, Any], after: Any, *, actor: str) -> list[int]:
    """Put back what the bulk changed, where the ticket still shows the bulk's value."""
    if action == "reply" or action not in ACTIONS:
        raise InvalidRequest("this bulk action cannot be undone")
    restored = []
    ids = [int(t) for t in before]
    if action in ("tag_add", "tag_remove"):
        now_tagged = {r["ticket"] for r in await TicketTag.select(TicketTag.ticket).where(
            TicketTag.ticket.is_in(ids or [0]) & (TicketTag.tag == after))}
        for ticket_id, had in ((int(k), v) for k, v in before.items()):
            if had == (ticket_id in now_tagged):
                continue  # nothing to put back (it was already so), or someone changed it since
            if (action == "tag_add") != (ticket_id in now_tagged):
                continue
            await update_ticket(desk, ticket_id, actor=actor, **(
                {"remove_tags": [after]} if action == "tag_add" else {"add_tags": [after]}))
            restored.append(ticket_id)
        return restored
    name = _FIELDS[action]
    rows = {r["id"]: r[name] for r in await Ticket.select(Ticket.id, getattr(Ticket, name)).where(
        Ticket.id.is_in(ids or [0]))}
    for ticket_id, previous in ((int(k), v) for k, v in before.items()):
        if ticket_id not in rows or rows[ticket_id] != after or previous == after:
            continue
        await update_ticket(desk, ticket_id, actor=actor, **{name: previous})
        restored.append(ticket_id)
    return restored
