"""Fixtures for the Shopify plugin: a loopback Shopify and a desk with two stores pointing at it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest
import pytest_asyncio

from core.migrate import migrate
from plugins.shopify.webhooks import sign
from tests.plugins.shopify.fake_shopify import TOKEN, FakeShopify

CORPUS = Path("/work/shared/corpora/shopify/rest-fixtures")
SECRET = "shpss_test_client_secret"
SHOP = "relaydesk-test.myshopify.com"
OTHER_SHOP = "second-store.myshopify.com"


def corpus(name: str, key: str) -> dict[str, Any]:
    """A documented sample payload from the shared corpus, unwrapped as webhooks send it."""
    return json.loads((CORPUS / name).read_text(encoding="utf-8"))[key]


@pytest.fixture(autouse=True)
def _shopify_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_SHOPIFY_TOKEN", TOKEN)
    monkeypatch.setenv("TEST_SHOPIFY_SECRET", SECRET)


@pytest.fixture
def fake() -> Any:
    server = FakeShopify().start()
    yield server
    server.stop()


def shopify_config(fake_url: str, **plugin: Any) -> Callable[[dict[str, Any]], None]:
    def configure(config: dict[str, Any]) -> None:
        config["plugins"]["enabled"] = ["api_channel", "shopify"]
        config["plugins"]["shopify"] = {
            **plugin,
            "accounts": {
                "main": {"shop": SHOP, "access_token": {"env": "TEST_SHOPIFY_TOKEN"},
                         "webhook_secret": {"env": "TEST_SHOPIFY_SECRET"}, "api_version": "2025-01",
                         "base_url": fake_url, "max_wait_seconds": 5},
                "second": {"shop": OTHER_SHOP, "access_token": {"env": "TEST_SHOPIFY_TOKEN"},
                           "webhook_secret": {"env": "TEST_SHOPIFY_SECRET"}, "base_url": fake_url},
            },
        }
    return configure


@pytest_asyncio.fixture(loop_scope="session")
async def shop_desk(make_desk: Callable[..., Any], fake: FakeShopify) -> Any:
    # run_jobs=False: tests call the sweep themselves; a periodic run at start would race the migration
    desk = await make_desk(shopify_config(fake.url), run_jobs=False)
    await migrate(desk.registry.migrations)  # the core's are applied; this adds the plugin's
    return desk


def webhook(topic: str, payload: dict[str, Any] | bytes, *, webhook_id: str, shop: str = SHOP,
            secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return body, {
        "content-type": "application/json", "x-shopify-topic": topic, "x-shopify-hmac-sha256": sign(secret, body),
        "x-shopify-shop-domain": shop, "x-shopify-webhook-id": webhook_id, "x-shopify-api-version": "2025-01",
        "x-shopify-event-id": f"evt-{webhook_id}", "x-shopify-triggered-at": "2026-11-23T18:00:00.000Z",
    }


async def post_webhook(client: Any, topic: str, payload: Any, *, webhook_id: str, account: str = "main", **kw: Any) -> Any:
    body, headers = webhook(topic, payload, webhook_id=webhook_id, **kw)
    return await client.post(f"/hooks/shopify/{account}", content=body, headers=headers)
