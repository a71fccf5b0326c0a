"""Ingest: normalized inbound messages -> customer -> ticket -> hooks -> events.

Each batch is stored in one transaction; a webhook is acknowledged only after it commits. Ingest is
idempotent on (account, external id): a replayed or duplicated delivery changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core import attachments, clock, db, sla
from core.customers import resolve
from core.events import Event, publish
from core.routing import decide
from core.sanitize import sanitize_html
from core.tables import OPEN_STATUSES, PRIORITIES, Attachment, Message, Ticket, TicketTag
from core.types import Account, InboundMessage, StatusUpdate

if TYPE_CHECKING:
    from core.desk import Desk

log = logging.getLogger("relaydesk.inbound")

DELIVERY_RANK = {"queued": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}


@dataclass(slots=True)
class IngestResult:
    message_id: int
    ticket_id: int
    duplicate: bool = False
    created_ticket: bool = False
    skipped: bool = False


async def ingest(desk: "Desk", account: Account, messages: list[InboundMessage],
                 statuses: list[StatusUpdate] | None = None) -> list[IngestResult]:
    """Store messages and status updates in one transaction, then publish events."""
    for attempt in range(2):
        results: list[IngestResult] = []
        events: list[Event] = []
        try:
            async with db.transaction():
                for message in messages:
                    result, event = await _store_one(desk, account, message)
                    results.append(result)
                    if event:
                        events.append(event)
                for status in statuses or []:
                    event = await apply_status(account, status)
                    if event:
                        events.append(event)
            break
        except Exception as exc:
            # Two deliveries of one message racing on PostgreSQL: the loser's insert hits the unique
            # index. Run the batch again; this time it sees the winner's rows and dedupes.
            if attempt == 0 and _is_unique_violation(exc):
                continue
            raise
    await publish(desk, events)
    return results


def _is_unique_violation(exc: Exception) -> bool:
    text = f"{type(exc).__name__} {exc}".lower()
    return "unique" in text or "duplicate key" in text


async def _store_one(desk: "Desk", account: Account, message: InboundMessage) -> tuple[IngestResult, Event | None]:
    existing = await Message.select(Message.id, Message.ticket).where(
        (Message.account == account.id) & (Message.external_id == message.external_id)
    ).first()
    if existing:
        return IngestResult(existing["id"], existing["ticket"], duplicate=True), None

    now = clock.now()
    customer_id, _ = await resolve(account.channel_type, message)
    ticket, created = await _thread(desk, account, message, customer_id, now)
    if ticket is None:
        log.info("skipped %s on %s: it would open a ticket and may not", message.external_id, account.name)
        return IngestResult(0, 0, skipped=True), None
    direction = "outbound" if message.is_echo else "inbound"
    html = sanitize_html(message.html)
    rows = await Message.insert(Message(
        ticket=ticket["id"], account=account.id, direction=direction,
        customer=None if message.is_echo else customer_id, subject=message.subject,
        text=message.text, html=html, external_id=message.external_id,
        delivery_status="sent" if message.is_echo else None,
        metadata=_message_metadata(message), created_at=message.sent_at or now,
        sent_at=message.sent_at if message.is_echo else None,
    )).returning(Message.id)
    message_id = rows[0]["id"]
    for item in message.attachments:
        await _store_attachment(desk, message_id, item)

    if message.is_echo:
        await Ticket.update({Ticket.last_message_at: now, Ticket.updated_at: now}).where(Ticket.id == ticket["id"])
        return IngestResult(message_id, ticket["id"], created_ticket=created), None

    await _after_customer_message(desk, ticket, message, created, now)
    name = "created" if created else "customer_replied"
    return (IngestResult(message_id, ticket["id"], created_ticket=created),
            Event(name=name, ticket_id=ticket["id"], message_id=message_id, actor=f"customer:{customer_id}"))


async def _thread(desk: "Desk", account: Account, message: InboundMessage, customer_id: int,
                  now: Any) -> tuple[dict[str, Any] | None, bool]:
    """Find the ticket this message belongs to: references, then the platform's thread id, then the
    customer's open ticket on this account; otherwise a new ticket. A closed ticket is reopened when
    the message says so (reopen_closed), else a new message opens a follow-up linked to it."""
    columns = (Ticket.id, Ticket.status, Ticket.priority, Ticket.customer, Ticket.assignee, Ticket.team,
               Ticket.first_responded_at, Ticket.language, Ticket.subject, Ticket.channel_type)
    ticket = None
    if message.references:
        ref = await Message.select(Message.ticket).where(
            (Message.account == account.id) & Message.external_id.is_in(message.references[-50:])
        ).order_by(Message.id, ascending=False).first()
        if ref:
            ticket = await Ticket.select(*columns).where(Ticket.id == ref["ticket"]).first()
    if ticket is None and message.thread_key:
        ticket = await Ticket.select(*columns).where(
            (Ticket.account == account.id) & (Ticket.thread_key == message.thread_key)
        ).order_by(Ticket.id, ascending=False).first()
    if ticket is None and not message.thread_key:
        ticket = await Ticket.select(*columns).where(
            (Ticket.customer == customer_id) & (Ticket.account == account.id) & Ticket.status.is_in(list(OPEN_STATUSES))
        ).order_by(Ticket.id, ascending=False).first()
    if ticket is not None and (ticket["status"] != "closed" or message.reopen_closed):
        return ticket, False
    if not message.may_open_ticket:
        return None, False

    subject = (message.subject or message.text.strip().split("\n", 1)[0])[:200]
    rows = await Ticket.insert(Ticket(
        subject=subject, status="new", priority="normal", customer=customer_id, account=account.id,
        channel_type=account.channel_type, thread_key=message.thread_key,
        linked_ticket=ticket["id"] if ticket else None,
        created_at=now, updated_at=now, last_message_at=now, last_customer_message_at=now,
    )).returning(Ticket.id)
    new = {"id": rows[0]["id"], "status": "new", "priority": "normal", "customer": customer_id,
           "assignee": None, "team": None, "first_responded_at": None, "language": None,
           "subject": subject, "channel_type": account.channel_type}
    return new, True


async def _after_customer_message(desk: "Desk", ticket: dict[str, Any], message: InboundMessage, created: bool, now: Any) -> None:
    """Classify, prioritize, set SLA due times and route, then write the ticket once."""
    registry = desk.registry
    changes: dict[Any, Any] = {Ticket.last_message_at: now, Ticket.last_customer_message_at: now, Ticket.updated_at: now}
    tags: set[str] = set()
    for result in registry.hook.classify(message=message, ticket=ticket):
        if not result:
            continue
        if result.get("language"):
            changes[Ticket.language] = ticket["language"] = result["language"]
        if result.get("intent"):
            changes[Ticket.intent] = result["intent"]
        if result.get("sentiment") is not None:
            changes[Ticket.sentiment] = str(result["sentiment"])
        if result.get("priority") in PRIORITIES and _more_urgent(result["priority"], ticket["priority"]):
            changes[Ticket.priority] = ticket["priority"] = result["priority"]
        tags.update(result.get("tags") or [])
    if message.language and Ticket.language not in changes:
        changes[Ticket.language] = message.language

    if ticket["status"] in ("pending", "on-hold", "solved", "closed"):
        changes[Ticket.status] = ticket["status"] = "open"
    targets = sla.targets_for(registry, ticket)
    if created:
        first = sla.due(now, targets.first_response_minutes)
        resolution = sla.due(now, targets.resolution_minutes)
        changes.update({Ticket.first_response_due_at: first, Ticket.resolution_due_at: resolution,
                        Ticket.sla_due_at: sla.earliest(first, resolution)})
        decision = decide(registry, ticket, desk)
        changes.update({Ticket.assignee: decision.agent_id, Ticket.team: decision.team_id,
                        Ticket.route_reason: decision.reason})
    elif ticket["first_responded_at"] is not None:
        # The customer wrote again after we answered: the next-response clock starts.
        row = await Ticket.select(Ticket.next_response_due_at, Ticket.resolution_due_at).where(Ticket.id == ticket["id"]).first()
        nxt = row["next_response_due_at"] or sla.due(now, targets.next_response_minutes)
        changes.update({Ticket.next_response_due_at: nxt, Ticket.sla_due_at: sla.earliest(nxt, row["resolution_due_at"])})
    await Ticket.update(changes).where(Ticket.id == ticket["id"])
    for tag in sorted(tags):
        await add_tag(ticket["id"], tag)


async def add_tag(ticket_id: int, tag: str) -> bool:
    tag = tag.strip().lower()[:64]
    exists = await TicketTag.exists().where((TicketTag.ticket == ticket_id) & (TicketTag.tag == tag))
    if not exists and tag:
        await TicketTag.insert(TicketTag(ticket=ticket_id, tag=tag))
        return True
    return False


def _more_urgent(candidate: str, current: str) -> bool:
    return PRIORITIES.index(candidate) < PRIORITIES.index(current or "normal")


async def _store_attachment(desk: "Desk", message_id: int, item: Any) -> None:
    digest, path = attachments.store(desk.data_dir, item)
    await Attachment.insert(Attachment(
        message=message_id, filename=attachments.safe_filename(item.filename), content_type=item.content_type[:127],
        size=len(item.data), sha256=digest, storage_path=path, content_id=item.content_id, inline=item.inline,
        created_at=clock.now(),
    ))


def _message_metadata(message: InboundMessage) -> dict[str, Any]:
    meta = dict(message.metadata)
    if message.references:
        meta["references"] = message.references[-20:]
    if message.order_ids:
        meta["order_ids"] = message.order_ids
    if message.is_auto_reply:
        meta["auto_reply"] = True
    return meta


async def apply_status(account: Account, update: StatusUpdate) -> Event | None:
    """Record what the platform says happened to our message. Statuses only move forward, so
    out-of-order receipts (read before delivered) leave the later state in place."""
    row = await Message.select(Message.id, Message.ticket, Message.delivery_status).where(
        (Message.account == account.id) & (Message.external_id == update.external_id)
        & (Message.direction == "outbound")
    ).first()
    if row is None:
        log.info("status %s for unknown message %s on %s", update.status, update.external_id, account.name)
        return None
    current = DELIVERY_RANK.get(row["delivery_status"] or "queued", 0)
    if DELIVERY_RANK[update.status] <= current:
        return None
    values: dict[Any, Any] = {Message.delivery_status: update.status}
    if update.status == "failed":
        values[Message.delivery_error] = update.error or "the platform reported a failure"
    await Message.update(values).where(Message.id == row["id"])
    name = "delivery_failed" if update.status == "failed" else "delivered"
    return Event(name=name, ticket_id=row["ticket"], message_id=row["id"], data={"status": update.status})
