"""The order cache: store normalized orders, their fulfillments and refunds, and link each order to a
Relaydesk customer.

Linking feeds the core's identity resolution: the Shopify customer becomes an identity
(channel type "shopify", handle "<shop>#<customer id>") of a Relaydesk customer, with the email
marked verified when Shopify says the customer verified it. The core links later inbound messages
through verified emails and phones only, so a message from that address lands on the same customer,
next to its orders. An order is attached to an existing customer only through that identity or a
*verified* email/phone identity: an unverified address typed into a chat must not reveal anyone's
orders.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from core.plugin_api import clock
from core.plugin_api import Customer, Identity, Ticket, OPEN_STATUSES
from core.plugin_api import Account
from plugins.shopify.normalize import legacy, money
from plugins.shopify.tables import ShopifyFulfillment, ShopifyOrder, ShopifyTicketOrder

CHANNEL = "shopify"


def parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    # Stored in UTC: SQLite compares timestamps as text, so offsets must not differ between rows.
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


async def _follow_merges(customer_id: int) -> int:
    """A merged customer points at the one it was merged into; follow the chain to its end."""
    seen = {customer_id}
    while True:
        row = await Customer.select(Customer.merged_into).where(Customer.id == customer_id).first()
        target = row["merged_into"] if row else None
        if not target or target in seen:
            return customer_id
        seen.add(target)
        customer_id = target


def customer_handle(account: Account, shopify_customer_id: str) -> str:
    return f"{account.settings.shop}#{shopify_customer_id}"


async def link_customer(account: Account, customer: dict[str, Any] | None, *, email: str | None,
                        phone: str | None, trust_verified: bool) -> int | None:
    """The Relaydesk customer for a Shopify customer (created when none matches). Inside a transaction."""
    customer = customer or {}
    email = (customer.get("email") or email or None)
    phone = customer.get("phone") or phone or None
    shopify_id = customer.get("id") or None
    verified = bool(trust_verified and customer.get("verified_email") and email)
    handle = customer_handle(account, shopify_id) if shopify_id else None
    if handle:
        row = await Identity.select(Identity.id, Identity.customer, Identity.email, Identity.email_verified).where(
            (Identity.channel_type == CHANNEL) & (Identity.handle == handle)).first()
        if row:
            changes: dict[Any, Any] = {}
            if email and row["email"] != email:
                changes[Identity.email] = email
                changes[Identity.email_verified] = verified
            elif verified and not row["email_verified"]:
                changes[Identity.email_verified] = True
            if phone:
                changes[Identity.phone] = phone
            if customer.get("name"):
                changes[Identity.display_name] = customer["name"]
            if changes:
                await Identity.update(changes).where(Identity.id == row["id"])
            return await _follow_merges(row["customer"])
    customer_id = await _verified_match(email, phone)
    if customer_id is None and not (email or phone or handle):
        return None
    now = clock.now()
    if customer_id is None:
        rows = await Customer.insert(Customer(name=customer.get("name"), email=email, phone=phone,
                                              created_at=now, updated_at=now)).returning(Customer.id)
        customer_id = rows[0]["id"]
    if handle:
        await Identity.insert(Identity(
            customer=customer_id, channel_type=CHANNEL, handle=handle, display_name=customer.get("name"),
            email=email, phone=phone, email_verified=verified, phone_verified=False, created_at=now,
        ))
    return customer_id


async def _verified_match(email: str | None, phone: str | None) -> int | None:
    if email:
        row = await Identity.select(Identity.customer).where(
            (Identity.email == email) & (Identity.email_verified == True)).first()  # noqa: E712
        if row:
            return await _follow_merges(row["customer"])
    if phone:
        row = await Identity.select(Identity.customer).where(
            (Identity.phone == phone) & (Identity.phone_verified == True)).first()  # noqa: E712
        if row:
            return await _follow_merges(row["customer"])
    return None


async def upsert_order(account: Account, order: dict[str, Any], *, trust_verified: bool,
                       force: bool = False) -> tuple[int, list[dict[str, Any]]]:
    """Store one normalized order; returns (row id, changes) where changes lists fulfillment events
    ({"kind": "created"|"updated", "fulfillment": {...}}). An older copy than the cached one (webhooks
    arrive out of order) is ignored unless `force`. Runs inside the caller's transaction."""
    order_id = legacy(order.get("legacy_id") or order.get("id"))
    updated = parse_time(order.get("updated_at"))
    existing = await ShopifyOrder.select(ShopifyOrder.id, ShopifyOrder.shopify_updated_at, ShopifyOrder.data,
                                         ShopifyOrder.customer).where(
        (ShopifyOrder.account == account.id) & (ShopifyOrder.order_id == order_id)).output(load_json=True).first()
    if existing and not force and existing["shopify_updated_at"] and updated and updated < existing["shopify_updated_at"]:
        return existing["id"], []
    if existing:
        # Fulfillments and refunds may have arrived by their own webhooks: keep the ones the order lacks.
        order = _merge_children(existing["data"] or {}, order)
    customer_id = await link_customer(account, order.get("customer"), email=order.get("email"),
                                      phone=order.get("phone"), trust_verified=trust_verified)
    values = {
        ShopifyOrder.name: order.get("name") or "", ShopifyOrder.email: order.get("email"),
        ShopifyOrder.phone: order.get("phone"),
        ShopifyOrder.shopify_customer_id: (order.get("customer") or {}).get("id"),
        ShopifyOrder.customer: customer_id,
        ShopifyOrder.financial_status: order.get("financial_status"),
        ShopifyOrder.fulfillment_status: "cancelled" if order.get("cancelled_at") else order.get("fulfillment_status"),
        ShopifyOrder.total: Decimal(money(order.get("total"))), ShopifyOrder.currency: order.get("currency") or "",
        ShopifyOrder.data: order, ShopifyOrder.placed_at: parse_time(order.get("created_at")),
        ShopifyOrder.shopify_updated_at: updated, ShopifyOrder.cached_at: clock.now(),
    }
    if existing:
        await ShopifyOrder.update(values).where(ShopifyOrder.id == existing["id"])
        row_id = existing["id"]
    else:
        rows = await ShopifyOrder.insert(ShopifyOrder(account=account.id, order_id=order_id, **{
            column._meta.name: value for column, value in values.items()})).returning(ShopifyOrder.id)
        row_id = rows[0]["id"]
        # Tickets that mentioned this order before it was cached now point at it.
        if order.get("name"):
            await ShopifyTicketOrder.update({ShopifyTicketOrder.order_row: row_id}).where(
                (ShopifyTicketOrder.order_name == order["name"]) & ShopifyTicketOrder.order_row.is_null())
    changes = await _sync_fulfillments(row_id, order.get("fulfillments") or [])
    return row_id, changes


def _merge_children(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    merged = dict(new)
    for key in ("fulfillments", "refunds"):
        have = {item.get("id") for item in new.get(key) or []}
        merged[key] = list(new.get(key) or []) + [item for item in old.get(key) or [] if item.get("id") not in have]
    return merged


async def _sync_fulfillments(order_row: int, fulfillments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = []
    for f in fulfillments:
        if not f.get("id"):
            continue
        updated = parse_time(f.get("updated_at")) or parse_time(f.get("created_at"))
        delivered = (f.get("shipment_status") or "") == "delivered"
        row = await ShopifyFulfillment.select().where(
            (ShopifyFulfillment.order_row == order_row) & (ShopifyFulfillment.fulfillment_id == f["id"])).first()
        values = {ShopifyFulfillment.status: f.get("status") or "", ShopifyFulfillment.shipment_status: f.get("shipment_status"),
                  ShopifyFulfillment.delivered: delivered, ShopifyFulfillment.created_at: parse_time(f.get("created_at"))}
        if row is None:
            await ShopifyFulfillment.insert(ShopifyFulfillment(
                order_row=order_row, fulfillment_id=f["id"], tracking_updated_at=updated,
                **{c._meta.name: v for c, v in values.items()}))
            changes.append({"kind": "created", "fulfillment": f})
            continue
        if updated and (row["tracking_updated_at"] is None or updated > row["tracking_updated_at"]):
            values[ShopifyFulfillment.tracking_updated_at] = updated
            values[ShopifyFulfillment.stale_notified_at] = None  # news arrived: the sweep may warn again later
        if (row["shipment_status"] != f.get("shipment_status")) or (row["status"] != (f.get("status") or "")):
            changes.append({"kind": "updated", "fulfillment": f})
        await ShopifyFulfillment.update(values).where(ShopifyFulfillment.id == row["id"])
    return changes


async def add_fulfillment(account: Account, fulfillment: dict[str, Any], order_id: str,
                          trust_verified: bool) -> tuple[int, list[dict[str, Any]]]:
    """A fulfillments/* webhook: merge it into the cached order (a stub when the order is not cached)."""
    row = await ShopifyOrder.select(ShopifyOrder.id, ShopifyOrder.data).where(
        (ShopifyOrder.account == account.id) & (ShopifyOrder.order_id == order_id)).output(load_json=True).first()
    data = dict(row["data"]) if row else {"legacy_id": order_id, "id": f"gid://shopify/Order/{order_id}", "name": ""}
    others = [f for f in data.get("fulfillments") or [] if f.get("id") != fulfillment["id"]]
    data["fulfillments"] = others + [fulfillment]
    if _fulfilled_all(data):
        data["fulfillment_status"] = "fulfilled"
    return await upsert_order(account, data, trust_verified=trust_verified, force=True)


def _fulfilled_all(data: dict[str, Any]) -> bool:
    return bool(data.get("fulfillments")) and all(f.get("status") == "success" for f in data["fulfillments"]) \
        and data.get("fulfillment_status") in (None, "fulfilled")


async def add_refund(account: Account, refund: dict[str, Any], order_id: str, trust_verified: bool) -> int:
    row = await ShopifyOrder.select(ShopifyOrder.id, ShopifyOrder.data).where(
        (ShopifyOrder.account == account.id) & (ShopifyOrder.order_id == order_id)).output(load_json=True).first()
    data = dict(row["data"]) if row else {"legacy_id": order_id, "id": f"gid://shopify/Order/{order_id}", "name": ""}
    refunds = [r for r in data.get("refunds") or [] if r.get("id") != refund["id"]] + [refund]
    data["refunds"] = refunds
    data["total_refunded"] = money(sum((Decimal(r.get("amount") or "0") for r in refunds), Decimal("0")))
    row_id, _ = await upsert_order(account, data, trust_verified=trust_verified, force=True)
    return row_id


async def relink_customer_orders(account: Account, shopify_customer: dict[str, Any], trust_verified: bool) -> int | None:
    """A customers/* webhook: update the identity and point that customer's cached orders at it."""
    customer_id = await link_customer(account, shopify_customer, email=shopify_customer.get("email"),
                                      phone=shopify_customer.get("phone"), trust_verified=trust_verified)
    if customer_id and shopify_customer.get("id"):
        await ShopifyOrder.update({ShopifyOrder.customer: customer_id}).where(
            (ShopifyOrder.account == account.id) & (ShopifyOrder.shopify_customer_id == shopify_customer["id"]))
    return customer_id


async def ticket_for_order(order_row: int, customer_id: int | None) -> int | None:
    """The ticket an order event belongs to: one that mentions the order, else the customer's open one."""
    link = await ShopifyTicketOrder.select(ShopifyTicketOrder.ticket).where(
        ShopifyTicketOrder.order_row == order_row).order_by(ShopifyTicketOrder.id, ascending=False).first()
    if link:
        return link["ticket"]
    if customer_id:
        row = await Ticket.select(Ticket.id).where(
            (Ticket.customer == customer_id) & Ticket.status.is_in(list(OPEN_STATUSES))
        ).order_by(Ticket.id, ascending=False).first()
        if row:
            return row["id"]
    return None
