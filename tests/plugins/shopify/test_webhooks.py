"""Webhooks: HMAC over the raw body, replay dedupe, order cache updates, events."""

from __future__ import annotations

import json
from typing import Any

from core.plugins import hookimpl
from core.tables import Customer, Identity
from plugins.shopify.tables import ShopifyFulfillment, ShopifyOrder, ShopifyWebhook
from tests.helpers import client_for
from tests.plugins.shopify.conftest import corpus, post_webhook, shopify_config, webhook


def order_payload(**changes: Any) -> dict[str, Any]:
    order = corpus("order.json", "order")
    order.update(changes)
    return order


async def test_it_loads_and_registers(shop_desk):
    registry = shop_desk.registry
    assert "shopify" in registry.plugin_names()
    assert {a.name for a in registry.accounts.values() if a.plugin == "shopify"} == {"main", "second"}
    assert registry.account("shopify", "main").settings.api_version == "2025-01"
    assert "shopify.no_tracking_sweep" in registry.jobs
    assert ("shopify", registry.migrations[0][1]) in registry.migrations
    assert any(getattr(c, "name", "") == "shopify" for c in registry.commands)


async def test_order_webhook_is_verified_and_cached(shop_desk):
    async with client_for(shop_desk) as client:
        response = await post_webhook(client, "orders/create", order_payload(), webhook_id="wh-1")
    assert response.status_code == 200, response.text
    row = await ShopifyOrder.select().output(load_json=True).where(ShopifyOrder.order_id == "450789469").first()
    assert row["name"] == "#1001" and row["email"] == "bob.norman@hostmail.com"
    assert row["financial_status"] == "authorized" and str(row["total"]) == "409.94"
    data = row["data"]
    assert [li["sku"] for li in data["line_items"]] == ["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]
    assert data["fulfillments"][0]["tracking"][0]["number"] == "1Z2345"
    # The Shopify customer became an identity of a Relaydesk customer, its verified email verified.
    identity = await Identity.select().where(Identity.channel_type == "shopify").first()
    assert identity["handle"] == "relaydesk-test.myshopify.com#207119551"
    assert identity["email"] == "bob.norman@hostmail.com" and identity["email_verified"] is True
    assert row["customer"] == identity["customer"]
    assert await ShopifyFulfillment.count() == 1


async def test_forged_signature_is_refused_and_stores_nothing(shop_desk):
    body, headers = webhook("orders/create", order_payload(), webhook_id="wh-forged", secret="not-the-secret")
    async with client_for(shop_desk) as client:
        forged = await client.post("/hooks/shopify/main", content=body, headers=headers)
        # a valid signature over other bytes: the body was tampered with after signing
        body2, headers2 = webhook("orders/create", order_payload(), webhook_id="wh-tamper")
        tampered = await client.post("/hooks/shopify/main", content=body2.replace(b"409.94", b"0.01"), headers=headers2)
        missing = await client.post("/hooks/shopify/main", content=body2,
                                    headers={k: v for k, v in headers2.items() if k != "x-shopify-hmac-sha256"})
    assert forged.status_code == 401 and forged.json()["error"]["code"] == "signature_invalid"
    assert tampered.status_code == 401 and missing.status_code == 401
    assert await ShopifyOrder.count() == 0 and await ShopifyWebhook.count() == 0


async def test_replayed_webhook_changes_nothing(shop_desk):
    first = order_payload(note="first")
    async with client_for(shop_desk) as client:
        assert (await post_webhook(client, "orders/updated", first, webhook_id="wh-replay")).status_code == 200
        await ShopifyOrder.update({ShopifyOrder.financial_status: "edited-locally"}).where(ShopifyOrder.id > 0)
        again = await post_webhook(client, "orders/updated", first, webhook_id="wh-replay")
    assert again.status_code == 200
    row = await ShopifyOrder.select().output(load_json=True).first()
    assert row["financial_status"] == "edited-locally"  # the replay did not rewrite the order
    assert await ShopifyWebhook.count() == 1 and await ShopifyOrder.count() == 1


async def test_malformed_and_misrouted_webhooks(shop_desk):
    async with client_for(shop_desk) as client:
        bad_json = await post_webhook(client, "orders/create", b"{not json", webhook_id="wh-bad")
        no_id = await post_webhook(client, "orders/create", {"name": "#1"}, webhook_id="wh-noid")
        other_shop = await post_webhook(client, "orders/create", order_payload(), webhook_id="wh-shop",
                                        shop="someone-else.myshopify.com")
        body, headers = webhook("orders/create", order_payload(), webhook_id="")
        missing_id = await client.post("/hooks/shopify/main", content=body, headers=headers)
        unknown_topic = await post_webhook(client, "products/create", {"id": 1}, webhook_id="wh-product")
    assert bad_json.status_code == 400 and "not valid JSON" in bad_json.json()["error"]["message"]
    assert no_id.status_code == 400 and "no id" in no_id.json()["error"]["message"]
    assert other_shop.status_code == 400 and "someone-else" in other_shop.json()["error"]["message"]
    assert missing_id.status_code == 400 and "Webhook-Id" in missing_id.json()["error"]["message"]
    assert unknown_topic.status_code == 200
    assert await ShopifyOrder.count() == 0


async def test_stores_are_kept_apart(shop_desk):
    async with client_for(shop_desk) as client:
        await post_webhook(client, "orders/create", order_payload(), webhook_id="wh-a")
        await post_webhook(client, "orders/create", order_payload(), webhook_id="wh-a", account="second",
                           shop="second-store.myshopify.com")
    rows = await ShopifyOrder.select(ShopifyOrder.account, ShopifyOrder.customer).output(load_json=True)
    assert len(rows) == 2 and len({r["account"] for r in rows}) == 2


async def test_out_of_order_update_keeps_the_newer_order(shop_desk):
    async with client_for(shop_desk) as client:
        await post_webhook(client, "orders/updated", order_payload(updated_at="2026-11-20T10:00:00Z", note="new"),
                           webhook_id="wh-new")
        await post_webhook(client, "orders/updated", order_payload(updated_at="2026-11-19T10:00:00Z", note="old"),
                           webhook_id="wh-old")
    row = await ShopifyOrder.select(ShopifyOrder.data).output(load_json=True).first()
    assert row["data"]["note"] == "new"


class Recorder:
    def __init__(self) -> None:
        self.events: list[Any] = []

    @hookimpl
    def ticket_event(self, event):
        self.events.append(event)


async def test_fulfillment_and_refund_webhooks_update_the_cache_and_publish_events(make_desk, fake):
    from core.migrate import migrate

    recorder = Recorder()
    desk = await make_desk(shopify_config(fake.url), extra_plugins=[("recorder", recorder)],
                            run_jobs=False)
    await migrate(desk.registry.migrations)
    order = order_payload(fulfillments=[])
    fulfillment = corpus("fulfillment.json", "fulfillment")
    fulfillment.update(tracking_company="UPS", tracking_urls=["https://www.ups.com/track?tracknum=1Z2345"],
                       updated_at="2026-11-20T10:00:00Z")
    refund = corpus("refund.json", "refund")
    async with client_for(desk) as client:
        assert (await post_webhook(client, "orders/paid", order, webhook_id="wh-o")).status_code == 200
        assert (await post_webhook(client, "fulfillments/create", fulfillment, webhook_id="wh-f")).status_code == 200
        fulfillment.update(shipment_status="in_transit", updated_at="2026-11-21T10:00:00Z")
        assert (await post_webhook(client, "fulfillments/update", fulfillment, webhook_id="wh-f2")).status_code == 200
        assert (await post_webhook(client, "refunds/create", refund, webhook_id="wh-r")).status_code == 200
        assert (await post_webhook(client, "refunds/create", refund, webhook_id="wh-r")).status_code == 200  # replay
    row = await ShopifyOrder.select().output(load_json=True).first()
    assert row["data"]["fulfillments"][0]["tracking"][0]["url"] == "https://www.ups.com/track?tracknum=1Z2345"
    assert row["data"]["fulfillments"][0]["shipment_status"] == "in_transit"
    assert row["data"]["refunds"][0]["amount"] == "209.00" and row["data"]["total_refunded"] == "209.00"
    names = [e.name for e in recorder.events]
    assert names == ["shopify.fulfillment_created", "shopify.fulfillment_updated", "shopify.refund_created"]
    created = recorder.events[0]
    assert created.data["order_name"] == "#1001" and created.data["carrier"] == "UPS"
    assert created.data["tracking_url"] == "https://www.ups.com/track?tracknum=1Z2345"
    assert created.data["webhook"]["topic"] == "fulfillments/create"


async def test_customer_webhook_links_the_verified_email(shop_desk):
    customer = corpus("customer.json", "customer")
    async with client_for(shop_desk) as client:
        assert (await post_webhook(client, "customers/create", customer, webhook_id="wh-c")).status_code == 200
        customer["email"] = "Bob.New@Example.com"
        assert (await post_webhook(client, "customers/update", customer, webhook_id="wh-c2")).status_code == 200
    identities = await Identity.select().where(Identity.channel_type == "shopify")
    assert len(identities) == 1 and identities[0]["email"] == "bob.new@example.com"
    assert identities[0]["email_verified"] is True
    assert await Customer.count() == 1


async def test_hmac_is_over_the_raw_bytes(shop_desk):
    """Key order and whitespace matter: re-serialized JSON would not verify."""
    raw = json.dumps(order_payload(), indent=4).encode()
    async with client_for(shop_desk) as client:
        ok = await post_webhook(client, "orders/create", raw, webhook_id="wh-raw")
        body, headers = webhook("orders/create", raw, webhook_id="wh-raw2")
        compact = json.dumps(json.loads(body)).encode()
        refused = await client.post("/hooks/shopify/main", content=compact, headers=headers)
    assert ok.status_code == 200 and refused.status_code == 401


async def test_concurrent_duplicate_deliveries_store_once(shop_desk):
    import asyncio

    async with client_for(shop_desk) as client:
        responses = await asyncio.gather(
            post_webhook(client, "orders/paid", order_payload(financial_status="paid"), webhook_id="wh-race-2"),
            post_webhook(client, "orders/updated", order_payload(financial_status="paid"), webhook_id="wh-race-3"),
            *[post_webhook(client, "orders/create", order_payload(), webhook_id="wh-race") for _ in range(5)])
    assert [r.status_code for r in responses] == [200] * 7
    assert await ShopifyOrder.count() == 1 and await ShopifyWebhook.count() == 3
    assert await Identity.count().where(Identity.channel_type == "shopify") == 1
