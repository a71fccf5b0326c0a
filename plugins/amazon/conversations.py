"""Amazon conversations and the orders they name, recorded after ingest (ticket_event).

adapt_inbound runs inside the ingest transaction and does no I/O; it leaves what it found in the
message's ``metadata["conversation"]``. Here, once that has committed, the ticket is recorded as an
Amazon conversation (marketplace, buyer relay address, order, product) and linked to the order,
and cached orders of that buyer are attached to the customer.
"""

from __future__ import annotations

import json
from typing import Any

from core.plugin_api import clock, db
from core.plugin_api import Message
from plugins.amazon.relay import KIND
from plugins.amazon.tables import AmazonConversation, AmazonOrder, AmazonTicketOrder


def _loads(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value or "{}")
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


async def conversation_of(ticket_id: int) -> dict[str, Any] | None:
    return await AmazonConversation.select().where(AmazonConversation.ticket == ticket_id).first()


async def record(ticket_id: int, message_id: int) -> dict[str, Any] | None:
    """Record the conversation and link its order; returns the conversation row (None: not Amazon)."""
    message = await Message.select(Message.metadata, Message.customer).where(Message.id == message_id).first()
    if message is None:
        return None
    meta = _loads(message["metadata"])
    conversation = meta.get("conversation") or {}
    if conversation.get("kind") != KIND:
        return None
    seller = next((a for a in meta.get("to") or [] if isinstance(a, str) and "@" in a), None)
    order_id = conversation.get("order_id")
    async with db.transaction():
        row = await AmazonConversation.select().where(AmazonConversation.ticket == ticket_id).first()
        if row is None:
            await AmazonConversation.insert(AmazonConversation(
                ticket=ticket_id, marketplace=conversation.get("marketplace") or "",
                buyer_address=conversation.get("buyer_address") or "", seller_address=seller,
                order_id=order_id, asin=conversation.get("asin"), product=conversation.get("product") or "",
                created_at=clock.now()))
        elif order_id and not row["order_id"]:
            await AmazonConversation.update({AmazonConversation.order_id: order_id}).where(
                AmazonConversation.ticket == ticket_id)
        for oid in [o for o in [order_id, *(meta.get("order_ids") or [])] if o]:
            await _link(ticket_id, str(oid), message_id)
        if message["customer"] and conversation.get("buyer_address"):
            # Orders of this buyer cached before the buyer wrote now belong to the customer.
            await AmazonOrder.update({AmazonOrder.customer: message["customer"]}).where(
                (AmazonOrder.buyer_email == conversation["buyer_address"]) & AmazonOrder.customer.is_null())
    return await conversation_of(ticket_id)


async def _link(ticket_id: int, order_id: str, message_id: int) -> None:
    if await AmazonTicketOrder.exists().where((AmazonTicketOrder.ticket == ticket_id) & (AmazonTicketOrder.order_id == order_id)):
        return
    cached = await AmazonOrder.select(AmazonOrder.id).where(AmazonOrder.order_id == order_id).first()
    await AmazonTicketOrder.insert(AmazonTicketOrder(
        ticket=ticket_id, order_id=order_id, order_row=cached["id"] if cached else None, message=message_id,
        created_at=clock.now()))
