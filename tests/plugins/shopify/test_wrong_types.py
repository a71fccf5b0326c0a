"""Shopify webhooks with a value of the wrong type (issue 16): a 400 that names the field, and nothing
stored, not even the webhook's receipt (so a corrected delivery is still taken)."""

from __future__ import annotations

from typing import Any

from core.tables import Customer, Identity
from plugins.shopify.tables import ShopifyOrder, ShopifyPrivacyRequest, ShopifyWebhook
from tests.helpers import client_for
from tests.plugins.shopify.conftest import SHOP, corpus, post_webhook


def order(**changes: Any) -> dict[str, Any]:
    body = corpus("order.json", "order")
    body.update(changes)
    return body


CASES: list[tuple[str, Any, str]] = [
    ("customers/data_request", {"shop_id": 1, "shop_domain": SHOP, "customer": "x", "orders_requested": []}, "$.customer"),
    ("customers/data_request", {"shop_id": 1, "shop_domain": SHOP, "customer": {"id": 1}, "data_request": "x"}, "$.data_request"),
    ("customers/redact", {"shop_id": 1, "shop_domain": SHOP, "customer": {"id": 207119551}, "orders_to_redact": "450789469"},
     "$.orders_to_redact"),
    ("customers/redact", {"shop_id": 1, "customer": {"id": {"a": 1}}}, "$.customer.id"),
    ("shop/redact", {"shop_id": "x", "shop_domain": SHOP}, "$.shop_id"),
    ("orders/create", order(customer="x"), "$.customer"),
    ("orders/create", order(line_items={"a": 1}), "$.line_items"),
    ("orders/create", order(total_price={"a": 1}), "$.total_price"),
    ("orders/create", order(total_price="1e30"), "$.total_price"),
    ("orders/create", order(name=["#1"]), "$.name"),
    ("orders/create", order(id="450789469"), "$.id"),
    ("orders/create", order(financial_status="x" * 500), "$.financial_status"),
    ("fulfillments/create", {**corpus("fulfillment.json", "fulfillment"), "tracking_numbers": "1Z"}, "$.tracking_numbers"),
    ("refunds/create", {**corpus("refund.json", "refund"), "transactions": [{"amount": 5}]}, "$.transactions[0].amount"),
    ("customers/update", {"id": 207119551, "email": {"a": 1}}, "$.email"),
    ("orders/create", [1, 2], "object"),
]


async def test_a_wrong_typed_value_is_a_400_naming_the_field_and_nothing_is_stored(shop_desk):
    async with client_for(shop_desk) as client:
        for n, (topic, payload, where) in enumerate(CASES):
            res = await post_webhook(client, topic, payload, webhook_id=f"wh-bad-{n}")
            assert res.status_code == 400, (topic, where, res.text)
            error = res.json()["error"]
            assert error["code"] == "invalid_request" and where in error["message"], (topic, error)
        assert await ShopifyOrder.count() == 0 and await ShopifyWebhook.count() == 0
        assert await Customer.count() == 0 and await Identity.count() == 0 and await ShopifyPrivacyRequest.count() == 0
        # The documented bodies are taken, the corrected redact included.
        assert (await post_webhook(client, "orders/create", order(), webhook_id="wh-ok")).status_code == 200
        fixed = {"shop_id": 1, "shop_domain": SHOP, "customer": {"id": 207119551}, "orders_to_redact": [450789469]}
        assert (await post_webhook(client, "customers/redact", fixed, webhook_id="wh-bad-2")).status_code == 200
    assert await ShopifyOrder.count() == 0  # the redact erased the order it named
    assert await ShopifyPrivacyRequest.count() == 1
