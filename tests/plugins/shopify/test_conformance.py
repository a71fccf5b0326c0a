"""Shopify's webhooks (order events; the store sends no messages) keep the webhook contract
(relaydesk_testing.conformance.check_webhooks)."""

from __future__ import annotations

import hashlib
import zlib

from plugins.shopify.tables import ShopifyOrder, ShopifyWebhook
from relaydesk_testing.conformance import WebhookCase, check_webhooks
from tests.plugins.shopify.conftest import corpus, shopify_config, webhook


def order_for(key: str) -> dict:
    order = corpus("order.json", "order")
    order["id"] = 820982911946154508 + zlib.crc32(key.encode())
    return order


def headers_for(body: bytes) -> dict[str, str]:
    # Shopify repeats a delivery with the same X-Shopify-Webhook-Id: derive it from the body
    return webhook("orders/create", body, webhook_id="wh-" + hashlib.sha256(body).hexdigest()[:16])[1]


async def stored() -> int:
    return await ShopifyOrder.count() + await ShopifyWebhook.count()


async def test_shopify_webhooks_keep_the_contract(make_desk, fake):
    await check_webhooks(WebhookCase(plugin="shopify", configure=shopify_config(fake.url), payload=order_for,
                                     sign=headers_for, stored=stored), make_desk)
