"""Shipping facts of the order a "where is my order" message is about, read from the orders that
commerce plugins return from customer_context (docs/plugins/assist.md, "Order facts").

Only what the order states is used, and only when it is unambiguous which order the customer means:
an order of this customer that the conversation names, or their one order in flight. A delivered
parcel the customer still asks about, a failed or attempted delivery, a cancelled or refunded order,
an unknown carrier status: all need a person, so there are no facts and nothing is said."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

CLOSED_ORDER = ("cancelled", "refunded", "voided", "delivered")
DEAD_FULFILLMENT = ("cancelled", "error", "failure")
# carrier statuses (Shopify's ShipmentStatus, lower-cased) -> the phrase that says it; others: a person
STATUS_PHRASE = {
    None: "shipped", "": "shipped", "fulfilled": "shipped", "success": "shipped",
    "label_printed": "label", "label_purchased": "label", "confirmed": "label",
    "in_transit": "in_transit", "out_for_delivery": "out_for_delivery", "ready_for_pickup": "ready_for_pickup",
}


@dataclass(frozen=True, slots=True)
class Parcel:
    carrier: str | None
    number: str
    url: str | None


@dataclass(frozen=True, slots=True)
class ShippingFacts:
    order: str
    source: str
    status: str  # a key of phrases.PHRASES: shipped, label, in_transit, out_for_delivery, ready_for_pickup
    shipped_on: date | None
    eta: date | None
    parcels: list[Parcel] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["shipped_on"] = self.shipped_on.isoformat() if self.shipped_on else None
        data["eta"] = self.eta.isoformat() if self.eta else None
        return data


def _day(value: Any) -> date | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).date()
    except ValueError:
        return None


def _named_in(order: dict[str, Any], text: str) -> bool:
    """Does the message name the order ("#1002", "1002", "302-1234567-7654321")? Digits must stand
    alone, so "#1002" is not found in "21002"."""
    for value in {str(order.get("name") or ""), str(order.get("order_id") or "")}:
        bare = value.lstrip("#")
        if len(bare) >= 4 and re.search(rf"(?<![\w-]){re.escape(bare)}(?![\w-])", text):
            return True
    return False


def pick_order(orders: list[dict[str, Any]], text: str = "") -> dict[str, Any] | None:
    """The one order the customer means, or None when that is not certain: an order of theirs the
    conversation is linked to or the message names, else their only order, else their only one in flight."""
    own = [o for o in orders or [] if o.get("customer_match")]
    named = [o for o in own if o.get("mentioned") or (text and _named_in(o, text))]
    if named:
        return named[0] if len(named) == 1 else None
    if len(own) == 1:
        return own[0]
    in_flight = [o for o in own if o.get("status") not in CLOSED_ORDER]
    return in_flight[0] if len(in_flight) == 1 else None


def shipping_facts(orders: list[dict[str, Any]], today: date, text: str = "") -> ShippingFacts | None:
    order = pick_order(orders, text)
    if order is None or order.get("status") in CLOSED_ORDER:
        return None
    live = [f for f in order.get("fulfillments") or [] if (f.get("status") or "").lower() not in DEAD_FULFILLMENT]
    parcels_of = [(f, [t for t in f.get("tracking") or [] if str(t.get("number") or "").strip()]) for f in live]
    tracked = [(f, ts) for f, ts in parcels_of if ts]
    if not tracked:
        return None
    phrases = [STATUS_PHRASE.get((f.get("shipment_status") or "").lower() or None) for f, _ in tracked]
    if None in phrases:  # delivered, failed, attempted or a status we cannot word: a person answers
        return None
    latest, _ = max(tracked, key=lambda pair: pair[0].get("created_at") or "")
    status = STATUS_PHRASE[(latest.get("shipment_status") or "").lower() or None]
    eta = _day(latest.get("estimated_delivery_at"))
    parcels = [Parcel((t.get("company") or "").strip() or None, str(t["number"]).strip(), t.get("url") or None)
               for _, ts in tracked for t in ts]
    return ShippingFacts(order=str(order.get("name") or order.get("order_id") or ""), source=str(order.get("source") or ""),
                         status=status, shipped_on=_day(latest.get("created_at")),
                         eta=eta if eta and eta >= today else None, parcels=parcels)
