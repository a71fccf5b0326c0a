"""A loopback Shopify Admin GraphQL API on 127.0.0.1 that speaks the documented formats.

It keeps a real cost bucket (maximumAvailable, currentlyAvailable, restoreRate) and answers every
query with ``extensions.cost``; a query costing more than is available gets Shopify's THROTTLED error
(``data`` absent, ``actualQueryCost`` null). A test can queue raw HTTP failures (429 with
Retry-After, 5xx) and userErrors per mutation. Orders are stored in GraphQL shape.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from tests.loopback import HttpFake, Reply

TOKEN = "shpat_test_token"


@dataclass
class Failure:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    lost: bool = False  # the request is carried out, then the connection drops: the answer is lost


def money(amount: str, currency: str = "USD") -> dict[str, Any]:
    return {"shopMoney": {"amount": amount, "currencyCode": currency}}


def make_order(number: int, *, email: str, updated_at: str, total: str = "25.00", customer_id: int | None = None,
               verified: bool = True, fulfilled_at: str | None = None, tracking_url: str | None = None) -> dict[str, Any]:
    oid = 5000 + number
    customer = None
    if customer_id:
        customer = {"id": f"gid://shopify/Customer/{customer_id}", "legacyResourceId": str(customer_id),
                    "email": email, "phone": None, "firstName": "Ada", "lastName": "Buyer", "verifiedEmail": verified}
    fulfillments = []
    if fulfilled_at:
        fulfillments.append({"id": f"gid://shopify/Fulfillment/{oid}1", "legacyResourceId": f"{oid}1", "status": "SUCCESS",
                             "displayStatus": "FULFILLED", "createdAt": fulfilled_at, "updatedAt": fulfilled_at,
                             "estimatedDeliveryAt": None,
                             "trackingInfo": [{"company": "UPS", "number": f"1Z{oid}", "url": tracking_url}]})
    return {
        "id": f"gid://shopify/Order/{oid}", "legacyResourceId": str(oid), "name": f"#{number}", "email": email,
        "phone": None, "createdAt": updated_at, "updatedAt": updated_at, "cancelledAt": None, "cancelReason": None,
        "closedAt": None, "displayFinancialStatus": "PAID",
        "displayFulfillmentStatus": "FULFILLED" if fulfilled_at else "UNFULFILLED", "note": None, "tags": [],
        "paymentGatewayNames": ["shopify_payments"], "statusPageUrl": f"https://shop.example/status/{oid}",
        "currentTotalPriceSet": money(total), "subtotalPriceSet": money(total), "totalRefundedSet": money("0.00"),
        "customer": customer,
        "lineItems": {"nodes": [{"id": f"gid://shopify/LineItem/{oid}7", "title": "Blue mug", "variantTitle": "Large",
                                 "sku": "MUG-L", "quantity": 1, "originalUnitPriceSet": money(total)}]},
        "fulfillments": fulfillments, "refunds": [],
        "transactions": [{"id": f"gid://shopify/OrderTransaction/{oid}9", "kind": "SALE", "status": "SUCCESS",
                          "gateway": "shopify_payments", "amountSet": money(total)}],
    }


class FakeShopify(HttpFake):
    def __init__(self, *, maximum: float = 1000.0, restore_rate: float = 1000.0, costs: dict[str, int] | None = None) -> None:
        self.maximum = maximum
        self.available = maximum
        self.restore_rate = restore_rate
        self.costs = {"RelaydeskOrders": 52, "RelaydeskOrdersCount": 1, "RelaydeskOrder": 12, **(costs or {})}
        self._last = time.monotonic()
        self.orders: dict[str, dict[str, Any]] = {}
        self.subscriptions: list[dict[str, Any]] = []
        self.failures: list[Failure] = []
        self.user_errors: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[dict[str, Any]] = []
        self.throttled = 0
        self.lose: set[str] = set()  # operations carried out once more whose answer is then dropped
        self.lock = threading.Lock()
        super().__init__()

    def drain(self) -> None:
        """Empty the bucket now (another app on the store used it up); it refills from this moment."""
        with self.lock:
            self.available = 0.0
            self._last = time.monotonic()

    def add(self, order: dict[str, Any]) -> None:
        self.orders[order["id"]] = order

    # --- the API ---------------------------------------------------------------------------

    def respond(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply | None:
        if method != "POST":  # the Admin API is GraphQL: POST only
            return 405, {"errors": "Not Found"}, {}
        status, payload, extra = self.handle(path, headers, body)
        if status == -1:
            return None  # drop the connection without an answer
        return status, json.dumps(payload).encode(), {"content-type": "application/json", **extra}

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any, dict[str, str]]:
        with self.lock:
            request = json.loads(raw or b"{}")
            query = request.get("query") or ""
            operation = query.split("(")[0].split()[-1] if query.strip() else ""
            self.requests.append({"path": path, "operation": operation, "variables": request.get("variables") or {},
                                  "token": headers.get("x-shopify-access-token")})
            if not path.startswith("/admin/api/") or not path.endswith("/graphql.json"):
                return 404, {"errors": "Not Found"}, {}
            if headers.get("x-shopify-access-token") != TOKEN:
                return 401, {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}, {}
            lost = False
            if self.failures:
                failure = self.failures.pop(0)
                if not failure.lost:
                    return failure.status, failure.body or {"errors": "Internal Server Error"}, failure.headers
                lost = True
            now = time.monotonic()
            self.available = min(self.maximum, self.available + (now - self._last) * self.restore_rate)
            self._last = now
            cost = self.costs.get(operation, 10)
            if cost > self.available:
                self.throttled += 1
                return 200, {"errors": [{"message": "Throttled", "extensions": {
                    "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
                    "extensions": self._cost(cost, None)}, {}
            self.available -= cost
            data = getattr(self, "op_" + operation.removeprefix("Relaydesk"))(request.get("variables") or {})
            if lost or operation in self.lose:
                self.lose.discard(operation)
                return -1, None, {}
            return 200, {"data": data, "extensions": self._cost(cost, cost)}, {}

    def _cost(self, requested: int, actual: int | None) -> dict[str, Any]:
        return {"cost": {"requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": {
            "maximumAvailable": self.maximum, "currentlyAvailable": int(self.available),
            "restoreRate": self.restore_rate}}}

    def _matching(self, search: str | None) -> list[dict[str, Any]]:
        since = ""
        if search and "updated_at:>=" in search:
            since = search.split("updated_at:>=", 1)[1].strip("'\" ")
        nodes = [o for o in self.orders.values() if o["updatedAt"] >= since]
        return sorted(nodes, key=lambda o: o["updatedAt"])

    def op_OrdersCount(self, v: dict[str, Any]) -> Any:
        return {"ordersCount": {"count": len(self._matching(v.get("query"))), "precision": "EXACT"}}

    def op_Orders(self, v: dict[str, Any]) -> Any:
        nodes = self._matching(v.get("query"))
        start = int(base64.b64decode(v["after"]).decode()) if v.get("after") else 0
        page = nodes[start:start + int(v["first"])]
        end = start + len(page)
        public = [{k: val for k, val in o.items() if k not in ("transactions", "shippingAmount")} for o in page]
        return {"orders": {"nodes": public, "pageInfo": {"hasNextPage": end < len(nodes),
                                                          "endCursor": base64.b64encode(str(end).encode()).decode()}}}

    def op_Order(self, v: dict[str, Any]) -> Any:
        order = self.orders.get(v["id"])
        return {"order": {k: val for k, val in order.items() if k not in ("transactions", "shippingAmount")} if order else None}

    def op_OrderTransactions(self, v: dict[str, Any]) -> Any:
        order = self.orders.get(v["id"])
        return {"order": {"id": v["id"], "transactions": order["transactions"]} if order else None}

    def op_WebhookSubscriptions(self, v: dict[str, Any]) -> Any:
        nodes = [s for s in self.subscriptions if s["callbackUrl"] == v.get("callbackUrl")]
        return {"webhookSubscriptions": {"nodes": [{"id": s["id"], "topic": s["topic"]} for s in nodes]}}

    def op_WebhookSubscriptionCreate(self, v: dict[str, Any]) -> Any:
        errors = self.user_errors.pop("webhookSubscriptionCreate", None)
        if errors:
            return {"webhookSubscriptionCreate": {"webhookSubscription": None, "userErrors": errors}}
        sub = {"id": f"gid://shopify/WebhookSubscription/{len(self.subscriptions) + 1}", "topic": v["topic"],
               "callbackUrl": v["webhookSubscription"]["callbackUrl"]}
        self.subscriptions.append(sub)
        return {"webhookSubscriptionCreate": {"webhookSubscription": {"id": sub["id"], "topic": sub["topic"]},
                                              "userErrors": []}}

    def op_OrderCancel(self, v: dict[str, Any]) -> Any:
        order = self.orders.get(v["orderId"])
        errors = self.user_errors.pop("orderCancel", None)
        if errors is None and order and order["cancelledAt"]:
            errors = [{"field": ["orderId"], "message": "Cannot cancel an order that has already been canceled.",
                       "code": "INVALID"}]
        if errors:
            return {"orderCancel": {"job": None, "orderCancelUserErrors": errors,
                                    "userErrors": [{k: e[k] for k in ("field", "message")} for e in errors]}}
        order["cancelledAt"] = "2026-11-23T18:00:00Z"
        order["cancelReason"] = v["reason"]
        order["updatedAt"] = "2026-11-23T18:00:00Z"
        if v["refund"]:
            order["displayFinancialStatus"] = "REFUNDED"
        return {"orderCancel": {"job": {"id": "gid://shopify/Job/1", "done": False}, "orderCancelUserErrors": [],
                                "userErrors": []}}

    def _refundable(self, order: dict[str, Any]) -> float:
        paid = float(order["currentTotalPriceSet"]["shopMoney"]["amount"]) + float(order.get("shippingAmount") or 0)
        return round(paid - float(order["totalRefundedSet"]["shopMoney"]["amount"]), 2)

    def op_SuggestedRefund(self, v: dict[str, Any]) -> Any:
        """Order.suggestedRefund: the line items' unit prices times the quantities (clamped to what is
        not refunded yet), plus the order's shipping when refundShipping; SuggestedRefund's shape."""
        order = self.orders.get(v["id"])
        if order is None:
            return {"order": None}
        lines = {li["id"]: li for li in order["lineItems"]["nodes"]}
        currency = order["currentTotalPriceSet"]["shopMoney"]["currencyCode"]
        refund_lines, subtotal = [], 0.0
        for wanted in v.get("refundLineItems") or []:
            line = lines.get(wanted["lineItemId"])
            if line is None:
                continue
            quantity = min(wanted["quantity"], line["quantity"] - line.get("refundedQuantity", 0))
            if quantity <= 0:
                continue
            subtotal += quantity * float(line["originalUnitPriceSet"]["shopMoney"]["amount"])
            refund_lines.append({"quantity": quantity, "lineItem": {"id": line["id"], "title": line["title"]}})
        shipping = float(order.get("shippingAmount") or 0) if v.get("refundShipping") else 0.0
        amount = min(subtotal + shipping, self._refundable(order))
        parent = next(t for t in order["transactions"] if t["kind"] == "SALE")
        return {"order": {"id": order["id"], "name": order["name"], "totalRefundedSet": order["totalRefundedSet"],
                          "suggestedRefund": {
            "amountSet": money(f"{amount:.2f}", currency), "subtotalSet": money(f"{subtotal:.2f}", currency),
            "totalTaxSet": money("0.00", currency), "maximumRefundableSet": money(f"{self._refundable(order):.2f}", currency),
            "shipping": {"amountSet": money(f"{shipping:.2f}", currency)}, "refundLineItems": refund_lines,
            "suggestedTransactions": [{"gateway": parent["gateway"], "kind": "SUGGESTED_REFUND",
                                       "amountSet": money(f"{amount:.2f}", currency)}] if amount else []}}}

    def op_RefundCreate(self, v: dict[str, Any]) -> Any:
        data = v["input"]
        order = self.orders.get(data["orderId"])
        errors = self.user_errors.pop("refundCreate", None)
        amount = sum(float(t["amount"]) for t in data.get("transactions") or [])
        if errors is None and order and amount > self._refundable(order):
            errors = [{"field": ["transactions", "0", "amount"],
                       "message": "Refund amount must be less than or equal to the refundable amount."}]
        if errors is None and data.get("transactions") and not any(
                t["id"] == data["transactions"][0]["parentId"] for t in order["transactions"]):
            errors = [{"field": ["transactions", "0", "parentId"], "message": "Parent transaction does not exist."}]
        if errors:
            return {"refundCreate": {"refund": None, "userErrors": errors}}
        refund = {"id": f"gid://shopify/Refund/{len(order['refunds']) + 1}", "legacyResourceId": str(len(order["refunds"]) + 1),
                  "createdAt": "2026-11-23T18:00:00Z", "note": data.get("note"), "totalRefundedSet": money(f"{amount:.2f}")}
        order["refunds"].append(refund)
        lines = {li["id"]: li for li in order["lineItems"]["nodes"]}
        for wanted in data.get("refundLineItems") or []:
            if wanted["lineItemId"] in lines:
                line = lines[wanted["lineItemId"]]
                line["refundedQuantity"] = line.get("refundedQuantity", 0) + wanted["quantity"]
        total = float(order["totalRefundedSet"]["shopMoney"]["amount"]) + amount
        order["totalRefundedSet"] = money(f"{total:.2f}")
        order["displayFinancialStatus"] = "REFUNDED" if self._refundable(order) <= 0 else "PARTIALLY_REFUNDED"
        order["updatedAt"] = "2026-11-23T18:00:01Z"
        return {"refundCreate": {"refund": refund, "userErrors": []}}

    def op_OrderUpdate(self, v: dict[str, Any]) -> Any:
        data = v["input"]
        order = self.orders.get(data["id"])
        errors = self.user_errors.pop("orderUpdate", None)
        if errors is None and order is None:
            errors = [{"field": ["id"], "message": "Order does not exist"}]
        if errors:
            return {"orderUpdate": {"order": None, "userErrors": errors}}
        order["note"] = data.get("note")
        order["updatedAt"] = "2026-11-23T18:00:02Z"
        return {"orderUpdate": {"order": {"id": order["id"], "note": order["note"]}, "userErrors": []}}

    def op_TagsAdd(self, v: dict[str, Any]) -> Any:
        order = self.orders.get(v["id"])
        errors = self.user_errors.pop("tagsAdd", None)
        if errors:
            return {"tagsAdd": {"node": None, "userErrors": errors}}
        order["tags"] = sorted(set(order["tags"]) | set(v["tags"]))
        order["updatedAt"] = "2026-11-23T18:00:03Z"
        return {"tagsAdd": {"node": {"id": order["id"]}, "userErrors": []}}
