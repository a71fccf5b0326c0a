"""The Admin GraphQL client against the loopback Shopify: cost-based throttling and retries."""

from __future__ import annotations

import pytest

from plugins.shopify.client import AdminClient, ShopifyError, UserErrors
from plugins.shopify.settings import ShopifyAccountSettings
from tests.plugins.shopify.fake_shopify import TOKEN, FakeShopify, Failure, make_order

pytestmark = pytest.mark.asyncio(loop_scope="session")


def settings(url: str, **extra) -> ShopifyAccountSettings:
    return ShopifyAccountSettings(shop="t.myshopify.com", access_token=extra.pop("token", TOKEN),
                                  webhook_secret="s", base_url=url, **extra)


@pytest.fixture
def slow_bucket():
    # 100 points, refilling at 200/s: two 60-point queries in a row cannot both fit at once.
    server = FakeShopify(maximum=100, restore_rate=200, costs={"RelaydeskOrder": 60}).start()
    server.add(make_order(1001, email="a@example.com", updated_at="2026-11-20T10:00:00Z"))
    yield server
    server.stop()


async def test_pinned_version_endpoint_and_token(fake):
    fake.add(make_order(1001, email="a@example.com", updated_at="2026-11-20T10:00:00Z"))
    async with AdminClient(settings(fake.url, api_version="2025-04")) as client:
        from plugins.shopify import queries

        data = await client.graphql(queries.ORDER, {"id": "gid://shopify/Order/6001"})
    assert data["order"]["name"] == "#1001"
    assert fake.requests[-1]["path"] == "/admin/api/2025-04/graphql.json"
    assert fake.requests[-1]["token"] == TOKEN


async def test_waits_for_the_bucket_instead_of_being_throttled(slow_bucket):
    from plugins.shopify import queries

    async with AdminClient(settings(slow_bucket.url)) as client:
        await client.graphql(queries.ORDER, {"id": "gid://shopify/Order/6001"})  # learns the cost: 60, 40 left
        await client.graphql(queries.ORDER, {"id": "gid://shopify/Order/6001"})
        await client.graphql(queries.ORDER, {"id": "gid://shopify/Order/6001"})
    assert slow_bucket.throttled == 0  # it waited for restoreRate to refill the bucket
    assert client.waited > 0
    assert client.bucket is not None and client.bucket.maximum == 100 and client.bucket.restore_rate == 200


async def test_throttled_error_is_retried_after_the_bucket_refills(slow_bucket):
    from plugins.shopify import queries

    slow_bucket.drain()  # another app on the store drained the bucket just now
    async with AdminClient(settings(slow_bucket.url)) as client:
        data = await client.graphql(queries.ORDER, {"id": "gid://shopify/Order/6001"})
    assert data["order"]["name"] == "#1001"
    assert slow_bucket.throttled >= 1
    assert client.attempts == slow_bucket.throttled + 1


async def test_429_waits_retry_after_and_5xx_backs_off(fake):
    from plugins.shopify import queries

    fake.add(make_order(1001, email="a@example.com", updated_at="2026-11-20T10:00:00Z"))
    fake.failures += [Failure(429, {"errors": "Exceeded 2 calls per second for api client."}, {"Retry-After": "0.05"}),
                      Failure(503, {"errors": "Service Unavailable"})]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async with AdminClient(settings(fake.url), sleep=sleep) as client:
        data = await client.graphql(queries.ORDER, {"id": "gid://shopify/Order/6001"})
    assert data["order"]["name"] == "#1001"
    assert waits == [0.05, 1.0]  # Retry-After, then the backoff of a second failed attempt
    assert len(fake.requests) == 3


async def test_gives_up_after_max_attempts_with_a_retryable_error(fake):
    from plugins.shopify import queries

    fake.failures += [Failure(500) for _ in range(3)]

    async def sleep(seconds: float) -> None:
        return None

    async with AdminClient(settings(fake.url, max_attempts=3), sleep=sleep) as client:
        with pytest.raises(ShopifyError) as info:
            await client.graphql(queries.ORDER, {"id": "gid://shopify/Order/1"})
    assert info.value.retryable and info.value.platform_code == "500"
    assert len(fake.requests) == 3


async def test_bad_token_is_not_retried(fake):
    from plugins.shopify import queries

    async with AdminClient(settings(fake.url, token="wrong")) as client:
        with pytest.raises(ShopifyError) as info:
            await client.graphql(queries.ORDER, {"id": "gid://shopify/Order/1"})
    assert not info.value.retryable and info.value.platform_code == "401"
    assert "Invalid API key" in info.value.message
    assert len(fake.requests) == 1


async def test_user_errors_come_back_verbatim(fake):
    from plugins.shopify import queries

    errors = [{"field": ["webhookSubscription", "callbackUrl"], "message": "Address for this topic has already been taken"}]
    fake.user_errors["webhookSubscriptionCreate"] = errors
    async with AdminClient(settings(fake.url)) as client:
        with pytest.raises(UserErrors) as info:
            await client.mutate(queries.WEBHOOK_SUBSCRIPTION_CREATE, {
                "topic": "ORDERS_CREATE", "webhookSubscription": {"callbackUrl": "https://x/hooks", "format": "JSON"}},
                "webhookSubscriptionCreate")
    assert info.value.errors == errors
    assert "Address for this topic has already been taken" in info.value.message
