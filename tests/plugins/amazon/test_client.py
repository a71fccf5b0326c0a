"""The SP-API client against the loopback SP-API: Login with Amazon refresh and expiry, restricted
data tokens, the documented per-operation rate limits, 429 backoff and Amazon's error bodies."""

from __future__ import annotations

import json

import msgspec
import pytest

from plugins.amazon.client import SpApiClient, SpApiError
from plugins.amazon.settings import AmazonAccountSettings
from tests.plugins.amazon.conftest import DE, account_settings
from tests.plugins.amazon.fake_spapi import CLIENT_SECRET, REFRESH_TOKEN, make_order

pytestmark = pytest.mark.asyncio(loop_scope="session")


def settings(fake, **extra) -> AmazonAccountSettings:
    values = account_settings(fake.url, **extra)
    values["lwa_client_secret"] = CLIENT_SECRET
    values["refresh_token"] = REFRESH_TOKEN
    return msgspec.convert(values, AmazonAccountSettings)


def client(fake, clock, **extra) -> SpApiClient:
    return SpApiClient(settings(fake, **extra), sleep=clock.sleep, clock=clock)


async def test_lwa_token_is_refreshed_once_and_renewed_before_it_expires(fake, clock):
    fake.add_order(make_order("302-0000001-0000001", updated="2026-11-20T10:00:00Z"))
    api = client(fake, clock)
    try:
        for _ in range(3):
            await api.get_orders([DE], "2026-11-01T00:00:00Z")
        lwa = fake.calls("/auth/o2/token")
        assert len(lwa) == 1 and api.token_refreshes == 1
        form = dict(pair.split("=", 1) for pair in lwa[0].body.decode().split("&"))
        assert form["grant_type"] == "refresh_token" and form["client_id"].startswith("amzn1.application-oa2-client")
        tokens = {s.headers["x-amz-access-token"] for s in fake.calls("/orders/v0/orders")}
        assert len(tokens) == 1 and next(iter(tokens)).startswith("Atza|")
        clock.advance(3600 - 90)  # still valid for 90 s: used as is
        await api.get_orders([DE], "2026-11-01T00:00:00Z")
        assert len(fake.calls("/auth/o2/token")) == 1
        clock.advance(45)  # within the last minute: renewed before Amazon would refuse it
        await api.get_orders([DE], "2026-11-01T00:00:00Z")
        assert len(fake.calls("/auth/o2/token")) == 2
        assert all(s.status == 200 for s in fake.calls("/orders/v0/orders"))
    finally:
        await api.close()


async def test_a_revoked_access_token_is_replaced_once(fake, clock):
    fake.add_order(make_order("302-0000001-0000001", updated="2026-11-20T10:00:00Z"))
    api = client(fake, clock)
    try:
        await api.get_orders([DE], "2026-11-01T00:00:00Z")
        fake.access_tokens.clear()  # Amazon forgets it (revoked, or expired early)
        payload = await api.get_orders([DE], "2026-11-01T00:00:00Z")
        assert [o["AmazonOrderId"] for o in payload["Orders"]] == ["302-0000001-0000001"]
        assert [s.status for s in fake.calls("/orders/v0/orders")] == [200, 403, 200]
        assert len(fake.calls("/auth/o2/token")) == 2
    finally:
        await api.close()


async def test_a_bad_refresh_token_fails_for_good_with_lwa_reason(fake, clock):
    api = SpApiClient(msgspec.convert({**account_settings(fake.url), "lwa_client_secret": CLIENT_SECRET,
                                       "refresh_token": "Atzr|wrong"}, AmazonAccountSettings),
                      sleep=clock.sleep, clock=clock)
    try:
        with pytest.raises(SpApiError) as caught:
            await api.get_orders([DE], "2026-11-01T00:00:00Z")
        assert caught.value.retryable is False and caught.value.platform_code == "invalid_grant"
        assert fake.calls("/orders/v0/orders") == []
    finally:
        await api.close()


async def test_restricted_data_token_reads_buyer_details(fake, clock):
    fake.add_order(make_order("302-0000001-0000001", updated="2026-11-20T10:00:00Z",
                              buyer_email="qz8lwz3k7fk1xyz@marketplace.amazon.de"))
    api = client(fake, clock)
    try:
        plain = await api.get_orders([DE], "2026-11-01T00:00:00Z")
        assert "BuyerInfo" not in plain["Orders"][0]  # an LWA token alone gets no PII
        for _ in range(2):
            full = await api.get_orders([DE], "2026-11-01T00:00:00Z", buyer_info=True)
            assert full["Orders"][0]["BuyerInfo"]["BuyerEmail"] == "qz8lwz3k7fk1xyz@marketplace.amazon.de"
        rdt_calls = fake.calls("/tokens/2021-03-01/restrictedDataToken")
        assert len(rdt_calls) == 1  # cached for its expiresIn
        assert json.loads(rdt_calls[0].body) == {"restrictedResources": [
            {"method": "GET", "path": "/orders/v0/orders", "dataElements": ["buyerInfo", "shippingAddress"]}]}
        assert rdt_calls[0].headers["x-amz-access-token"].startswith("Atza|")
        order_calls = fake.calls("/orders/v0/orders")
        assert order_calls[1].headers["x-amz-access-token"].startswith("Atz.sprdt|")
    finally:
        await api.close()


async def test_429_waits_the_documented_refill_interval(fake, clock):
    fake.add_order(make_order("302-0000001-0000001", updated="2026-11-20T10:00:00Z"))
    fake.plans["getOrders"] = (0.0167, 1)  # Amazon's bucket holds one request right now
    api = client(fake, clock, max_wait_seconds=120)
    try:
        await api.get_orders([DE], "2026-11-01T00:00:00Z")
        await api.get_orders([DE], "2026-11-01T00:00:00Z")
        statuses = [s.status for s in fake.calls("/orders/v0/orders")]
        assert statuses == [200, 429, 200]
        throttled = fake.calls("/orders/v0/orders")[1]
        assert throttled.status == 429
        # One refill interval at 0.0167 requests per second: about 60 seconds, not a hammering retry.
        assert len(clock.slept) == 1 and 59.8 <= clock.slept[0] <= 61
        assert api.buckets["getOrders"].rate == pytest.approx(0.0167)
    finally:
        await api.close()


async def test_429_beyond_the_wait_budget_is_retryable_with_retry_after(fake, clock):
    fake.add_order(make_order("302-0000001-0000001", updated="2026-11-20T10:00:00Z"))
    fake.plans["getOrders"] = (0.0167, 1)
    api = client(fake, clock, max_wait_seconds=5)
    try:
        await api.get_orders([DE], "2026-11-01T00:00:00Z")
        with pytest.raises(SpApiError) as caught:
            await api.get_orders([DE], "2026-11-01T00:00:00Z")
        error = caught.value
        assert error.retryable and error.platform_code == "QuotaExceeded" and error.retry_after >= 59
        assert error.errors == [{"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource.",
                                 "details": ""}]
        assert clock.slept == []
    finally:
        await api.close()


async def test_the_client_paces_itself_by_the_bucket(fake, clock):
    fake.add_order(make_order("302-0000001-0000001", updated="2026-11-20T10:00:00Z"), actions=["unexpectedProblem"])
    api = client(fake, clock, max_wait_seconds=30)
    try:
        for _ in range(7):  # getMessagingActionsForOrder: 1 per second, burst 5
            assert await api.messaging_actions("302-0000001-0000001", DE) == ["unexpectedProblem"]
        assert all(s.status == 200 for s in fake.calls("/messaging/v1/orders/"))
        assert len(clock.slept) == 2 and all(0.9 <= s <= 1.1 for s in clock.slept)
    finally:
        await api.close()


async def test_5xx_is_retried_and_4xx_errors_come_back_verbatim(fake, clock):
    fake.add_order(make_order("302-0000001-0000001", updated="2026-11-20T10:00:00Z"))
    api = client(fake, clock)
    try:
        fake.failures.append((503, {"errors": [{"code": "ServiceUnavailable", "message": "Try later", "details": ""}]}))
        payload = await api.get_orders([DE], "2026-11-01T00:00:00Z")
        assert payload["Orders"] and [s.status for s in fake.calls("/orders/v0/orders")] == [503, 200]
        with pytest.raises(SpApiError) as caught:
            await api.call("getOrders", "GET", "/orders/v0/orders", params={"MarketplaceIds": DE})
        assert caught.value.retryable is False and caught.value.status == 400
        assert caught.value.errors == [{"code": "InvalidInput",
                                        "message": "Either CreatedAfter or LastUpdatedAfter must be specified", "details": ""}]
    finally:
        await api.close()
