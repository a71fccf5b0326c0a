"""One shape for an order, whether it came from a webhook (REST JSON) or the GraphQL API.

The cache, the ticket panel, templates and rules read only this shape:

    {"id": "gid://shopify/Order/1", "legacy_id": "1", "name": "#1001", "email", "phone",
     "created_at", "updated_at", "cancelled_at", "cancel_reason", "closed_at",
     "financial_status": "paid", "fulfillment_status": "fulfilled"|"unfulfilled"|"partial"|...,
     "currency", "total": "12.00", "subtotal", "total_refunded", "payment_gateways": [...],
     "note", "tags": [...], "status_url",
     "customer": {"id", "email", "phone", "name", "verified_email"},
     "line_items": [{"id", "title", "variant_title", "sku", "quantity", "price"}],
     "fulfillments": [{"id", "status", "shipment_status", "created_at", "updated_at",
                       "estimated_delivery_at", "tracking": [{"company", "number", "url"}]}],
     "refunds": [{"id", "created_at", "note", "amount"}]}
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any


def gid(kind: str, legacy_id: Any) -> str:
    return f"gid://shopify/{kind}/{legacy_id}"


def legacy(value: Any) -> str:
    """The numeric id from a gid or a number."""
    text = str(value or "")
    return text.rsplit("/", 1)[-1]


def money(value: Any) -> str:
    try:
        return str(Decimal(str(value)).quantize(Decimal("0.01")))
    except (InvalidOperation, ValueError):
        return "0.00"


def _lower(value: Any) -> str | None:
    return str(value).strip().lower() if value else None


def _name(first: Any, last: Any) -> str | None:
    name = " ".join(p for p in (first, last) if p)
    return name or None


# --- REST (webhook payloads) ------------------------------------------------------------------


def rest_customer(c: dict[str, Any] | None) -> dict[str, Any] | None:
    if not c:
        return None
    phone = c.get("phone") or (c.get("default_address") or {}).get("phone")
    return {"id": legacy(c.get("id")), "email": _lower(c.get("email")), "phone": phone or None,
            "name": _name(c.get("first_name"), c.get("last_name")), "verified_email": bool(c.get("verified_email"))}


def rest_fulfillment(f: dict[str, Any]) -> dict[str, Any]:
    numbers = f.get("tracking_numbers") or ([f["tracking_number"]] if f.get("tracking_number") else [])
    urls = f.get("tracking_urls") or ([f["tracking_url"]] if f.get("tracking_url") else [])
    company = f.get("tracking_company")
    count = max(len(numbers), len(urls))
    tracking = [{"company": company, "number": numbers[i] if i < len(numbers) else None,
                 "url": urls[i] if i < len(urls) else None} for i in range(count)]
    return {"id": legacy(f.get("id")), "status": (f.get("status") or "").lower(),
            "shipment_status": (f.get("shipment_status") or None), "created_at": f.get("created_at"),
            "updated_at": f.get("updated_at") or f.get("created_at"),
            "estimated_delivery_at": f.get("estimated_delivery_at"), "tracking": tracking}


def rest_refund(r: dict[str, Any]) -> dict[str, Any]:
    amount = sum((Decimal(money(t.get("amount"))) for t in r.get("transactions") or []
                  if t.get("kind") == "refund" and t.get("status", "success") == "success"), Decimal("0"))
    return {"id": legacy(r.get("id")), "created_at": r.get("created_at"), "note": r.get("note"),
            "amount": money(amount)}


def rest_order(o: dict[str, Any]) -> dict[str, Any]:
    customer = rest_customer(o.get("customer"))
    phone = o.get("phone") or (customer or {}).get("phone") or (o.get("shipping_address") or {}).get("phone") \
        or (o.get("billing_address") or {}).get("phone")
    refunds = [rest_refund(r) for r in o.get("refunds") or []]
    tags = o.get("tags") or ""
    return {
        "id": o.get("admin_graphql_api_id") or gid("Order", o.get("id")),
        "legacy_id": legacy(o.get("id")),
        "name": o.get("name") or (f"#{o['order_number']}" if o.get("order_number") else ""),
        "email": _lower(o.get("email") or o.get("contact_email") or (customer or {}).get("email")),
        "phone": phone or None,
        "created_at": o.get("created_at"), "updated_at": o.get("updated_at"),
        "cancelled_at": o.get("cancelled_at"), "cancel_reason": o.get("cancel_reason"),
        "closed_at": o.get("closed_at"),
        "financial_status": (o.get("financial_status") or "").lower() or None,
        "fulfillment_status": (o.get("fulfillment_status") or "unfulfilled").lower(),
        "currency": o.get("currency") or "",
        "total": money(o.get("current_total_price") or o.get("total_price")),
        "subtotal": money(o.get("subtotal_price")),
        "total_refunded": money(sum((Decimal(r["amount"]) for r in refunds), Decimal("0"))),
        "payment_gateways": list(o.get("payment_gateway_names") or ([o["gateway"]] if o.get("gateway") else [])),
        "note": o.get("note") or "",
        "tags": [t.strip() for t in tags.split(",") if t.strip()] if isinstance(tags, str) else list(tags),
        "status_url": o.get("order_status_url"),
        "customer": customer,
        "line_items": [{"id": legacy(li.get("id")), "title": li.get("title") or li.get("name") or "",
                        "variant_title": li.get("variant_title"), "sku": li.get("sku"),
                        "quantity": int(li.get("quantity") or 0), "price": money(li.get("price"))}
                       for li in o.get("line_items") or []],
        "fulfillments": [rest_fulfillment(f) for f in o.get("fulfillments") or []],
        "refunds": refunds,
    }


# --- GraphQL (backfill, action results) --------------------------------------------------------


def _amount(money_bag: dict[str, Any] | None) -> tuple[str, str]:
    shop = (money_bag or {}).get("shopMoney") or {}
    return money(shop.get("amount")), shop.get("currencyCode") or ""


def _nodes(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        if "nodes" in value:
            return value["nodes"] or []
        return [edge["node"] for edge in value.get("edges") or []]
    return list(value or [])


def graphql_order(o: dict[str, Any]) -> dict[str, Any]:
    total, currency = _amount(o.get("currentTotalPriceSet") or o.get("totalPriceSet"))
    subtotal, _ = _amount(o.get("subtotalPriceSet"))
    refunded, _ = _amount(o.get("totalRefundedSet"))
    c = o.get("customer")
    customer = None
    if c:
        customer = {"id": legacy(c.get("legacyResourceId") or c.get("id")), "email": _lower(c.get("email")),
                    "phone": c.get("phone"), "name": _name(c.get("firstName"), c.get("lastName")),
                    "verified_email": bool(c.get("verifiedEmail"))}
    fulfillments = []
    for f in _nodes(o.get("fulfillments")):
        fulfillments.append({
            "id": legacy(f.get("legacyResourceId") or f.get("id")), "status": (f.get("status") or "").lower(),
            "shipment_status": (f.get("displayStatus") or "").lower() or None,
            "created_at": f.get("createdAt"), "updated_at": f.get("updatedAt") or f.get("createdAt"),
            "estimated_delivery_at": f.get("estimatedDeliveryAt"),
            "tracking": [{"company": t.get("company"), "number": t.get("number"), "url": t.get("url")}
                         for t in f.get("trackingInfo") or []],
        })
    refunds = []
    for r in _nodes(o.get("refunds")):
        amount, _ = _amount(r.get("totalRefundedSet"))
        refunds.append({"id": legacy(r.get("legacyResourceId") or r.get("id")), "created_at": r.get("createdAt"),
                        "note": r.get("note"), "amount": amount})
    return {
        "id": o.get("id"), "legacy_id": legacy(o.get("legacyResourceId") or o.get("id")),
        "name": o.get("name") or "", "email": _lower(o.get("email")),
        "phone": o.get("phone") or (customer or {}).get("phone"),
        "created_at": o.get("createdAt"), "updated_at": o.get("updatedAt"),
        "cancelled_at": o.get("cancelledAt"), "cancel_reason": (o.get("cancelReason") or "").lower() or None,
        "closed_at": o.get("closedAt"),
        "financial_status": (o.get("displayFinancialStatus") or "").lower() or None,
        "fulfillment_status": (o.get("displayFulfillmentStatus") or "unfulfilled").lower(),
        "currency": currency, "total": total, "subtotal": subtotal, "total_refunded": refunded,
        "payment_gateways": list(o.get("paymentGatewayNames") or []),
        "note": o.get("note") or "", "tags": list(o.get("tags") or []), "status_url": o.get("statusPageUrl"),
        "customer": customer,
        "line_items": [{"id": legacy(li.get("id")), "title": li.get("title") or "",
                        "variant_title": li.get("variantTitle"), "sku": li.get("sku"),
                        "quantity": int(li.get("quantity") or 0),
                        "price": _amount(li.get("originalUnitPriceSet"))[0]}
                       for li in _nodes(o.get("lineItems"))],
        "fulfillments": fulfillments,
        "refunds": refunds,
    }
