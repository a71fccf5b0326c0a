"""Orders from the Orders API (v0) into the order cache, and the poll job that keeps it fresh.

The cache keeps one normalized shape, which the context, the panel, templates and rules read:

    {"order_id": "302-1234567-1234567", "marketplace_id", "marketplace": "amazon.de", "status",
     "purchased_at", "updated_at", "total": "25.00", "currency", "fulfillment_channel": "MFN"|"AFN",
     "is_prime", "latest_ship_date", "latest_delivery_date", "buyer_email", "buyer_name",
     "ship_to": {"city", "country"},
     "items": [{"asin", "sku", "title", "quantity", "price"}]}

An order is attached to a Relaydesk customer through its buyer's anonymised address (BuyerInfo,
read with a restricted data token): it is the address relay mail from that buyer comes from, so the
customer holding that email identity is the buyer. Nothing else links an order to a customer.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from core.plugin_api import clock, db
from core.plugin_api import Identity
from core.plugin_api import Account
from plugins.amazon.client import SpApiClient, SpApiError
from plugins.amazon.tables import AmazonOrder, AmazonPollState, AmazonTicketOrder

log = logging.getLogger("relaydesk.amazon.orders")

POLL_TICK_SECONDS = 60.0  # how often the job looks whether an account is due


def parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def money(value: Any) -> str:
    try:
        return str(Decimal(str(value)).quantize(Decimal("0.01")))
    except (InvalidOperation, ValueError):
        return "0.00"


def normalize(order: dict[str, Any], items: list[dict[str, Any]] | None, account: Account) -> dict[str, Any]:
    total = order.get("OrderTotal") or {}
    buyer = order.get("BuyerInfo") or {}
    address = order.get("ShippingAddress") or {}
    marketplace_id = order.get("MarketplaceId") or ""
    return {
        "order_id": order["AmazonOrderId"], "marketplace_id": marketplace_id,
        "marketplace": account.settings.marketplace_domain(marketplace_id),
        "status": order.get("OrderStatus") or "", "purchased_at": order.get("PurchaseDate"),
        "updated_at": order.get("LastUpdateDate"), "total": money(total.get("Amount")),
        "currency": total.get("CurrencyCode") or "", "fulfillment_channel": order.get("FulfillmentChannel"),
        "is_prime": bool(order.get("IsPrime")), "latest_ship_date": order.get("LatestShipDate"),
        "latest_delivery_date": order.get("LatestDeliveryDate"),
        "buyer_email": (buyer.get("BuyerEmail") or "").strip().lower() or None,
        "buyer_name": buyer.get("BuyerName") or None,
        "ship_to": {"city": address.get("City"), "country": address.get("CountryCode")} if address else None,
        "items": [{"asin": i.get("ASIN"), "sku": i.get("SellerSKU"), "title": i.get("Title") or "",
                   "quantity": int(i.get("QuantityOrdered") or 0),
                   "price": money((i.get("ItemPrice") or {}).get("Amount"))} for i in items or []],
    }


async def customer_for_buyer(buyer_email: str | None) -> int | None:
    if not buyer_email:
        return None
    row = await Identity.select(Identity.customer).where(Identity.handle == buyer_email).first()
    return row["customer"] if row else None


async def upsert(account: Account, order: dict[str, Any]) -> int:
    """Store one normalized order (inside the caller's transaction); returns its row id. An older
    copy than the cached one is ignored; items already cached survive a copy without them."""
    updated = parse_time(order.get("updated_at"))
    existing = await AmazonOrder.select(AmazonOrder.id, AmazonOrder.amazon_updated_at, AmazonOrder.data).where(
        (AmazonOrder.account == account.id) & (AmazonOrder.order_id == order["order_id"])).output(load_json=True).first()
    if existing and existing["amazon_updated_at"] and updated and updated < existing["amazon_updated_at"]:
        return existing["id"]
    if existing and not order.get("items"):
        order = {**order, "items": (existing["data"] or {}).get("items") or []}
    values = {
        AmazonOrder.marketplace_id: order.get("marketplace_id") or "", AmazonOrder.status: order.get("status") or "",
        AmazonOrder.buyer_email: order.get("buyer_email"),
        AmazonOrder.customer: await customer_for_buyer(order.get("buyer_email")),
        AmazonOrder.total: Decimal(order.get("total") or "0"), AmazonOrder.currency: order.get("currency") or "",
        AmazonOrder.data: order, AmazonOrder.purchased_at: parse_time(order.get("purchased_at")),
        AmazonOrder.amazon_updated_at: updated, AmazonOrder.cached_at: clock.now(),
    }
    if existing:
        await AmazonOrder.update(values).where(AmazonOrder.id == existing["id"])
        row_id = existing["id"]
    else:
        rows = await AmazonOrder.insert(AmazonOrder(account=account.id, order_id=order["order_id"], **{
            c._meta.name: v for c, v in values.items()})).returning(AmazonOrder.id)
        row_id = rows[0]["id"]
    # Tickets that named this order before it was cached now point at it.
    await AmazonTicketOrder.update({AmazonTicketOrder.order_row: row_id}).where(
        (AmazonTicketOrder.order_id == order["order_id"]) & AmazonTicketOrder.order_row.is_null())
    return row_id


async def poll_account(account: Account, client: SpApiClient, *, now: datetime | None = None) -> int:
    """Fetch every order updated since the account's cursor into the cache; returns how many.
    Each page commits on its own (upserts, so a rerun is harmless); the cursor moves only after the
    last page, to the newest LastUpdateDate seen."""
    now = now or clock.now()
    state = await AmazonPollState.select().where(AmazonPollState.account == account.id).first()
    since = state["last_updated_after"] if state else iso(now - timedelta(days=account.settings.initial_days))
    marketplace_ids = [m.marketplace_id for m in account.settings.marketplaces.values()]
    buyer_info = account.settings.buyer_info
    newest = parse_time(since)
    stored = 0
    next_token = None
    while True:
        try:
            payload = await client.get_orders(marketplace_ids, since, next_token=next_token, buyer_info=buyer_info)
        except SpApiError as exc:
            if buyer_info and exc.status == 403 and not next_token:
                # The app lacks the roles for buyer details: carry on without them.
                log.warning("%s: no restricted data token (%s); polling orders without buyer details", account.name, exc.message)
                buyer_info = False
                continue
            await _note(account, since, exc.message)
            raise
        orders = payload.get("Orders") or []
        normalized = []
        for order in orders:
            items = None
            if await _changed(account, order):
                try:
                    items = await client.get_order_items(order["AmazonOrderId"])
                except SpApiError as exc:
                    log.warning("%s: items of %s not fetched: %s", account.name, order["AmazonOrderId"], exc.message)
            normalized.append(normalize(order, items, account))
        async with db.transaction():
            for order in normalized:
                await upsert(account, order)
        stored += len(normalized)
        for order in normalized:
            updated = parse_time(order.get("updated_at"))
            if updated and (newest is None or updated > newest):
                newest = updated
        next_token = payload.get("NextToken")
        if not next_token:
            break
    await _note(account, iso(newest) if newest else since, None)
    return stored


async def _changed(account: Account, order: dict[str, Any]) -> bool:
    row = await AmazonOrder.select(AmazonOrder.amazon_updated_at).where(
        (AmazonOrder.account == account.id) & (AmazonOrder.order_id == order["AmazonOrderId"])).first()
    if row is None or row["amazon_updated_at"] is None:
        return True
    updated = parse_time(order.get("LastUpdateDate"))
    return bool(updated and updated > row["amazon_updated_at"])


async def _note(account: Account, cursor: str, error: str | None) -> None:
    values = {AmazonPollState.last_updated_after: cursor, AmazonPollState.polled_at: clock.now(),
              AmazonPollState.last_error: error}
    if await AmazonPollState.exists().where(AmazonPollState.account == account.id):
        await AmazonPollState.update(values).where(AmazonPollState.account == account.id)
    else:
        await AmazonPollState.insert(AmazonPollState(account=account.id, **{c._meta.name: v for c, v in values.items()}))


async def poll_job(ctx: dict[str, Any]) -> int:
    """The periodic job: poll every account whose interval has passed. Idempotent (upserts)."""
    from plugins.amazon import state

    desk = ctx["desk"]
    total = 0
    for account in [a for a in desk.registry.accounts.values() if a.plugin == "amazon"]:
        if not account.settings.poll_orders:
            continue
        row = await AmazonPollState.select(AmazonPollState.polled_at).where(AmazonPollState.account == account.id).first()
        if row and row["polled_at"] and (clock.now() - row["polled_at"]).total_seconds() < account.settings.poll_interval_seconds:
            continue
        try:
            total += await poll_account(account, state.client_for(account))
        except SpApiError as exc:
            log.warning("%s: orders poll failed: %s", account.name, exc.message)
    return total
