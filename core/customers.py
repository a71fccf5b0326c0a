"""Customer resolution: channel handle -> identity -> customer.

Identities are linked to an existing customer only through a *verified* email or phone shared on
both sides; an unverified match would let anyone who types someone's address read their history.
"""

from __future__ import annotations

from core import clock
from core.tables import Customer, Identity
from core.types import InboundMessage


async def resolve(channel_type: str, message: InboundMessage) -> tuple[int, bool]:
    """Return (customer id, created). Must run inside the ingest transaction."""
    identity = await Identity.select(Identity.id, Identity.customer).where(
        (Identity.channel_type == channel_type) & (Identity.handle == message.sender_handle)
    ).first()
    if identity is not None:
        return await _follow_merges(identity["customer"]), False

    customer_id = await _verified_match(message)
    created = customer_id is None
    now = clock.now()
    if customer_id is None:
        rows = await Customer.insert(Customer(
            name=message.sender_name, email=_lower(message.sender_email), phone=message.sender_phone,
            created_at=now, updated_at=now,
        )).returning(Customer.id)
        customer_id = rows[0]["id"]
    await Identity.insert(Identity(
        customer=customer_id, channel_type=channel_type, handle=message.sender_handle,
        display_name=message.sender_name, email=_lower(message.sender_email), phone=message.sender_phone,
        email_verified=message.email_verified, phone_verified=message.phone_verified, created_at=now,
    ))
    return customer_id, created


async def _verified_match(message: InboundMessage) -> int | None:
    email = _lower(message.sender_email) if message.email_verified else None
    phone = message.sender_phone if message.phone_verified else None
    if email:
        row = await Identity.select(Identity.customer).where(
            (Identity.email == email) & (Identity.email_verified == True)  # noqa: E712
        ).first()
        if row:
            return await _follow_merges(row["customer"])
    if phone:
        row = await Identity.select(Identity.customer).where(
            (Identity.phone == phone) & (Identity.phone_verified == True)  # noqa: E712
        ).first()
        if row:
            return await _follow_merges(row["customer"])
    return None


async def _follow_merges(customer_id: int) -> int:
    seen = {customer_id}
    while True:
        row = await Customer.select(Customer.merged_into).where(Customer.id == customer_id).first()
        target = row and row["merged_into"]
        if not target or target in seen:
            return customer_id
        seen.add(target)
        customer_id = target


def _lower(value: str | None) -> str | None:
    return value.strip().lower() if value else None
