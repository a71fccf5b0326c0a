"""Customer resolution: channel handle -> identity -> customer.

Identities are linked to an existing customer only through a *verified* email or phone shared on
both sides; an unverified match would let anyone who types someone's address read their history.
Runs on the ingest transaction's connection (core.sql.Conn).
"""

from __future__ import annotations

from datetime import datetime

from core.sql import Conn
from core.types import InboundMessage


async def resolve(conn: Conn, channel_type: str, message: InboundMessage, now: datetime,
                  customer: int | None, merged_into: int | None) -> tuple[int, bool]:
    """Return (customer id, created) for the sender of `message`.

    The caller has already looked the sender's identity up (ingest folds that lookup into its first
    statement, see core.inbound.PROBE_SQL): `customer` and `merged_into` are that identity's
    customer and the customer's merge target, `customer` None when the handle is new."""
    if customer is not None:
        return (await follow_merges(conn, merged_into) if merged_into else customer), False

    email = _lower(message.sender_email)
    customer_id = await _verified_match(conn, email if message.email_verified else None,
                                        message.sender_phone if message.phone_verified else None)
    identity = (channel_type, message.sender_handle, message.sender_name, email, message.sender_phone,
                message.email_verified, message.phone_verified, now)
    if customer_id is not None:  # a verified match: the new identity joins that customer
        await conn.execute(_identity_insert("$1", 2), customer_id, *identity)
        return customer_id, False
    customer = (message.sender_name, email, message.sender_phone, now, now)
    if conn.postgres:  # the customer and its identity in one round trip (a data-modifying WITH)
        customer_id = await conn.fetchval(
            f"WITH c AS ({_CUSTOMER_INSERT}) " + _identity_insert("(SELECT id FROM c)", 6)
            + " RETURNING customer", *customer, *identity)
    else:
        customer_id = await conn.fetchval(_CUSTOMER_INSERT, *customer)
        await conn.execute(_identity_insert("$1", 2), customer_id, *identity)
    return customer_id, True


_CUSTOMER_INSERT = ("INSERT INTO customers (name, email, phone, tags, notes, merged_into, created_at, updated_at) "
                    "VALUES ($1, $2, $3, '[]', '', NULL, $4, $5) RETURNING id")
_IDENTITY_COLUMNS = ("customer_identities (customer, channel_type, handle, display_name, email, phone, email_verified, "
                     "phone_verified, created_at)")


def _identity_insert(customer: str, first: int) -> str:
    """INSERT of one identity: its customer as an SQL expression, its other values from $first on."""
    marks = ", ".join(f"${i}" for i in range(first, first + 8))
    return f"INSERT INTO {_IDENTITY_COLUMNS} VALUES ({customer}, {marks})"


async def _verified_match(conn: Conn, email: str | None, phone: str | None) -> int | None:
    if email:
        row = await conn.fetchrow("SELECT customer FROM customer_identities WHERE email = $1 AND email_verified = TRUE "
                                  "ORDER BY id LIMIT 1", email)
        if row:
            return await follow_merges(conn, row["customer"])
    if phone:
        row = await conn.fetchrow("SELECT customer FROM customer_identities WHERE phone = $1 AND phone_verified = TRUE "
                                  "ORDER BY id LIMIT 1", phone)
        if row:
            return await follow_merges(conn, row["customer"])
    return None


async def follow_merges(conn: Conn, customer_id: int) -> int:
    """A merged customer points at the one it was merged into; follow the chain to its end."""
    seen = {customer_id}
    while True:
        target = await conn.fetchval("SELECT merged_into FROM customers WHERE id = $1", customer_id)
        if not target or target in seen:
            return customer_id
        seen.add(target)
        customer_id = target


def _lower(value: str | None) -> str | None:
    return value.strip().lower() if value else None
