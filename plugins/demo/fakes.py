"""The demo's loopback platforms: a Shopify Admin GraphQL endpoint and the Selling Partner API
operations the Amazon plugin calls for proactive messages, served by the demo desk itself under
/demo-platforms/ so `relaydesk demo` needs no network and no second process.

They answer in the documented shapes (Shopify: Order, SuggestedRefund, refundCreate and orderCancel
payloads with userErrors and ``extensions.cost``; Amazon: Login with Amazon's token response,
getMessagingActionsForOrder's HAL ``_links.actions``, the send operations' 201). The Shopify store's
state (refunds, cancellations) is kept in ``<data_dir>/demo-shopify.json`` so it survives a restart
like the desk's own cache. Loaded only with the demo plugin, which is never enabled on a real desk.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter

from plugins.demo import stores

_lock = threading.Lock()
_state: dict[str, Any] = {"path": None, "orders": None}


def configure(data_dir: str | None) -> None:
    _state["path"] = Path(data_dir) / "demo-shopify.json" if data_dir else None
    _state["orders"] = None


def _orders() -> dict[str, dict[str, Any]]:
    if _state["orders"] is None:
        path = _state["path"]
        if path is not None and path.exists():
            _state["orders"] = json.loads(path.read_text(encoding="utf-8"))
        else:
            _state["orders"] = {o["id"]: o for o in stores.shopify_orders()}
    return _state["orders"]


def _save() -> None:
    path = _state["path"]
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(_state["orders"]), encoding="utf-8")


def _money(amount: float) -> dict[str, Any]:
    return {"shopMoney": {"amount": f"{amount:.2f}", "currencyCode": stores.CURRENCY}}


def _amount(bag: dict[str, Any] | None) -> float:
    return float(((bag or {}).get("shopMoney") or {}).get("amount") or 0)


def _public(order: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in order.items() if k not in ("transactions", "shippingAmount")}


def _refundable(order: dict[str, Any]) -> float:
    return round(_amount(order["currentTotalPriceSet"]) - _amount(order["totalRefundedSet"]), 2)


def shopify_operation(name: str, v: dict[str, Any]) -> dict[str, Any]:
    """One GraphQL operation of the plugin (named Relaydesk<Operation>), answered from the store."""
    orders = _orders()
    order = orders.get(v.get("id") or v.get("orderId") or (v.get("input") or {}).get("orderId")
                       or (v.get("input") or {}).get("id") or "")
    if name in ("Orders", "OrdersCount"):
        nodes = [_public(o) for o in orders.values()]
        if name == "OrdersCount":
            return {"ordersCount": {"count": len(nodes), "precision": "EXACT"}}
        return {"orders": {"nodes": nodes, "pageInfo": {"hasNextPage": False, "endCursor": None}}}
    if name == "Order":
        return {"order": _public(order) if order else None}
    if name == "OrderTransactions":
        return {"order": {"id": order["id"], "transactions": order["transactions"]} if order else None}
    if order is None:
        return {name[0].lower() + name[1:]: None, "errors": "order not found"}
    if name == "SuggestedRefund":
        lines = {li["id"]: li for li in order["lineItems"]["nodes"]}
        subtotal, refund_lines = 0.0, []
        for wanted in v.get("refundLineItems") or []:
            line = lines.get(wanted["lineItemId"])
            quantity = min(wanted["quantity"], line["quantity"] - line.get("refundedQuantity", 0)) if line else 0
            if quantity > 0:
                subtotal += quantity * _amount(line["originalUnitPriceSet"])
                refund_lines.append({"quantity": quantity, "lineItem": {"id": line["id"], "title": line["title"]}})
        shipping = float(order.get("shippingAmount") or 0) if v.get("refundShipping") else 0.0
        amount = min(subtotal + shipping, _refundable(order))
        return {"order": {"id": order["id"], "name": order["name"], "totalRefundedSet": order["totalRefundedSet"],
                          "suggestedRefund": {
            "amountSet": _money(amount), "subtotalSet": _money(subtotal), "totalTaxSet": _money(0),
            "maximumRefundableSet": _money(_refundable(order)), "shipping": {"amountSet": _money(shipping)},
            "refundLineItems": refund_lines,
            "suggestedTransactions": [{"gateway": "shopify_payments", "kind": "SUGGESTED_REFUND",
                                       "amountSet": _money(amount)}] if amount else []}}}
    if name == "RefundCreate":
        data = v["input"]
        amount = sum(float(t["amount"]) for t in data.get("transactions") or [])
        if amount > _refundable(order) + 0.001:
            return {"refundCreate": {"refund": None, "userErrors": [{
                "field": ["transactions", "0", "amount"],
                "message": "Refund amount must be less than or equal to the refundable amount."}]}}
        lines = {li["id"]: li for li in order["lineItems"]["nodes"]}
        for wanted in data.get("refundLineItems") or []:
            if wanted["lineItemId"] in lines:
                line = lines[wanted["lineItemId"]]
                line["refundedQuantity"] = line.get("refundedQuantity", 0) + wanted["quantity"]
        number = len(order["refunds"]) + 1
        refund = {"id": f"{order['id'].replace('Order', 'Refund')}{number}", "legacyResourceId": str(number),
                  "createdAt": "2026-12-02T10:00:00Z", "note": data.get("note"), "totalRefundedSet": _money(amount)}
        order["refunds"].append(refund)
        order["totalRefundedSet"] = _money(_amount(order["totalRefundedSet"]) + amount)
        order["displayFinancialStatus"] = "REFUNDED" if _refundable(order) <= 0 else "PARTIALLY_REFUNDED"
        order["updatedAt"] = "2026-12-02T10:00:00Z"
        _save()
        return {"refundCreate": {"refund": refund, "userErrors": []}}
    if name == "OrderCancel":
        if order["cancelledAt"]:
            errors = [{"field": ["orderId"], "message": "Cannot cancel an order that has already been canceled.",
                       "code": "INVALID"}]
            return {"orderCancel": {"job": None, "orderCancelUserErrors": errors,
                                    "userErrors": [{"field": e["field"], "message": e["message"]} for e in errors]}}
        order["cancelledAt"] = order["updatedAt"] = "2026-12-02T10:00:00Z"
        order["cancelReason"] = v["reason"]
        if v.get("refund"):
            order["totalRefundedSet"] = order["currentTotalPriceSet"]
            order["displayFinancialStatus"] = "REFUNDED"
        _save()
        return {"orderCancel": {"job": {"id": "gid://shopify/Job/demo", "done": True}, "orderCancelUserErrors": [],
                                "userErrors": []}}
    if name == "OrderUpdate":
        order["note"] = v["input"].get("note")
        _save()
        return {"orderUpdate": {"order": {"id": order["id"], "note": order["note"]}, "userErrors": []}}
    if name == "TagsAdd":
        order["tags"] = sorted(set(order["tags"]) | set(v["tags"]))
        _save()
        return {"tagsAdd": {"node": {"id": order["id"]}, "userErrors": []}}
    return {}


def _hal(order_id: str, market: str, names: list[str]) -> dict[str, Any]:
    base = f"/messaging/v1/orders/{order_id}"
    return {"_links": {"self": {"href": f"{base}?marketplaceIds={market}"},
                       "actions": [{"href": f"{base}/messages/{n}?marketplaceIds={market}", "name": n} for n in names]}}


class DemoPlatforms(Controller):
    path = "/demo-platforms"
    include_in_schema = False
    opt = {"exclude_from_csrf": True}  # called by the desk's own clients, like a platform's API

    @post("/shopify/admin/api/{version:str}/graphql.json", status_code=200)
    async def shopify(self, request: Request, version: str) -> Response:
        body = await request.json()
        query = str(body.get("query") or "")
        operation = query.split("(")[0].split()[-1].removeprefix("Relaydesk") if query.strip() else ""
        with _lock:
            data = shopify_operation(operation, body.get("variables") or {})
        cost = {"requestedQueryCost": 10, "actualQueryCost": 10,
                "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 1990.0, "restoreRate": 100.0}}
        return Response({"data": data, "extensions": {"cost": cost}})

    @post("/amazon/auth/o2/token", status_code=200)
    async def lwa_token(self) -> Response:
        return Response({"access_token": "Atza|demo-access-token", "token_type": "bearer", "expires_in": 3600})

    @get("/amazon/messaging/v1/orders/{order_id:str}")
    async def messaging_actions(self, order_id: str,
                                marketplace_ids: str = Parameter(query="marketplaceIds", default="")) -> Response:
        names = stores.amazon_actions().get(order_id)
        if names is None:
            return Response({"errors": [{"code": "NotFound", "message": "Order not found", "details": ""}]},
                            status_code=404)
        return Response(_hal(order_id, marketplace_ids, names), media_type="application/hal+json")

    @post("/amazon/messaging/v1/orders/{order_id:str}/messages/{action:str}", status_code=201)
    async def send(self, order_id: str, action: str) -> Response:
        if action not in stores.amazon_actions().get(order_id, []):
            return Response({"errors": [{"code": "Unauthorized", "message": "This action is not available for the order.",
                                         "details": ""}]}, status_code=403)
        return Response({}, status_code=201, media_type="application/hal+json")
