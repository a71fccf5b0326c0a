"""Messages the desk starts itself: a rule that reacts to a commerce event (a delayed shipment, a
cancelled order, a refund) for a customer who may have no open ticket. The message goes out on the
channel the customer last wrote on, or one the rule names, through an open ticket of theirs on
that account or a new one opened in pending state, so any answer lands in context.

The reply goes through core.outbound.reply like any other: the channel's draft checks apply, the
outbox delivers it, the identity on that channel is the recipient. A new ticket carries the time of
the customer's last message on that account, so a channel's reply window (WhatsApp's 24 hours) is
judged as the platform judges it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core import clock
from core.errors import Conflict, NotFound
from core.tables import OPEN_STATUSES, Identity, Ticket

if TYPE_CHECKING:
    from core.desk import Desk


async def pick_account(desk: "Desk", customer_id: int, channel_type: str | None = None) -> tuple[int, str]:
    """(account id, channel type) to reach the customer: their most recent conversation on a
    configured account (of `channel_type` when given) where they have an identity."""
    handles = {r["channel_type"] for r in await Identity.select(Identity.channel_type).where(Identity.customer == customer_id)}
    query = Ticket.select(Ticket.account, Ticket.channel_type).where(
        (Ticket.customer == customer_id) & Ticket.account.is_not_null())
    if channel_type:
        query = query.where(Ticket.channel_type == channel_type)
    for row in await query.order_by(Ticket.last_message_at, ascending=False).limit(50):
        if row["channel_type"] in handles and desk.registry.account_by_id(row["account"]) is not None:
            return row["account"], row["channel_type"]
    raise NotFound(f"customer {customer_id} has no conversation on a configured "
                   f"{channel_type + ' ' if channel_type else ''}account to write to")


async def send(desk: "Desk", customer_id: int, text: str, *, subject: str, channel_type: str | None = None,
               template: dict[str, Any] | None = None) -> tuple[int, int]:
    """Message the customer; returns (ticket id, message id). Where the channel allows no free text
    now (WhatsApp's 24-hour window has closed), `template` ({"name", "language", "params"}) goes
    instead, filled and checked by core.reply_templates. Raises NotFound when there is no channel to
    reach them, Conflict when the channel is closed and there is no template, InvalidRequest when
    the template does not fit, DraftRejected when the channel's checks refuse the text. Nothing is
    stored before these checks pass."""
    from core import outbound, reply_templates
    from core.context import reply_constraints

    account_id, kind = await pick_account(desk, customer_id, channel_type)
    ticket = await Ticket.select().where(
        (Ticket.customer == customer_id) & (Ticket.account == account_id) & Ticket.status.is_in(list(OPEN_STATUSES))
    ).order_by(Ticket.id, ascending=False).first()
    if ticket is None:  # what the new ticket will be: the customer's last message on this account opens or closes the window
        ticket = {"id": None, "customer": customer_id, "account": account_id, "channel_type": kind,
                  "language": await _language(customer_id), "subject": subject[:500],
                  "last_customer_message_at": await _last_inbound(customer_id, account_id)}
    metadata = None
    limits = await reply_constraints(desk, dict(ticket))
    if limits.get("blocked_reason"):
        if not template:
            raise Conflict(f"{limits['blocked_reason']} (the rule names no template for this)")
        text, metadata = await reply_templates.compose(desk, dict(ticket), template["name"], template["language"],
                                                       template.get("params") or {})
    ticket_id = ticket["id"] or await _open(ticket)
    row = await outbound.reply(desk, ticket_id, author_id=None, text=text, status="pending", metadata=metadata)
    return ticket_id, row["id"]


async def _language(customer_id: int) -> str | None:
    row = await Ticket.select(Ticket.language).where(
        (Ticket.customer == customer_id) & Ticket.language.is_not_null()).order_by(Ticket.id, ascending=False).first()
    return (row or {}).get("language")


async def _last_inbound(customer_id: int, account_id: int) -> Any:
    row = await Ticket.select(Ticket.last_customer_message_at).where(
        (Ticket.customer == customer_id) & (Ticket.account == account_id) & Ticket.last_customer_message_at.is_not_null()
    ).order_by(Ticket.last_customer_message_at, ascending=False).first()
    return (row or {}).get("last_customer_message_at")


async def _open(ticket: dict[str, Any]) -> int:
    now = clock.now()
    rows = await Ticket.insert(Ticket(
        subject=ticket["subject"], status="pending", customer=ticket["customer"], account=ticket["account"],
        channel_type=ticket["channel_type"], language=ticket["language"], route_reason="opened by an automation rule",
        last_customer_message_at=ticket["last_customer_message_at"], created_at=now, updated_at=now,
        last_message_at=now)).returning(Ticket.id)
    return rows[0]["id"]
