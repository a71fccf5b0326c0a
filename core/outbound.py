"""Outbound: reply -> message + outbox row (one transaction) -> delivery job -> plugin send -> status.

The outbox row is the truth. A delivery job claims it with a lease, so two runs never send at the
same time; a worker that dies after sending leaves the lease to expire and the sweeper hands the row
to another run, which sends again with the same idempotency key.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from core import audit, clock, db, reply_files, sla
from core.errors import ChannelError, Conflict, DraftRejected, InvalidRequest, NotFound, ReplyCollision
from core.events import Event, await_me_maybe, publish
from core.identity import message_key
from core.metrics import DELIVERIES
from core.sanitize import sanitize_html
from core.tables import Agent, Identity, Message, Outbox, Ticket
from core.types import DraftProblem, InboundAttachment, OutboundMessage, SendResult

if TYPE_CHECKING:
    from core.desk import Desk

log = logging.getLogger("relaydesk.outbound")

MAX_ATTEMPTS = 8
MAX_TEXT = 100_000


def backoff_seconds(attempts: int) -> float:
    """5s, 10s, 20s ... capped at 10 minutes."""
    return float(min(600, 5 * 2 ** max(0, attempts - 1)))


async def reply(desk: "Desk", ticket_id: int, *, author_id: int | None, text: str, html: str | None = None,
                status: str | None = None, metadata: dict[str, Any] | None = None,
                automatic: bool = False, seen_up_to: int | None = None,
                attachments: list[InboundAttachment] | None = None) -> dict[str, Any]:
    """Queue a reply to the customer. Returns the stored message row. `metadata` travels to the
    channel plugin as OutboundMessage.metadata (e.g. the WhatsApp template to send).

    A reply with status "pending" (waiting on the customer) stops the SLA clock; a reply that takes
    a pending ticket elsewhere starts it again. `automatic` (a notice the desk sends by itself, e.g.
    a peak profile's "answers take longer") changes neither the status nor the SLA and publishes no
    agent_replied event: it is not an answer.

    `seen_up_to`, the id of the newest message the agent had in view, guards against answering
    blindly: when someone else (another agent, an automation, the API) replied after it, nothing is
    stored and ReplyCollision (409) names those replies.

    `attachments` go with the reply when the ticket's channel takes them (core.reply_files: 400, 413
    or 415 before anything is stored); they are kept like inbound attachments and delivered as
    OutboundMessage.attachments. With files, the text may be empty."""
    written: list[Any] = []
    if attachments:
        files = reply_files.check(attachments, await reply_files.rules_for_ticket(desk, await _ticket(ticket_id)))
        text = _check_text(text, allow_empty=True)
        written = reply_files.write(desk.data_dir, files)
    else:
        text = _check_text(text)
    problems = await check_draft(desk, ticket_id, text, await agent_language(author_id))
    if problems:
        raise DraftRejected(" ".join(p.message for p in problems), problems)
    now = clock.now()
    async with db.transaction():
        ticket = await _ticket(ticket_id)
        if seen_up_to is not None:
            await _refuse_collision(ticket_id, author_id, seen_up_to)
        if ticket["account"] is None:
            raise Conflict("this ticket's channel account no longer exists, so it cannot be answered")
        account = desk.registry.account_by_id(ticket["account"])
        if account is None:
            raise Conflict("this ticket's channel account is not configured in plugins.toml")
        rows = await Message.insert(Message(
            ticket=ticket_id, account=ticket["account"], direction="outbound", author=author_id,
            text=text, html=sanitize_html(html), delivery_status="queued", created_at=now, subject=None,
            metadata=dict(metadata or {}),
        )).returning(Message.id)
        message_id = rows[0]["id"]
        await reply_files.add_rows(message_id, written, now)
        outbox = await Outbox.insert(Outbox(message=message_id, status="pending", next_attempt_at=now,
                                            created_at=now, updated_at=now)).returning(Outbox.id)
        changes: dict[Any, Any] = {Ticket.updated_at: now, Ticket.last_message_at: now}
        new_status = ticket["status"]
        if not automatic:
            changes[Ticket.next_response_due_at] = None
            if ticket["first_responded_at"] is None:
                changes[Ticket.first_responded_at] = now
                changes[Ticket.first_response_due_at] = None
            new_status = status or ("open" if ticket["status"] == "new" else ticket["status"])
            changes[Ticket.status] = new_status
            resolution_due = ticket["resolution_due_at"]
            if new_status == "pending" and ticket["status"] != "pending":
                await sla.pause(ticket_id, now)  # waiting on the customer: the clock stops now
            elif ticket["status"] == "pending" and new_status != "pending":
                if new_status in ("new", "open", "on-hold"):
                    resolution_due = (await sla.resume(desk.registry, ticket_id, now)).get(
                        "resolution_due_at", resolution_due)
                else:
                    await sla.discard_pause(ticket_id)
            changes[Ticket.sla_due_at] = None if new_status == "pending" else sla.earliest(resolution_due)
            if new_status == "solved":
                changes[Ticket.solved_at] = now
                changes[Ticket.sla_due_at] = None
        await Ticket.update(changes).where(Ticket.id == ticket_id)
        await audit.record(_actor(author_id), "reply", "ticket", ticket_id, {"message": message_id})
    outbox_id = outbox[0]["id"]
    await desk.enqueue("deliver", outbox_id, job_id=f"deliver:{outbox_id}:0")
    events = [] if automatic else [Event("agent_replied", ticket_id, message_id, actor=_actor(author_id))]
    if status and new_status != ticket["status"]:  # the agent chose a status with the reply
        events.append(Event("status_changed", ticket_id, actor=_actor(author_id),
                            data={"from": ticket["status"], "to": new_status}))
    if new_status == "solved" and ticket["status"] != "solved":
        events.append(Event("solved", ticket_id, actor=_actor(author_id)))  # a reply that solves also solves
    await publish(desk, events)
    return await Message.select().where(Message.id == message_id).first()


async def newer_replies(ticket_id: int, author_id: int | None, seen_up_to: int) -> list[dict[str, Any]]:
    """Replies to the customer on this ticket after message `seen_up_to` by anyone but `author_id`."""
    where = (Message.ticket == ticket_id) & (Message.direction == "outbound") & (Message.id > seen_up_to)
    if author_id is not None:
        where &= Message.author.is_null() | (Message.author != author_id)
    return await Message.select(Message.id, Message.author, Message.text, Message.created_at).where(
        where).order_by(Message.id)


async def _refuse_collision(ticket_id: int, author_id: int | None, seen_up_to: int) -> None:
    newer = await newer_replies(ticket_id, author_id, seen_up_to)
    if newer:
        raise ReplyCollision(f"someone else replied to ticket {ticket_id} after message {seen_up_to}; "
                             "read it, then send again", [m["id"] for m in newer])


async def add_note(desk: "Desk", ticket_id: int, *, author_id: int | None, text: str, html: str | None = None) -> dict[str, Any]:
    text = _check_text(text)
    now = clock.now()
    async with db.transaction():
        await _ticket(ticket_id)
        rows = await Message.insert(Message(
            ticket=ticket_id, direction="note", author=author_id, text=text, html=sanitize_html(html), created_at=now,
        )).returning(Message.id)
        await Ticket.update({Ticket.updated_at: now}).where(Ticket.id == ticket_id)
        await audit.record(_actor(author_id), "note", "ticket", ticket_id, {"message": rows[0]["id"]})
    await publish(desk, [Event("note_added", ticket_id, rows[0]["id"], actor=_actor(author_id))])
    return await Message.select().where(Message.id == rows[0]["id"]).first()


async def draft_ticket(ticket_id: int) -> dict[str, Any]:
    """The ticket as check_draft and shape_outbound hooks see it."""
    from core.tables import TicketTag

    ticket = await Ticket.select(Ticket.id, Ticket.customer, Ticket.account, Ticket.channel_type,
                                 Ticket.subject).where(Ticket.id == ticket_id).first()
    if ticket is None:
        raise NotFound(f"ticket {ticket_id} does not exist")
    ticket["tags"] = sorted(r["tag"] for r in await TicketTag.select(TicketTag.tag).where(TicketTag.ticket == ticket_id))
    return ticket


async def check_draft(desk: "Desk", ticket_id: int, text: str, language: str = "en") -> list[DraftProblem]:
    """Every plugin's objections to sending `text` on this ticket (check_draft hooks), joined."""
    if not desk.registry.hook.check_draft.get_hookimpls():
        return []
    ticket = await draft_ticket(ticket_id)
    problems: list[DraftProblem] = []
    for impl in desk.registry.hook.check_draft.get_hookimpls():
        found = await await_me_maybe(impl.function(ticket=ticket, text=text, language=language))
        problems.extend(found or [])
    return problems


async def agent_language(author_id: int | None) -> str:
    if not author_id:
        return "en"
    row = await Agent.select(Agent.locale).where(Agent.id == author_id).first()
    return (row or {}).get("locale") or "en"


async def _shape(desk: "Desk", account: Any, message: OutboundMessage, ticket_id: int) -> None:
    """Let plugins adjust the message for the conversation's far end (shape_outbound hooks)."""
    impls = desk.registry.hook.shape_outbound.get_hookimpls()
    if not impls:
        return
    ticket = await draft_ticket(ticket_id)
    for impl in impls:
        await await_me_maybe(impl.function(account=account, message=message, ticket=ticket))


def _check_text(text: str, *, allow_empty: bool = False) -> str:
    text = text or ""
    if not text.strip() and not allow_empty:
        raise InvalidRequest("the reply is empty")
    if len(text) > MAX_TEXT:
        raise InvalidRequest(f"the reply is longer than {MAX_TEXT} characters")
    return text


async def _ticket(ticket_id: int) -> dict[str, Any]:
    ticket = await Ticket.select().where(Ticket.id == ticket_id).first()
    if ticket is None:
        raise NotFound(f"ticket {ticket_id} does not exist")
    return ticket


def _actor(author_id: int | None) -> str:
    return f"agent:{author_id}" if author_id else "system"


# --- delivery ---------------------------------------------------------------------------------


async def _claim(outbox_id: int, lease_seconds: float, owner: str | None = None) -> dict[str, Any] | None:
    """Take the row for one attempt, atomically; None when it is done, failed, leased or not due.

    `owner` (the job's id) may take a row whose lease it holds itself: a retry of a job whose
    earlier run lost the database before it could record anything."""
    now = clock.now()
    free = Outbox.lease_until.is_null() | (Outbox.lease_until < now)
    if owner:
        free = free | (Outbox.lease_owner == owner)
    rows = await Outbox.update({
        Outbox.lease_until: now + timedelta(seconds=lease_seconds),
        Outbox.lease_owner: owner,
        Outbox.attempts: Outbox.attempts + 1,
        Outbox.updated_at: now,
    }).where(
        (Outbox.id == outbox_id) & (Outbox.status == "pending") & (Outbox.next_attempt_at <= now) & free
    ).returning(Outbox.id, Outbox.message, Outbox.attempts)
    return rows[0] if rows else None


async def build_outbound(message_id: int, desk_id: str) -> tuple[OutboundMessage, int, int]:
    """The OutboundMessage for a stored reply of the desk `desk_id`, with the account id and the
    ticket id (its files are read by deliver, core.reply_files.load)."""
    message = await Message.select().where(Message.id == message_id).first()
    ticket = await Ticket.select(Ticket.id, Ticket.customer, Ticket.channel_type, Ticket.thread_key,
                                 Ticket.subject, Ticket.last_customer_message_at).where(Ticket.id == message["ticket"]).first()
    identity = await Identity.select(Identity.handle).where(
        (Identity.customer == ticket["customer"]) & (Identity.channel_type == ticket["channel_type"])
    ).order_by(Identity.id, ascending=False).first()
    last_inbound = await Message.select(Message.external_id, Message.metadata).where(
        (Message.ticket == ticket["id"]) & (Message.direction == "inbound")
    ).order_by(Message.id, ascending=False).first()
    author = None
    if message["author"]:
        author = await Agent.select(Agent.name, Agent.locale).where(Agent.id == message["author"]).first()
    outbound = OutboundMessage(
        message_id=message_id, ticket_id=ticket["id"], idempotency_key=message_key(desk_id, message_id),
        recipient_handle=identity["handle"] if identity else "", text=message["text"], html=message["html"],
        subject=ticket["subject"], thread_key=ticket["thread_key"],
        in_reply_to=last_inbound["external_id"] if last_inbound else None,
        author_name=author["name"] if author else None, author_language=(author or {}).get("locale") or "en",
        last_customer_message_at=ticket["last_customer_message_at"], metadata=_as_dict(message["metadata"]),
        references=_references(last_inbound), automatic=message["author"] is None,
    )
    return outbound, message["account"], ticket["id"]


def _references(parent: dict[str, Any] | None) -> list[str]:
    """The thread a reply answers: the parent's own references, then the parent (email References)."""
    if not parent or not parent["external_id"]:
        return []
    refs = [r for r in _as_dict(parent["metadata"]).get("references") or [] if isinstance(r, str)]
    return list(dict.fromkeys([*refs, parent["external_id"]]))


def _as_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        import json

        try:
            value = json.loads(value) if value else {}
        except ValueError:
            return {}
    return dict(value) if isinstance(value, dict) else {}


async def deliver(desk: "Desk", outbox_id: int, owner: str | None = None) -> str:
    """One delivery attempt by the job `owner`. Returns what happened: sent, retry, failed or skipped."""
    claim = await _claim(outbox_id, desk.settings.delivery_lease_seconds, owner)
    if claim is None:
        return "skipped"
    outbound, account_id, ticket_id = await build_outbound(claim["message"], desk.desk_id)
    outbound.attempt = claim["attempts"]
    account = desk.registry.account_by_id(account_id)
    try:
        outbound.attachments = await reply_files.load(desk.data_dir, claim["message"])
        if account is None:
            raise ChannelError("the channel account is no longer configured", retryable=False)
        await _shape(desk, account, outbound, ticket_id)
        pending = desk.registry.hook.send_message(channel_type=account.channel_type, account=account, message=outbound)
        if pending is None:
            raise ChannelError(f"no enabled plugin sends on channel type {account.channel_type!r}", retryable=False)
        result: SendResult = await await_me_maybe(pending)
    except asyncio.CancelledError:
        # The worker is stopping: hand the row back so another worker sends it at once, not when
        # the lease runs out. The platform may have it already; the next attempt carries the same
        # idempotency key.
        await asyncio.shield(_hand_back(outbox_id))
        raise
    except ChannelError as exc:
        return await _failed(desk, claim, ticket_id, exc)
    except Exception as exc:  # a plugin bug or a network error it did not classify: try again later
        log.exception("delivery of outbox %s raised", outbox_id)
        return await _failed(desk, claim, ticket_id, ChannelError(f"{type(exc).__name__}: {exc}", retryable=True))

    now = clock.now()
    async with db.transaction():
        await Message.update({Message.external_id: result.external_id, Message.delivery_status: result.status,
                              Message.sent_at: now, Message.delivery_error: None}).where(Message.id == claim["message"])
        await Outbox.update({Outbox.status: "done", Outbox.lease_until: None, Outbox.lease_owner: None, Outbox.updated_at: now,
                             Outbox.last_error: None}).where(Outbox.id == outbox_id)
    DELIVERIES.labels(outcome="sent").inc()
    await publish(desk, [Event("delivered", ticket_id, claim["message"], data={"status": result.status})])
    return "sent"


async def _hand_back(outbox_id: int) -> None:
    now = clock.now()
    await Outbox.update({Outbox.lease_until: None, Outbox.lease_owner: None, Outbox.next_attempt_at: now, Outbox.updated_at: now}).where(
        (Outbox.id == outbox_id) & (Outbox.status == "pending"))


async def _failed(desk: "Desk", claim: dict[str, Any], ticket_id: int, exc: ChannelError) -> str:
    now = clock.now()
    reason = f"{exc.message} ({exc.platform_code})" if exc.platform_code else exc.message
    if exc.retryable and claim["attempts"] < MAX_ATTEMPTS:
        delay = exc.retry_after or backoff_seconds(claim["attempts"])
        await Outbox.update({Outbox.lease_until: None, Outbox.lease_owner: None, Outbox.last_error: reason, Outbox.updated_at: now,
                             Outbox.next_attempt_at: now + timedelta(seconds=delay)}).where(Outbox.id == claim["id"])
        DELIVERIES.labels(outcome="retry").inc()
        await desk.enqueue("deliver", claim["id"], job_id=f"deliver:{claim['id']}:{claim['attempts']}", defer=delay)
        log.warning("delivery of message %s failed (attempt %d): %s; trying again in %.0fs",
                    claim["message"], claim["attempts"], reason, delay)
        return "retry"
    log.error("delivery of message %s failed for good after %d attempt(s): %s", claim["message"],
              claim["attempts"], reason)
    async with db.transaction():
        await Outbox.update({Outbox.status: "failed", Outbox.lease_until: None, Outbox.lease_owner: None, Outbox.last_error: reason,
                             Outbox.updated_at: now}).where(Outbox.id == claim["id"])
        await Message.update({Message.delivery_status: "failed", Message.delivery_error: reason}).where(
            Message.id == claim["message"])
    DELIVERIES.labels(outcome="failed").inc()
    await publish(desk, [Event("delivery_failed", ticket_id, claim["message"], data={"error": reason})])
    return "failed"


async def sweep(desk: "Desk", limit: int = 500) -> int:
    """Enqueue every outbox row that is due and that no job holds. Returns how many were enqueued."""
    now = clock.now()
    rows = await Outbox.select(Outbox.id, Outbox.attempts).where(
        (Outbox.status == "pending") & (Outbox.next_attempt_at <= now)
        & (Outbox.lease_until.is_null() | (Outbox.lease_until < now))
    ).order_by(Outbox.next_attempt_at).limit(limit)
    count = 0
    for row in rows:
        if await desk.enqueue("deliver", row["id"], job_id=f"deliver:{row['id']}:{row['attempts']}"):
            count += 1
    return count


async def deliver_job(ctx: dict[str, Any], outbox_id: int) -> str:
    return await deliver(ctx["desk"], outbox_id, ctx.get("job_id"))


async def sweep_job(ctx: dict[str, Any]) -> int:
    return await sweep(ctx["desk"])
