"""The periodic sweep for fulfillments whose tracking has not moved for N days."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.plugin_api import clock
from core.plugin_api import Event, publish
from plugins.shopify import cache, state
from plugins.shopify.tables import ShopifyFulfillment, ShopifyOrder

SWEEP_EVERY_SECONDS = 900.0
BATCH = 500


async def no_tracking_sweep(ctx: dict[str, Any]) -> int:
    """Publish shopify.no_tracking_update once per stale fulfillment; returns how many. Safe to run
    on several workers at once: each fulfillment is claimed by a conditional update."""
    desk = ctx["desk"]
    settings = desk.registry.plugin_settings.get("shopify") or state.settings()
    now = clock.now()
    cutoff = now - timedelta(days=settings.no_tracking_update_days)
    rows = await ShopifyFulfillment.select(
        ShopifyFulfillment.id, ShopifyFulfillment.fulfillment_id, ShopifyFulfillment.order_row,
        ShopifyFulfillment.tracking_updated_at, ShopifyFulfillment.status, ShopifyFulfillment.shipment_status,
    ).where(
        (ShopifyFulfillment.tracking_updated_at < cutoff) & ShopifyFulfillment.stale_notified_at.is_null()
        & (ShopifyFulfillment.delivered == False)  # noqa: E712
        & ShopifyFulfillment.status.not_in(["cancelled", "failure", "error"])
    ).limit(BATCH)
    events: list[Event] = []
    for row in rows:
        claimed = await ShopifyFulfillment.update({ShopifyFulfillment.stale_notified_at: now}).where(
            (ShopifyFulfillment.id == row["id"]) & ShopifyFulfillment.stale_notified_at.is_null()
        ).returning(ShopifyFulfillment.id)
        if not claimed:
            continue
        order = await ShopifyOrder.select(ShopifyOrder.id, ShopifyOrder.account, ShopifyOrder.order_id,
                                          ShopifyOrder.name, ShopifyOrder.customer, ShopifyOrder.data).where(
            ShopifyOrder.id == row["order_row"]).output(load_json=True).first()
        if order is None:
            continue
        account = desk.registry.account_by_id(order["account"])
        fulfillment = next((f for f in (order["data"] or {}).get("fulfillments") or []
                            if f.get("id") == row["fulfillment_id"]), {})
        tracking = fulfillment.get("tracking") or []
        events.append(Event(
            name="shopify.no_tracking_update", ticket_id=await cache.ticket_for_order(order["id"], order["customer"]),
            actor="shopify:sweep",
            data={"account": account.name if account else None, "order_row": order["id"], "order_id": order["order_id"],
                  "order_name": order["name"], "customer_id": order["customer"], "fulfillment_id": row["fulfillment_id"],
                  "days": (now - row["tracking_updated_at"]).days, "status": row["status"],
                  "shipment_status": row["shipment_status"],
                  "tracking_url": next((t["url"] for t in tracking if t.get("url")), None)},
        ))
    await publish(desk, events)
    return len(events)
