"""Messages the desk starts itself: a rule that reacts to a commerce event (a delayed shipment, a
cancelled order, a refund) for a customer who may have no open ticket. The message goes out on the
channel the customer last wrote on, or one the rule names, through an open ticket of theirs on
that account or a new one opened in pending state, so any answer lands in context.

The reply goes through core.outbound.reply like any other: the channel's draft checks apply, the
outbox delivers it, the identity on that channel is the recipient."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core import clock
from core.errors import NotFound
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


async def ticket_for(desk: "Desk", customer_id: int, *, subject: str, channel_type: str | None = None) -> int:
    """The customer's open ticket on the chosen account, else a new one in pending state."""
    account_id, kind = await pick_account(desk, customer_id, channel_type)
    found = await Ticket.select(Ticket.id).where(
        (Ticket.customer == customer_id) & (Ticket.account == account_id) & Ticket.status.is_in(list(OPEN_STATUSES))
    ).order_by(Ticket.id, ascending=False).first()
    if found:
        return found["id"]
    language = await Ticket.select(Ticket.language).where(
        (Ticket.customer == customer_id) & Ticket.language.is_not_null()).order_by(Ticket.id, ascending=False).first()
    now = clock.now()
    rows = await Ticket.insert(Ticket(
        subject=subject[:500], status="pending", customer=customer_id, account=account_id, channel_type=kind,
        language=(language or {}).get("language"), route_reason="opened by an automation rule",
        created_at=now, updated_at=now, last_message_at=now)).returning(Ticket.id)
    return rows[0]["id"]


async def send(desk: "Desk", customer_id: int, text: str, *, subject: str, channel_type: str | None = None,
               metadata: dict[str, Any] | None = None) -> tuple[int, int]:
    """Message the customer; returns (ticket id, message id). Raises NotFound when there is no
    channel to reach them, DraftRejected when the channel's checks refuse the text."""
    ticket_id = await ticket_for(desk, customer_id, subject=subject, channel_type=channel_type)
    from core import outbound

    row = await outbound.reply(desk, ticket_id, author_id=None, text=text, status="pending", metadata=metadata)
    return ticket_id, row["id"]
