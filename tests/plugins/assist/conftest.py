"""Fixtures for the assist plugin: a desk with the API channel, the Shopify plugin against its
loopback Admin API, and assist; helpers that put an order with tracking in the cache through the
documented webhook."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import pytest
import pytest_asyncio

from core import clock
from core.migrate import migrate
from tests.conftest import allow_loopback
from tests.plugins.shopify.conftest import corpus, shopify_config
from tests.plugins.shopify.fake_shopify import TOKEN, FakeShopify

NOW = datetime(2026, 12, 2, 9, 30, tzinfo=timezone.utc)  # the controlled clock of these tests


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_SHOPIFY_TOKEN", TOKEN)
    monkeypatch.setenv("TEST_SHOPIFY_SECRET", "shpss_test_client_secret")


@pytest.fixture
def frozen_clock() -> Any:
    clock.set_clock(lambda: NOW)
    yield NOW
    clock.set_clock(None)


@pytest.fixture
def fake_shopify() -> Any:
    server = FakeShopify().start()
    yield server
    server.stop()


def assist_shop_config(fake_url: str, callback_url: str | None = None, **assist: Any) -> Callable[[dict[str, Any]], None]:
    shop = shopify_config(fake_url)

    def configure(config: dict[str, Any]) -> None:
        shop(config)
        config["plugins"]["enabled"].append("assist")
        config["plugins"]["assist"] = assist
        main = config["plugins"]["api_channel"]["accounts"]["main"]
        main["trust_contact_details"] = True  # the sender's email links them to their Shopify orders
        if callback_url:
            main["callback_url"] = callback_url
            allow_loopback(config)

    return configure


@pytest_asyncio.fixture(loop_scope="session")
async def make_assist_desk(make_desk: Callable[..., Any], fake_shopify: FakeShopify) -> Callable[..., Any]:
    async def build(callback_url: str | None = None, **assist: Any) -> Any:
        desk = await make_desk(assist_shop_config(fake_shopify.url, callback_url, **assist), run_jobs=False)
        await migrate(desk.registry.migrations)  # the core's ran; this adds shopify's and assist's
        return desk

    return build


def shipped_order(*, shipment_status: str | None = "in_transit", days_ago: int = 2, eta_in_days: int | None = 3,
                  **changes: Any) -> dict[str, Any]:
    """Shopify's documented sample order (bob.norman@hostmail.com, #1001, UPS 1Z2345), fulfilled."""
    order = corpus("order.json", "order")
    fulfillment = order["fulfillments"][0]
    fulfillment.update(status="success", tracking_company="UPS", shipment_status=shipment_status,
                       created_at=(NOW - timedelta(days=days_ago)).isoformat())
    fulfillment["estimated_delivery_at"] = (NOW + timedelta(days=eta_in_days)).isoformat() if eta_in_days is not None else None
    order.update(fulfillment_status="fulfilled", financial_status="paid")
    order.update(changes)
    return order
