"""Spam and the blocklist, for every channel through the core.

A ticket marked as spam leaves every queue for the Spam view (status "spam": outside the open
statuses, so outside the counts, the SLA clock and reports) and its sender is blocked. A blocked
sender ("sender": "<channel type>:<handle>"), e-mail domain ("domain") or phone number ("phone")
still has every message stored, nothing is lost: ingest (core.inbound) files it in a spam ticket
with no routing, no SLA, no events (so no notifications, rules or auto-replies). "Not spam" reopens
the ticket and unblocks its sender.

Ingest asks `is_blocked` for every message, so the list is held in memory per process and read
again after CACHE_SECONDS (a block made in another process counts within that time; one made here
counts at once).
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

from core import audit, clock
from core.errors import N_, Invalid, InvalidRequest, NotFound
from core.tables import Block, Identity, Ticket

if TYPE_CHECKING:
    from core.desk import Desk
    from core.types import InboundMessage

KINDS = ("sender", "domain", "phone")
CACHE_SECONDS = 5.0
_DOMAIN = re.compile(r"^(?=.{3,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")
_cache: tuple[float, frozenset[tuple[str, str]]] | None = None


def _refuse(template: str, **params: object) -> None:
    reason = Invalid(template, **params)
    raise InvalidRequest(str(reason)) from reason


def normalize(kind: str, value: str) -> str:
    """The stored form of a block, or InvalidRequest saying what is wrong with it."""
    value = (value or "").strip()
    if kind == "domain":
        value = value.lower().lstrip("@")
        if "@" in value:
            value = value.rsplit("@", 1)[1]
        if not _DOMAIN.match(value):
            _refuse(N_("{value} is not an e-mail domain such as example.com"), value=value[:80])
    elif kind == "phone":
        digits = re.sub(r"\D", "", value)
        if not 6 <= len(digits) <= 20:
            _refuse(N_("{value} is not a phone number"), value=value[:40])
        value = digits
    elif kind == "sender":
        channel, _, handle = value.partition(":")
        if not channel or not handle or len(value) > 255:
            _refuse(N_("a sender is written as <channel>:<handle>, e.g. email:someone@example.com"))
        value = f"{channel.strip().lower()}:{handle.strip().lower()}"
    else:
        _refuse(N_("a block is a sender, a domain or a phone number"))
    return value


async def _entries() -> frozenset[tuple[str, str]]:
    global _cache
    if _cache is None or _cache[0] < time.monotonic():
        rows = await Block.select(Block.kind, Block.value)
        _cache = (time.monotonic() + CACHE_SECONDS, frozenset((r["kind"], r["value"]) for r in rows))
    return _cache[1]


def _forget() -> None:
    global _cache
    _cache = None


async def is_blocked(channel_type: str, message: "InboundMessage") -> bool:
    entries = await _entries()
    if not entries:
        return False
    if ("sender", f"{channel_type.lower()}:{(message.sender_handle or '').strip().lower()}") in entries:
        return True
    email = (message.sender_email or "").strip().lower()
    if "@" in email and ("domain", email.rsplit("@", 1)[1]) in entries:
        return True
    phone = re.sub(r"\D", "", message.sender_phone or "")
    return bool(phone) and ("phone", phone) in entries


async def block(kind: str, value: str, *, actor: str) -> dict[str, Any]:
    value = normalize(kind, value)
    if not await Block.exists().where((Block.kind == kind) & (Block.value == value)):
        await Block.insert(Block(kind=kind, value=value, created_by=actor, created_at=clock.now()))
        await audit.record(actor, "block", "blocklist", 0, {"kind": kind, "value": value})
    _forget()
    return await Block.select().where((Block.kind == kind) & (Block.value == value)).first()


async def unblock(kind: str, value: str, *, actor: str) -> bool:
    value = normalize(kind, value)
    found = await Block.exists().where((Block.kind == kind) & (Block.value == value))
    if found:
        await Block.delete().where((Block.kind == kind) & (Block.value == value))
        await audit.record(actor, "unblock", "blocklist", 0, {"kind": kind, "value": value})
    _forget()
    return found


async def entries() -> list[dict[str, Any]]:
    return await Block.select().order_by(Block.kind, Block.value)


async def _senders(ticket: dict[str, Any]) -> list[str]:
    rows = await Identity.select(Identity.handle).where(
        (Identity.customer == ticket["customer"]) & (Identity.channel_type == ticket["channel_type"]))
    return [f"{ticket['channel_type']}:{r['handle']}" for r in rows if r["handle"]]


async def _ticket(ticket_id: int) -> dict[str, Any]:
    row = await Ticket.select(Ticket.id, Ticket.status, Ticket.customer, Ticket.channel_type).where(
        Ticket.id == ticket_id).first()
    if row is None:
        raise NotFound(f"ticket {ticket_id} does not exist")
    return row


async def mark_spam(desk: "Desk", ticket_id: int, *, actor: str, block_sender: bool = True) -> list[str]:
    """Move the ticket to Spam (no assignee, no SLA) and block its sender; returns what was blocked."""
    from core.events import Event, publish

    ticket = await _ticket(ticket_id)
    now = clock.now()
    await Ticket.update({
        Ticket.status: "spam", Ticket.assignee: None, Ticket.pooled_at: None, Ticket.pool_alert_due_at: None,
        Ticket.first_response_due_at: None, Ticket.next_response_due_at: None, Ticket.resolution_due_at: None,
        Ticket.sla_due_at: None, Ticket.updated_at: now,
    }).where(Ticket.id == ticket_id)
    blocked = []
    if block_sender:
        for sender in await _senders(ticket):
            await block("sender", sender, actor=actor)
            blocked.append(sender)
    await audit.record(actor, "spam", "ticket", ticket_id, {"blocked": blocked})
    await publish(desk, [Event("status_changed", ticket_id, actor=actor, data={"status": "spam"})])
    return blocked


async def not_spam(desk: "Desk", ticket_id: int, *, actor: str) -> list[str]:
    """Back to the open queue, its sender unblocked; returns what was unblocked."""
    from core.events import Event, publish

    ticket = await _ticket(ticket_id)
    if ticket["status"] != "spam":
        raise InvalidRequest(f"ticket {ticket_id} is not spam")
    await Ticket.update({Ticket.status: "open", Ticket.updated_at: clock.now()}).where(Ticket.id == ticket_id)
    unblocked = [s for s in await _senders(ticket) if await unblock("sender", s, actor=actor)]
    await audit.record(actor, "not_spam", "ticket", ticket_id, {"unblocked": unblocked})
    await publish(desk, [Event("status_changed", ticket_id, actor=actor, data={"status": "open"})])
    return unblocked
