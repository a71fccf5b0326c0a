"""A loopback eBay on 127.0.0.1 that speaks the documented formats: the OAuth token endpoint, the
Message API, the Post-Order API (returns, cases), the Sell Fulfillment API's getOrders and the
Notification API's getPublicKey.

Access tokens expire (a revoked token answers 401 with errorId 1001), OAuth errors have eBay's
``{"error", "error_description"}`` shape, REST errors ``{"errors": [{"errorId", "domain",
"category", "message", "longMessage"}]}``. A test queues failures (429 with errorId 2001, 5xx, a
dropped connection) per path prefix.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.loopback import HttpFake, Reply

CLIENT_ID = "RelaydeskT-desk-PRD-1a2b3c4d5-6e7f8a9b"
CLIENT_SECRET = "PRD-1a2b3c4d5e6f-7a8b-9c0d-1e2f-3a4b"
REFRESH_TOKEN = "v^1.1#i^1#r^1#p^3#I^3#f^0#t^Ul4xMF8yOkRFQTM0QTQ2"
SELLER = "relaydesk_seller"

TOO_MANY = {"errors": [{"errorId": 2001, "domain": "ACCESS", "category": "REQUEST", "message": "Too many requests.",
                        "longMessage": "The request limit has been reached for the resource."}]}
INVALID_TOKEN = {"errors": [{"errorId": 1001, "domain": "OAuth", "category": "REQUEST",
                             "message": "Invalid access token",
                             "longMessage": "Invalid access token. Check the value of the Authorization HTTP request header."}]}


@dataclass
class Failure:
    prefix: str
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    lost: bool = False  # the request is carried out, then the connection drops: the answer is lost


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def ebay_time(value: str) -> dict[str, str]:
    """Post-Order's DateTime type."""
    return {"value": value, "formattedValue": value}


class FakeEbay(HttpFake):
    def __init__(self, *, token_lifetime: int = 7200) -> None:
        self.token_lifetime = token_lifetime
        self.refresh_token = REFRESH_TOKEN
        self.user_tokens: set[str] = set()
        self.app_tokens: set[str] = set()
        self.token_requests: list[dict[str, Any]] = []
        self.counter = itertools.count(1)
        self.failures: list[Failure] = []
        self.requests: list[dict[str, Any]] = []
        self.conversations: dict[str, dict[str, Any]] = {}  # id -> {"detail": ..., "messages": [...]}
        self.orders: list[dict[str, Any]] = []
        self.returns: list[dict[str, Any]] = []
        self.cases: list[dict[str, Any]] = []
        self.case_details: dict[str, dict[str, Any]] = {}
        self.return_messages: list[dict[str, Any]] = []
        self.public_keys: dict[str, Any] = {}  # kid -> response body, or None for an error
        self.lock = threading.Lock()
        super().__init__()
    def fail(self, prefix: str, status: int, body: Any = None, headers: dict[str, str] | None = None,
             times: int = 1, drop: bool = False, lost: bool = False) -> None:
        for _ in range(times):
            self.failures.append(Failure(prefix, status, body, headers or {}, drop, lost))

    def revoke_tokens(self) -> None:
        with self.lock:
            self.user_tokens.clear()
            self.app_tokens.clear()

    def calls(self, prefix: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"].startswith(prefix)]

    # --- data builders -------------------------------------------------------------------------

    def add_conversation(self, conversation_id: str, buyer: str, item_id: str | None, title: str,
                         messages: list[tuple[str, str, str]]) -> None:
        """messages: (sender, text, createdDate)."""
        conv = {"detail": {"conversationId": conversation_id, "conversationStatus": "UNREAD",
                           "conversationTitle": title, "conversationType": "FROM_MEMBERS",
                           "createdDate": messages[0][2] if messages else now_iso(), "unreadCount": 1,
                           **({"referenceId": item_id, "referenceType": "LISTING"} if item_id else {})},
                "buyer": buyer, "messages": []}
        self.conversations[conversation_id] = conv
        for sender, text, created in messages:
            self.add_message(conversation_id, sender, text, created)

    def add_message(self, conversation_id: str, sender: str, text: str, created: str | None = None) -> dict[str, Any]:
        conv = self.conversations[conversation_id]
        recipient = SELLER if sender != SELLER else conv["buyer"]
        message = {"messageId": str(9000000 + next(self.counter)), "messageBody": text, "createdDate": created or now_iso(),
                   "readStatus": False, "senderUsername": sender, "recipientUsername": recipient,
                   "subject": conv["detail"]["conversationTitle"], "messageMedia": []}
        conv["messages"].append(message)
        conv["detail"]["latestMessage"] = message
        return message

    # --- the server ----------------------------------------------------------------------------

    def respond(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply | None:
        status, payload, extra = self.handle(method, path, headers, body)
        return None if status == -1 else (status, payload, extra)

    def handle(self, method: str, raw_path: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any, dict[str, str]]:
        parsed = urlparse(raw_path)
        path = parsed.path
        query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        with self.lock:
            self.requests.append({"method": method, "path": path, "query": query, "headers": headers, "body": raw})
            for failure in self.failures:
                if path.startswith(failure.prefix):
                    self.failures.remove(failure)
                    if failure.lost:
                        self._route(method, path, query, headers, raw)
                        return -1, None, {}
                    if failure.drop:
                        return -1, None, {}
                    return failure.status, failure.body, failure.headers
            return self._route(method, path, query, headers, raw)

    def _route(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
               raw: bytes) -> tuple[int, Any, dict[str, str]]:
        if path == "/identity/v1/oauth2/token" and method == "POST":
            return self.token(headers, raw)
        auth = headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if path.startswith("/commerce/notification/v1/public_key/"):
            if scheme != "Bearer" or token not in self.app_tokens:
                return 401, INVALID_TOKEN, {}
            return self.public_key(path.rsplit("/", 1)[1])
        expected = "IAF" if path.startswith("/post-order/") else "Bearer"
        if scheme != expected or token not in self.user_tokens:
            return 401, INVALID_TOKEN, {}
        if headers.get("x-ebay-c-marketplace-id") is None:
            return 400, {"errors": [{"errorId": 2004, "domain": "ACCESS", "category": "REQUEST",
                                     "message": "Invalid request", "longMessage": "X-EBAY-C-MARKETPLACE-ID missing"}]}, {}
        body = json.loads(raw) if raw else None
        if path == "/commerce/message/v1/conversation" and method == "GET":
            return self.get_conversations(query)
        if path.startswith("/commerce/message/v1/conversation/") and method == "GET":
            return self.get_conversation(path.rsplit("/", 1)[1], query)
        if path == "/commerce/message/v1/send_message" and method == "POST":
            return self.send_message(body or {})
        if path == "/sell/fulfillment/v1/order" and method == "GET":
            return self.get_orders(query)
        if path == "/post-order/v2/return/search":
            return self.search(self.returns, query, "members", "total")
        if path.startswith("/post-order/v2/return/") and path.endswith("/send_message") and method == "POST":
            return self.return_message(path.split("/")[4], body or {})
        if path == "/post-order/v2/casemanagement/search":
            return self.search(self.cases, query, "members", "totalNumberOfCases")
        if path.startswith("/post-order/v2/casemanagement/"):
            detail = self.case_details.get(path.rsplit("/", 1)[1])
            if detail is None:
                return 404, {"error": [{"errorId": 1617, "domain": "caseManagementErrorDomain", "severity": "ERROR",
                                        "category": "REQUEST", "message": "The case id is invalid"}]}, {}
            return 200, detail, {}
        return 404, {"errors": [{"errorId": 2002, "domain": "ACCESS", "category": "REQUEST",
                                 "message": "Resource not found"}]}, {}

    def token(self, headers: dict[str, str], raw: bytes) -> tuple[int, Any, dict[str, str]]:
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        self.token_requests.append(form)
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if headers.get("authorization") != expected:
            return 401, {"error": "invalid_client", "error_description": "client authentication failed"}, {}
        if headers.get("content-type", "").split(";")[0] != "application/x-www-form-urlencoded":
            return 400, {"error": "invalid_request", "error_description": "request is missing a required parameter or malformed."}, {}
        grant = form.get("grant_type")
        if grant == "refresh_token":
            if form.get("refresh_token") != self.refresh_token:
                return 400, {"error": "invalid_grant", "error_description": "the provided authorization refresh token is invalid or was issued to another client"}, {}
            token = f"v^1.1#i^1#user-{next(self.counter)}"
            self.user_tokens.add(token)
            return 200, {"access_token": token, "expires_in": self.token_lifetime, "token_type": "User Access Token"}, {}
        if grant == "client_credentials":
            token = f"v^1.1#i^1#app-{next(self.counter)}"
            self.app_tokens.add(token)
            return 200, {"access_token": token, "expires_in": 7200, "token_type": "Application Access Token"}, {}
        return 400, {"error": "unsupported_grant_type", "error_description": "grant type in request is not supported by the authorization server"}, {}

    def _page(self, items: list[Any], query: dict[str, str], default: int = 25, maximum: int = 50) -> tuple[list[Any], int, int]:
        limit = min(int(query.get("limit") or default), maximum)
        offset = int(query.get("offset") or 0)
        return items[offset:offset + limit], limit, offset

    def get_conversations(self, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        if query.get("conversation_type") not in ("FROM_EBAY", "FROM_MEMBERS"):
            return 400, {"errors": [{"errorId": 355001, "domain": "API_MESSAGE", "category": "REQUEST",
                                     "message": "The conversation_type is invalid or missing."}]}, {}
        since = query.get("start_time") or ""
        found = [c["detail"] for c in self.conversations.values()
                 if c["messages"] and c["detail"]["latestMessage"]["createdDate"] >= since]
        found.sort(key=lambda c: c["latestMessage"]["createdDate"])
        page, limit, offset = self._page(found, query)
        body = {"href": "/commerce/message/v1/conversation", "limit": limit, "offset": offset, "total": len(found),
                "conversations": page}
        if offset + limit < len(found):
            body["next"] = f"/commerce/message/v1/conversation?limit={limit}&offset={offset + limit}"
        return 200, body, {}

    def get_conversation(self, conversation_id: str, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        conv = self.conversations.get(conversation_id)
        if conv is None:
            return 404, {"errors": [{"errorId": 355002, "domain": "API_MESSAGE", "category": "REQUEST",
                                     "message": "The conversation_id is invalid."}]}, {}
        if query.get("conversation_type") != "FROM_MEMBERS":
            return 400, {"errors": [{"errorId": 355001, "domain": "API_MESSAGE", "category": "REQUEST",
                                     "message": "The conversation_type is invalid or missing."}]}, {}
        page, limit, offset = self._page(conv["messages"], query)
        detail = conv["detail"]
        body = {"conversationStatus": detail["conversationStatus"], "conversationTitle": detail["conversationTitle"],
                "conversationType": "FROM_MEMBERS", "href": f"/commerce/message/v1/conversation/{conversation_id}",
                "limit": limit, "offset": offset, "total": len(conv["messages"]), "messages": page}
        if offset + limit < len(conv["messages"]):
            body["next"] = f"/commerce/message/v1/conversation/{conversation_id}?limit={limit}&offset={offset + limit}"
        return 200, body, {}

    def send_message(self, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        text = body.get("messageText")
        if not text or len(text) > 2000:
            return 400, {"errors": [{"errorId": 355010, "domain": "API_MESSAGE", "category": "REQUEST",
                                     "message": "The messageText is missing or too long."}]}, {}
        conversation_id = body.get("conversationId")
        if conversation_id is None:
            other = body.get("otherPartyUsername")
            if not other:
                return 400, {"errors": [{"errorId": 355011, "domain": "API_MESSAGE", "category": "REQUEST",
                                         "message": "Either conversationId or otherPartyUsername is required."}]}, {}
            conversation_id = f"conv-new-{next(self.counter)}"
            ref = body.get("reference") or {}
            self.add_conversation(conversation_id, other, ref.get("referenceId"), "New conversation", [])
        if conversation_id not in self.conversations:
            return 400, {"errors": [{"errorId": 355002, "domain": "API_MESSAGE", "category": "REQUEST",
                                     "message": "The conversationId is invalid."}]}, {}
        message = self.add_message(conversation_id, SELLER, text)
        return 200, {"createdDate": message["createdDate"], "messageBody": text, "messageId": message["messageId"],
                     "readStatus": False, "recipientUserName": message["recipientUsername"],
                     "senderUserName": SELLER, "subject": message["subject"], "messageMedia": []}, {}

    def get_orders(self, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        since = ""
        text = query.get("filter") or ""
        if text.startswith("lastmodifieddate:["):
            since = text[len("lastmodifieddate:["):].split("..", 1)[0]
        found = sorted((o for o in self.orders if o["lastModifiedDate"] >= since), key=lambda o: o["lastModifiedDate"])
        page, limit, offset = self._page(found, query, default=50, maximum=200)
        body = {"href": "/sell/fulfillment/v1/order", "limit": limit, "offset": offset, "total": len(found),
                "orders": page, "warnings": []}
        if offset + limit < len(found):
            body["next"] = f"/sell/fulfillment/v1/order?limit={limit}&offset={offset + limit}"
        return 200, body, {}

    def search(self, items: list[dict[str, Any]], query: dict[str, str], key: str, total_key: str) -> tuple[int, Any, dict[str, str]]:
        limit = int(query.get("limit") or 25)
        page_number = int(query.get("offset") or 1)
        pages = max(1, -(-len(items) // limit))
        page = items[(page_number - 1) * limit: page_number * limit]
        body = {key: page, "paginationOutput": {"limit": limit, "offset": page_number, "totalEntries": len(items),
                                                "totalPages": pages}}
        body[total_key] = len(items)
        return 200, body, {}

    def return_message(self, return_id: str, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        if not any(r["returnId"] == return_id for r in self.returns):
            return 404, {"error": [{"errorId": 1617, "domain": "returnErrorDomain", "severity": "ERROR",
                                    "category": "REQUEST", "message": "The return id is invalid"}]}, {}
        self.return_messages.append({"returnId": return_id, **body})
        return 200, None, {}

    def public_key(self, kid: str) -> tuple[int, Any, dict[str, str]]:
        if kid not in self.public_keys:
            return 404, {"errors": [{"errorId": 195000, "domain": "API_NOTIFICATION", "category": "REQUEST",
                                     "message": "Resource not found."}]}, {}
        answer = self.public_keys[kid]
        if answer is None:
            return 500, {"errors": [{"errorId": 195000, "domain": "API_NOTIFICATION", "category": "APPLICATION",
                                     "message": "There was a problem with an eBay internal system or process."}]}, {}
        return 200, answer, {}


def make_order(order_id: str, buyer: str, item_id: str, *, updated: str, total: str = "39.90",
               title: str = "Ceramic teapot", status: str = "NOT_STARTED") -> dict[str, Any]:
    """A getOrders order in the documented shape."""
    return {
        "orderId": order_id, "legacyOrderId": f"{item_id}-2914012345001", "creationDate": updated,
        "lastModifiedDate": updated, "orderFulfillmentStatus": status, "orderPaymentStatus": "PAID",
        "sellerId": SELLER, "buyer": {"username": buyer, "taxAddress": {"countryCode": "DE", "postalCode": "10115"}},
        "pricingSummary": {"priceSubtotal": {"value": total, "currency": "EUR"}, "total": {"value": total, "currency": "EUR"}},
        "cancelStatus": {"cancelState": "NONE_REQUESTED", "cancelRequests": []},
        "paymentSummary": {"totalDueSeller": {"value": total, "currency": "EUR"}},
        "fulfillmentStartInstructions": [], "fulfillmentHrefs": [], "salesRecordReference": "1042",
        "lineItems": [{"lineItemId": f"{order_id}-L1", "legacyItemId": item_id, "title": title, "sku": "TEA-1",
                       "quantity": 1, "lineItemCost": {"value": total, "currency": "EUR"},
                       "lineItemFulfillmentStatus": status}],
    }


def make_return(return_id: str, order_id: str, buyer: str, item_id: str, *, respond_by: str | None,
                state: str = "INITIAL", status: str = "RETURN_REQUESTED",
                actions: tuple[str, ...] = ("SELLER_APPROVE_REQUEST", "SELLER_DECLINE_REQUEST", "SELLER_ISSUE_REFUND"),
                activity: str = "SELLER_APPROVE_REQUEST", transaction_id: str = "2914012345001") -> dict[str, Any]:
    member = {
        "returnId": return_id, "orderId": order_id, "buyerLoginName": buyer, "sellerLoginName": SELLER,
        "currentType": "MONEY_BACK", "state": state, "status": status,
        "creationInfo": {"item": {"itemId": item_id, "transactionId": transaction_id, "returnQuantity": 1},
                         "type": "MONEY_BACK", "reason": "NOT_AS_DESCRIBED", "reasonType": "SNAD",
                         "comments": {"content": "The lid is cracked."}, "creationDate": ebay_time("2026-11-20T08:00:00.000Z")},
        "sellerAvailableOptions": [{"actionType": a, "actionURL": f"https://www.ebay.com/rt/{a}"} for a in actions],
        "buyerAvailableOptions": [],
        "sellerTotalRefund": {"estimatedRefundAmount": {"value": 39.9, "currency": "EUR"}},
    }
    if respond_by:
        member["sellerResponseDue"] = {"activityDue": activity, "respondByDate": ebay_time(respond_by)}
    return member


def make_case(case_id: str, buyer: str, item_id: str, *, respond_by: str | None, status: str = "OPEN",
              transaction_id: str = "2914012345001", modified: str = "2026-11-25T09:00:00.000Z") -> dict[str, Any]:
    member = {"caseId": case_id, "caseStatusEnum": status, "buyer": buyer, "seller": SELLER, "itemId": item_id,
              "transactionId": transaction_id, "claimAmount": {"value": 39.9, "currency": "EUR"},
              "creationDate": ebay_time("2026-11-24T09:00:00.000Z"), "lastModifiedDate": ebay_time(modified)}
    if respond_by:
        member["respondByDate"] = ebay_time(respond_by)
    return member


def make_case_detail(case_id: str, case_type: str = "RETURN", status: str = "OPEN") -> dict[str, Any]:
    return {"caseId": case_id, "caseType": case_type, "status": status,
            "actionDeadlines": {"daysToExpireWithoutResponse": 3, "daysToExpireWithResponse": 8},
            "caseDetails": {"expirationDate": ebay_time("2026-12-05T09:00:00.000Z")},
            "caseHistoryDetails": {"history": [{"action": "BUYER_CREATE_CASE", "date": ebay_time("2026-11-24T09:00:00.000Z")}]}}
