"""Shopify webhooks: verify the HMAC over the raw body, parse, and hand the core an `apply` step that
updates the order cache in one transaction, deduplicated by X-Shopify-Webhook-Id.

Headers Shopify sends: X-Shopify-Hmac-Sha256 (base64 HMAC-SHA256 of the raw body keyed with the
app's client secret), X-Shopify-Topic, X-Shopify-Shop-Domain, X-Shopify-Webhook-Id (the same on every
retry of one delivery), X-Shopify-Event-Id, X-Shopify-API-Version, X-Shopify-Triggered-At.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
from typing import TYPE_CHECKING, Any, Awaitable, Callable

import msgspec

from core.plugin_api import db
from core.plugin_api import InvalidRequest, SignatureInvalid
from core.plugin_api import Event, publish
from core.plugin_api import Account, WebhookRequest, WebhookResult
from plugins.shopify import cache, privacy, wire
from plugins.shopify.normalize import legacy, rest_customer, rest_fulfillment, rest_order, rest_refund
from plugins.shopify.tables import ShopifyWebhook

if TYPE_CHECKING:
    from core.plugin_api import Desk

log = logging.getLogger("relaydesk.shopify.webhooks")

ORDER_TOPICS = ("orders/create", "orders/updated", "orders/cancelled", "orders/fulfilled", "orders/paid",
                "orders/edited", "orders/partially_fulfilled")
FULFILLMENT_TOPICS = ("fulfillments/create", "fulfillments/update")
CUSTOMER_TOPICS = ("customers/create", "customers/update")
PRIVACY_TOPICS = ("customers/data_request", "customers/redact", "shop/redact")
HANDLED_TOPICS = (*ORDER_TOPICS, *FULFILLMENT_TOPICS, "refunds/create", *CUSTOMER_TOPICS, *PRIVACY_TOPICS)
WIRE_TYPES: dict[str, type] = {
    **{t: wire.Order for t in ORDER_TOPICS}, **{t: wire.Fulfillment for t in FULFILLMENT_TOPICS},
    "refunds/create": wire.Refund, **{t: wire.Customer for t in CUSTOMER_TOPICS},
    "customers/data_request": wire.DataRequest, "customers/redact": wire.CustomerRedact, "shop/redact": wire.ShopRedact,
}


def sign(secret: str, body: bytes) -> str:
    """The X-Shopify-Hmac-Sha256 value for `body` (tests and the loopback server use it too)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify(secret: str, body: bytes, header: str | None) -> None:
    if not header:
        raise SignatureInvalid("the X-Shopify-Hmac-Sha256 header is missing")
    try:
        given = base64.b64decode(header.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureInvalid("the X-Shopify-Hmac-Sha256 header is not base64") from None
    expected = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, given):
        raise SignatureInvalid("the X-Shopify-Hmac-Sha256 signature does not match the body")


def parse(account: Account, request: WebhookRequest, *, trust_verified: bool) -> WebhookResult:
    settings = account.settings
    verify(settings.webhook_secret, request.body, request.headers.get("x-shopify-hmac-sha256"))
    topic = (request.headers.get("x-shopify-topic") or "").strip().lower()
    webhook_id = (request.headers.get("x-shopify-webhook-id") or "").strip()
    shop = (request.headers.get("x-shopify-shop-domain") or "").strip().lower()
    if not topic:
        raise InvalidRequest("the X-Shopify-Topic header is missing")
    if not webhook_id:
        raise InvalidRequest("the X-Shopify-Webhook-Id header is missing")
    if shop and shop != settings.shop.lower():
        raise InvalidRequest(f"this webhook is for shop {shop!r} but account {account.name!r} is {settings.shop!r}")
    if topic not in HANDLED_TOPICS:
        try:
            msgspec.json.decode(request.body, type=dict)
        except (msgspec.ValidationError, msgspec.DecodeError, RecursionError) as exc:
            raise InvalidRequest(f"the body is not a JSON object: {exc}") from None
        log.info("ignoring Shopify topic %s on %s", topic, account.name)
        return WebhookResult()
    payload = decode(topic, request.body)
    handler = _handler(topic, payload, trust_verified)
    meta = {"topic": topic, "webhook_id": webhook_id, "event_id": request.headers.get("x-shopify-event-id"),
            "api_version": request.headers.get("x-shopify-api-version"),
            "triggered_at": request.headers.get("x-shopify-triggered-at")}
    return WebhookResult(apply=_applier(account, webhook_id, topic, handler, meta))


def decode(topic: str, body: bytes) -> dict[str, Any]:
    """The body as the documented type of its topic (plugins.shopify.wire), given back as plain data
    holding only the declared fields; a value of the wrong type anywhere is a 400 naming its path."""
    kind = WIRE_TYPES[topic]
    try:
        return msgspec.to_builtins(msgspec.json.decode(body, type=kind))
    except msgspec.ValidationError as exc:
        raise InvalidRequest(f"the {topic} payload does not match Shopify's format: {exc}") from None
    except msgspec.DecodeError as exc:
        raise InvalidRequest(f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise InvalidRequest("the body is nested too deeply to be a Shopify webhook") from None


def _handler(topic: str, payload: dict[str, Any], trust: bool) -> Callable[["Desk", Account], Awaitable[tuple[list[Event], Any]]]:
    """Normalize now (a malformed payload answers 400 before anything is stored); store later."""
    try:
        if topic in ORDER_TOPICS:
            order = rest_order(payload)
            if not order["legacy_id"]:
                raise InvalidRequest("the order payload has no id")
            return lambda desk, account: _on_order(account, order, trust)
        if topic in FULFILLMENT_TOPICS:
            fulfillment = rest_fulfillment(payload)
            order_id = legacy(payload.get("order_id"))
            if not fulfillment["id"] or not order_id:
                raise InvalidRequest("the fulfillment payload needs id and order_id")
            return lambda desk, account: _on_fulfillment(account, fulfillment, order_id, trust)
        if topic == "refunds/create":
            refund = rest_refund(payload)
            order_id = legacy(payload.get("order_id"))
            if not refund["id"] or not order_id:
                raise InvalidRequest("the refund payload needs id and order_id")
            return lambda desk, account: _on_refund(account, refund, order_id, trust)
        if topic in CUSTOMER_TOPICS:
            customer = rest_customer(payload)
            if not customer or not customer["id"]:
                raise InvalidRequest("the customer payload has no id")
            return lambda desk, account: _on_customer(account, customer, trust)
    except (AttributeError, TypeError, ValueError) as exc:
        raise InvalidRequest(f"the {topic} payload is malformed: {exc}") from None
    if topic == "customers/data_request":
        return lambda desk, account: privacy.data_request(desk, account, payload)
    if topic == "customers/redact":
        return lambda desk, account: privacy.redact_customer(desk, account, payload)
    return lambda desk, account: privacy.redact_shop(desk, account, payload)


async def _received(account: Account, webhook_id: str) -> bool:
    return await ShopifyWebhook.exists().where(
        (ShopifyWebhook.account == account.id) & (ShopifyWebhook.webhook_id == webhook_id[:128]))


def _applier(account: Account, webhook_id: str, topic: str, handler: Any, meta: dict[str, Any]) -> Any:
    async def apply(desk: "Desk") -> None:
        events: list[Event] = []
        after: Any = None
        for attempt in range(3):
            try:
                async with db.transaction():
                    if await _received(account, webhook_id):
                        log.info("replayed Shopify webhook %s (%s) ignored", webhook_id, topic)
                        return
                    # The receipt first: a concurrent delivery of the same webhook waits on its
                    # unique key and then finds it, instead of redoing the work.
                    await ShopifyWebhook.insert(ShopifyWebhook(account=account.id, webhook_id=webhook_id[:128],
                                                               topic=topic[:64]))
                    events, after = await handler(desk, account)
                break
            except Exception as exc:
                # Deliveries racing on PostgreSQL (the same webhook twice, or orders/paid beside
                # orders/updated of one order) hit a unique index. If this webhook's receipt is now
                # there, the other delivery did the work; otherwise run again: the winner's rows are
                # visible now, so the retry updates instead of inserting.
                text = f"{type(exc).__name__} {exc}".lower()
                if not ("unique" in text or "duplicate key" in text):
                    raise
                if await _received(account, webhook_id):
                    return
                if attempt == 2:
                    raise
        if after is not None:  # work that must follow the commit (removing erased files)
            await after()
        for event in events:
            event.data.setdefault("webhook", meta)
        await publish(desk, events)

    return apply


async def _on_order(account: Account, order: dict[str, Any], trust: bool) -> tuple[list[Event], Any]:
    row_id, changes = await cache.upsert_order(account, order, trust_verified=trust)
    return await _fulfillment_events(account, row_id, changes), None


async def _on_fulfillment(account: Account, fulfillment: dict[str, Any], order_id: str, trust: bool) -> tuple[list[Event], Any]:
    row_id, changes = await cache.add_fulfillment(account, fulfillment, order_id, trust)
    return await _fulfillment_events(account, row_id, changes), None


async def _on_refund(account: Account, refund: dict[str, Any], order_id: str, trust: bool) -> tuple[list[Event], Any]:
    row_id = await cache.add_refund(account, refund, order_id, trust)
    order = await _order_summary(row_id)
    ticket = await cache.ticket_for_order(row_id, order["customer"])
    return [Event(name="shopify.refund_created", ticket_id=ticket, actor=f"shopify:{account.name}",
                  data={**_event_base(account, order), "refund": refund})], None


async def _on_customer(account: Account, customer: dict[str, Any], trust: bool) -> tuple[list[Event], Any]:
    await cache.relink_customer_orders(account, customer, trust)
    return [], None


async def _order_summary(row_id: int) -> dict[str, Any]:
    from plugins.shopify.tables import ShopifyOrder

    row = await ShopifyOrder.select(ShopifyOrder.id, ShopifyOrder.order_id, ShopifyOrder.name,
                                    ShopifyOrder.customer).where(ShopifyOrder.id == row_id).first()
    return row


def _event_base(account: Account, order: dict[str, Any]) -> dict[str, Any]:
    return {"account": account.name, "order_row": order["id"], "order_id": order["order_id"],
            "order_name": order["name"], "customer_id": order["customer"]}


async def _fulfillment_events(account: Account, row_id: int, changes: list[dict[str, Any]]) -> list[Event]:
    if not changes:
        return []
    order = await _order_summary(row_id)
    ticket = await cache.ticket_for_order(row_id, order["customer"])
    events = []
    for change in changes:
        f = change["fulfillment"]
        tracking = f.get("tracking") or []
        events.append(Event(
            name=f"shopify.fulfillment_{change['kind']}", ticket_id=ticket, actor=f"shopify:{account.name}",
            data={**_event_base(account, order), "fulfillment_id": f.get("id"), "status": f.get("status"),
                  "shipment_status": f.get("shipment_status"),
                  "tracking_url": next((t["url"] for t in tracking if t.get("url")), None),
                  "tracking_number": next((t["number"] for t in tracking if t.get("number")), None),
                  "carrier": next((t["company"] for t in tracking if t.get("company")), None)},
        ))
    return events
