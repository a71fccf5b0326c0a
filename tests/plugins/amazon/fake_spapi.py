"""A loopback Selling Partner API on 127.0.0.1 that answers what the API models define.

It plays three Amazon services on one port: Login with Amazon (``POST /auth/o2/token``, form
``grant_type=refresh_token``, answering ``access_token``/``token_type``/``expires_in`` or LWA's
``{"error", "error_description"}``), the Tokens API (``POST /tokens/2021-03-01/restrictedDataToken``)
and the Orders v0 and Messaging v1 operations the plugin calls, with the models' payload shapes and
error bodies ``{"errors": [{"code", "message", "details"}]}``. Every operation has a token bucket
with the documented rate and burst (a test may change them) that answers 429 ``QuotaExceeded``
when empty; responses carry ``x-amzn-RateLimit-Limit`` and ``x-amzn-RequestId``. Access tokens
expire; restricted operations return buyer details only with a restricted data token for them.

Time is a FakeClock shared with the client under test, so a client that waits the documented 60 s
for getOrders is seen to wait exactly that, in no real time.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.loopback import HttpFake, Reply

CLIENT_ID = "amzn1.application-oa2-client.test0000000000000000000000000000"
CLIENT_SECRET = "amzn1.oa2-cs.v1.testsecret"
REFRESH_TOKEN = "Atzr|IwEBITestRefreshToken"

USAGE_PLANS: dict[str, tuple[float, int]] = {
    "getOrders": (0.0167, 20), "getOrderItems": (0.5, 30), "createRestrictedDataToken": (1.0, 10),
    "getMessagingActionsForOrder": (1.0, 5), "sendMessage": (1.0, 5),
}
QUOTA = {"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource.", "details": ""}


class FakeClock:
    """Seconds that move only when the code under test sleeps (or a test advances them)."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)


@dataclass
class Bucket:
    rate: float
    burst: float
    tokens: float
    at: float

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    status: int = 0


def make_order(order_id: str, *, updated: str, marketplace_id: str = "A1PA6795UKMFR9", status: str = "Unshipped",
               buyer_email: str | None = None, buyer_name: str = "Jane Doe", total: str = "25.99",
               currency: str = "EUR") -> dict[str, Any]:
    """An order as getOrders returns it (the model's Order), buyer details included when asked."""
    order: dict[str, Any] = {
        "AmazonOrderId": order_id, "PurchaseDate": "2026-11-20T09:15:00Z", "LastUpdateDate": updated,
        "OrderStatus": status, "FulfillmentChannel": "MFN", "NumberOfItemsShipped": 0, "NumberOfItemsUnshipped": 1,
        "PaymentMethod": "Other", "PaymentMethodDetails": ["Standard"], "MarketplaceId": marketplace_id,
        "ShipmentServiceLevelCategory": "Standard", "OrderType": "StandardOrder",
        "EarliestShipDate": "2026-11-21T00:00:00Z", "LatestShipDate": "2026-11-23T23:59:59Z",
        "LatestDeliveryDate": "2026-11-28T23:59:59Z", "IsBusinessOrder": False, "IsPrime": True,
        "IsPremiumOrder": False, "IsGlobalExpressEnabled": False, "IsSoldByAB": False, "IsIBA": False,
        "IsAccessPointOrder": False, "OrderTotal": {"CurrencyCode": currency, "Amount": total},
        "ShippingAddress": {"Name": buyer_name, "AddressLine1": "Hauptstr. 1", "City": "Berlin",
                            "PostalCode": "10115", "CountryCode": "DE"},
    }
    if buyer_email:
        order["BuyerInfo"] = {"BuyerEmail": buyer_email, "BuyerName": buyer_name}
    return order


def make_items(order_id: str, *, asin: str = "B0CX23V2ZK", title: str = "Aluminium Laptop Stand, adjustable") -> list[dict[str, Any]]:
    return [{"ASIN": asin, "OrderItemId": "68828574383266", "SellerSKU": "STAND-01", "Title": title,
             "QuantityOrdered": 1, "QuantityShipped": 0, "ItemPrice": {"CurrencyCode": "EUR", "Amount": "25.99"}}]


class FakeSpApi(HttpFake):
    def __init__(self, clock: FakeClock, *, expires_in: int = 3600) -> None:
        self.clock = clock
        self.expires_in = expires_in
        self.access_tokens: dict[str, float] = {}
        self.rdts: dict[str, tuple[float, list[dict[str, Any]]]] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self.items: dict[str, list[dict[str, Any]]] = {}
        self.actions: dict[str, list[str]] = {}
        self.sent: list[dict[str, Any]] = []
        self.seen: list[Seen] = []
        self.failures: list[tuple[int, Any]] = []  # scripted (status, body) for the next SP-API calls
        self.plans = dict(USAGE_PLANS)
        self.buckets: dict[str, Bucket] = {}
        self.page_size = 100
        self.lock = threading.Lock()
        super().__init__()

    def respond(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply | None:
        parts = urlsplit(path)
        seen = Seen(method, parts.path, parse_qs(parts.query), headers, body)
        with self.lock:
            self.seen.append(seen)
            status, payload, extra = self.answer(seen)
            seen.status = status
        return status, b"" if payload is None else payload, {
            "content-type": "application/json", "x-amzn-RequestId": secrets.token_hex(8), **extra}
    def calls(self, path_prefix: str) -> list[Seen]:
        return [s for s in self.seen if s.path.startswith(path_prefix)]

    def add_order(self, order: dict[str, Any], items: list[dict[str, Any]] | None = None,
                  actions: list[str] | None = None) -> None:
        self.orders[order["AmazonOrderId"]] = order
        self.items[order["AmazonOrderId"]] = items if items is not None else make_items(order["AmazonOrderId"])
        if actions is not None:
            self.actions[order["AmazonOrderId"]] = actions

    # --- the services ----------------------------------------------------------------------------

    def answer(self, seen: Seen) -> tuple[int, Any, dict[str, str]]:
        if seen.path == "/auth/o2/token":
            return self._lwa(seen)
        operation = self._operation(seen)
        if operation is None:
            return 404, {"errors": [{"code": "NotFound", "message": "Resource not found", "details": ""}]}, {}
        plan = self.plans[operation]
        headers = {"x-amzn-RateLimit-Limit": str(plan[0])}
        token = seen.headers.get("x-amz-access-token", "")
        now = self.clock()
        restricted = self.rdts.get(token)
        if restricted is None and (token not in self.access_tokens or self.access_tokens[token] <= now):
            detail = "The access token you provided has expired." if token in self.access_tokens else \
                "The access token you provided is revoked, malformed or invalid."
            return 403, {"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied.",
                                     "details": detail}]}, {}
        if restricted is not None and restricted[0] <= now:
            return 403, {"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied.",
                                     "details": "The restricted data token you provided has expired."}]}, {}
        bucket = self.buckets.get(operation)
        if bucket is None or (bucket.rate, bucket.burst) != plan:
            bucket = self.buckets[operation] = Bucket(plan[0], float(plan[1]), float(plan[1]), now)
        if not bucket.take(now):
            return 429, {"errors": [QUOTA]}, headers
        if self.failures:
            status, payload = self.failures.pop(0)
            return status, payload, headers
        handler = getattr(self, f"_{operation}")
        status, payload = handler(seen, restricted[1] if restricted else None)
        return status, payload, headers

    def _operation(self, seen: Seen) -> str | None:
        path = seen.path
        if seen.method == "POST" and path == "/tokens/2021-03-01/restrictedDataToken":
            return "createRestrictedDataToken"
        if seen.method == "GET" and path == "/orders/v0/orders":
            return "getOrders"
        if seen.method == "GET" and path.startswith("/orders/v0/orders/") and path.endswith("/orderItems"):
            return "getOrderItems"
        if path.startswith("/messaging/v1/orders/"):
            rest = path[len("/messaging/v1/orders/"):].split("/")
            if seen.method == "GET" and len(rest) == 1:
                return "getMessagingActionsForOrder"
            if seen.method == "POST" and len(rest) == 3 and rest[1] == "messages":
                return "sendMessage"
        return None

    def _lwa(self, seen: Seen) -> tuple[int, Any, dict[str, str]]:
        form = {k: v[0] for k, v in parse_qs(seen.body.decode()).items()}
        if form.get("grant_type") != "refresh_token":
            return 400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type"}, {}
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return 401, {"error": "invalid_client", "error_description": "Client authentication failed"}, {}
        if form.get("refresh_token") != REFRESH_TOKEN:
            return 400, {"error": "invalid_grant",
                         "error_description": "The request has an invalid grant parameter : refresh_token"}, {}
        token = "Atza|" + secrets.token_urlsafe(24)
        self.access_tokens[token] = self.clock() + self.expires_in
        return 200, {"access_token": token, "refresh_token": REFRESH_TOKEN, "token_type": "bearer",
                     "expires_in": self.expires_in}, {}

    def _invalid(self, message: str) -> tuple[int, Any]:
        return 400, {"errors": [{"code": "InvalidInput", "message": message, "details": ""}]}

    def _createRestrictedDataToken(self, seen: Seen, _: Any) -> tuple[int, Any]:
        try:
            body = json.loads(seen.body or b"{}")
        except ValueError:
            return self._invalid("Request body is not valid JSON")
        resources = body.get("restrictedResources")
        if not isinstance(resources, list) or not resources or len(resources) > 50:
            return self._invalid("restrictedResources must list 1 to 50 resources")
        for resource in resources:
            if resource.get("method") not in ("GET", "PUT", "POST", "DELETE") or not str(resource.get("path", "")).startswith("/"):
                return self._invalid("Each restricted resource needs a method and a path")
        token = "Atz.sprdt|" + secrets.token_urlsafe(24)
        self.rdts[token] = (self.clock() + 3600, resources)
        return 200, {"restrictedDataToken": token, "expiresIn": 3600}

    def _getOrders(self, seen: Seen, rdt: list[dict[str, Any]] | None) -> tuple[int, Any]:
        q = {k: v[0] for k, v in seen.query.items()}
        if not q.get("MarketplaceIds"):
            return self._invalid("Missing required parameter MarketplaceIds")
        if "NextToken" in q:
            try:
                offset, after = json.loads(bytes.fromhex(q["NextToken"]).decode())
            except ValueError:
                return self._invalid("Invalid NextToken")
        else:
            after = q.get("LastUpdatedAfter") or q.get("CreatedAfter")
            if not after:
                return self._invalid("Either CreatedAfter or LastUpdatedAfter must be specified")
            offset = 0
        markets = set(q["MarketplaceIds"].split(","))
        size = min(int(q.get("MaxResultsPerPage") or 100), self.page_size)
        chosen = sorted((o for o in self.orders.values()
                         if o["MarketplaceId"] in markets and o["LastUpdateDate"] >= after),
                        key=lambda o: (o["LastUpdateDate"], o["AmazonOrderId"]))
        page = chosen[offset:offset + size]
        buyer = any(r.get("path") == "/orders/v0/orders" and "buyerInfo" in (r.get("dataElements") or [])
                    for r in rdt or [])
        address = any(r.get("path") == "/orders/v0/orders" and "shippingAddress" in (r.get("dataElements") or [])
                      for r in rdt or [])
        out = []
        for order in page:
            copy = dict(order)
            if not buyer:
                copy.pop("BuyerInfo", None)
            if not address:
                copy.pop("ShippingAddress", None)
            out.append(copy)
        payload: dict[str, Any] = {"Orders": out, "CreatedBefore": "2026-11-30T00:00:00Z"}
        if offset + size < len(chosen):
            payload["NextToken"] = json.dumps([offset + size, after]).encode().hex()
        return 200, {"payload": payload}

    def _getOrderItems(self, seen: Seen, _: Any) -> tuple[int, Any]:
        order_id = seen.path.split("/")[4]
        if order_id not in self.orders:
            return 404, {"errors": [{"code": "NotFound", "message": f"Invalid AmazonOrderId: {order_id}", "details": ""}]}
        return 200, {"payload": {"AmazonOrderId": order_id, "OrderItems": self.items.get(order_id, [])}}

    def _getMessagingActionsForOrder(self, seen: Seen, _: Any) -> tuple[int, Any]:
        order_id = seen.path.split("/")[4]
        market = (seen.query.get("marketplaceIds") or [""])[0]
        if not market:
            return 400, {"errors": [{"code": "InvalidInput", "message": "Invalid Input", "details": ""}]}
        if order_id not in self.orders:
            return 404, {"errors": [{"code": "NotFound", "message": "Order not found", "details": ""}]}
        base = f"/messaging/v1/orders/{order_id}"
        names = self.actions.get(order_id, [])
        return 200, {
            "_links": {"self": {"href": f"{base}?marketplaceIds={market}"},
                       "actions": [{"href": f"{base}/messages/{n}?marketplaceIds={market}", "name": n} for n in names]},
            "_embedded": {"actions": [{"_links": {
                "self": {"href": f"{base}/messages/{n}?marketplaceIds={market}", "name": n},
                "schema": {"href": f"{base}/messages/{n}/schema", "name": n}}} for n in names]},
        }

    def _sendMessage(self, seen: Seen, _: Any) -> tuple[int, Any]:
        parts = seen.path.split("/")
        order_id, action = parts[4], parts[6]
        if not (seen.query.get("marketplaceIds") or [""])[0]:
            return 400, {"errors": [{"code": "InvalidInput", "message": "Invalid Input", "details": ""}]}
        if order_id not in self.orders:
            return 404, {"errors": [{"code": "NotFound", "message": "Order not found", "details": ""}]}
        if action not in self.actions.get(order_id, []):
            return 403, {"errors": [{"code": "Unauthorized", "message": "This action is not available for the order.",
                                     "details": ""}]}
        if action == "negativeFeedbackRemoval":  # createNegativeFeedbackRemoval: no request body
            self.sent.append({"order_id": order_id, "action": action, "text": None})
            return 201, {}
        try:
            body = json.loads(seen.body or b"{}")
        except ValueError:
            return self._invalid("Request body is not valid JSON")
        text = body.get("text")
        if not isinstance(text, str) or not 1 <= len(text) <= 2000:
            return self._invalid("text must have 1 to 2000 characters")
        self.sent.append({"order_id": order_id, "action": action, "text": text})
        return 201, {}
