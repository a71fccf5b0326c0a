"""The Selling Partner API client: Login with Amazon tokens, restricted data tokens, per-operation
rate limits, retries.

Authentication. Every call carries an LWA access token in ``x-amz-access-token``. The client
exchanges the seller's refresh token at the LWA endpoint (``grant_type=refresh_token``,
``client_id``, ``client_secret``; the answer has ``access_token`` and ``expires_in``, one hour) and
keeps the token until a minute before it expires. A 403 that says the token is invalid or expired
drops it and retries once with a fresh one. Restricted operations (buyer name and anonymised email,
the shipping address) take a Restricted Data Token instead, made by the Tokens API
(``POST /tokens/2021-03-01/restrictedDataToken`` with ``restrictedResources`` of method, path and
``dataElements``) and cached for its ``expiresIn``.

Rate limits. SP-API limits each operation with a token bucket (rate per second, burst). The client
keeps one bucket per operation, starting from the documented usage plan (OPERATIONS) and following
the ``x-amzn-RateLimit-Limit`` header when Amazon sends it; before a call it waits for a token. A
429 (``QuotaExceeded``) empties the bucket, so the retry waits one full refill interval (60 s for
getOrders at 0.0167/s) or an exponential backoff, whichever is longer. 5xx and network errors back
off exponentially. A wait longer than ``max_wait_seconds`` is not slept: the call raises a
retryable SpApiError with ``retry_after`` so a job can come back later. Errors keep Amazon's
``{"errors": [{"code", "message", "details"}]}`` verbatim.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

import httpx

from core.plugin_api import ChannelError
from plugins.amazon.settings import AmazonAccountSettings

log = logging.getLogger("relaydesk.amazon.client")

Sleep = Callable[[float], Awaitable[None]]

# Documented default usage plans (requests per second, burst), from the API models.
OPERATIONS: dict[str, tuple[float, int]] = {
    "getOrders": (0.0167, 20),
    "getOrder": (0.5, 30),
    "getOrderItems": (0.5, 30),
    "getOrderBuyerInfo": (0.5, 30),
    "getOrderAddress": (0.5, 30),
    "createRestrictedDataToken": (1.0, 10),
    "getMessagingActionsForOrder": (1.0, 5),
    "getAttributes": (1.0, 5),
    "sendMessage": (1.0, 5),  # every Messaging API send operation has the same plan
}
# A bucket refilled exactly to one token may still read 0.9999 at Amazon's end: wait a little longer.
MARGIN = 0.05
TOKEN_MARGIN = 60.0  # renew an access token or RDT this long before Amazon says it expires


class SpApiError(ChannelError):
    """Amazon refused or failed a request. `errors` keeps Amazon's error objects verbatim."""

    def __init__(self, message: str, *, retryable: bool = False, platform_code: str | None = None,
                 errors: list[dict[str, Any]] | None = None, retry_after: float | None = None,
                 status: int | None = None) -> None:
        super().__init__(message, retryable=retryable, platform_code=platform_code, retry_after=retry_after)
        self.errors = errors or []
        self.status = status


@dataclass
class Bucket:
    """One operation's token bucket as we believe Amazon keeps it."""

    rate: float
    burst: float
    tokens: float
    at: float

    def refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now

    def wait_for_token(self, now: float) -> float:
        self.refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate + MARGIN


@dataclass
class _Token:
    value: str
    expires_at: float


class SpApiClient:
    """One seller account's SP-API. Reuse one per account: tokens and buckets live here."""

    def __init__(self, settings: AmazonAccountSettings, *, sleep: Sleep | None = None,
                 clock: Callable[[], float] | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self._sleep = sleep or asyncio.sleep
        self._clock = clock or time.monotonic
        self._access: _Token | None = None
        self._rdts: dict[tuple[Any, ...], _Token] = {}
        self._lock = asyncio.Lock()
        self.buckets: dict[str, Bucket] = {}
        self.waits: list[float] = []  # every wait, for metrics and tests
        self.token_refreshes = 0
        self._http = httpx.AsyncClient(timeout=settings.timeout_seconds, transport=transport,
                                       headers={"User-Agent": "Relaydesk (Language=Python)",
                                                "Accept": "application/json"})

    async def close(self) -> None:
        await self._http.aclose()

    # --- tokens -------------------------------------------------------------------------------

    async def access_token(self) -> str:
        async with self._lock:
            now = self._clock()
            if self._access and self._access.expires_at - TOKEN_MARGIN > now:
                return self._access.value
            data = await self._lwa()
            self.token_refreshes += 1
            self._access = _Token(str(data["access_token"]), now + float(data.get("expires_in") or 3600))
            return self._access.value

    async def _lwa(self) -> dict[str, Any]:
        form = {"grant_type": "refresh_token", "refresh_token": self.settings.refresh_token,
                "client_id": self.settings.lwa_client_id, "client_secret": self.settings.lwa_client_secret}
        for attempt in range(1, self.settings.max_attempts + 1):
            try:
                response = await self._http.post(self.settings.lwa_url, data=form)
            except httpx.HTTPError as exc:
                if attempt == self.settings.max_attempts:
                    raise SpApiError(f"Login with Amazon could not be reached: {type(exc).__name__}", retryable=True) from None
                await self._wait(_backoff(attempt))
                continue
            if response.status_code == 429 or response.status_code >= 500:
                if attempt == self.settings.max_attempts:
                    raise SpApiError(f"Login with Amazon answered {response.status_code}", retryable=True,
                                     platform_code=str(response.status_code), status=response.status_code)
                await self._wait(_backoff(attempt))
                continue
            body = _json(response)
            if response.status_code != 200 or "access_token" not in body:
                code = str(body.get("error") or response.status_code)
                raise SpApiError(f"Login with Amazon refused the refresh token: {code}: "
                                 f"{body.get('error_description') or response.text[:200]}",
                                 retryable=False, platform_code=code, status=response.status_code)
            return body
        raise AssertionError("unreachable")

    async def restricted_token(self, method: str, path: str, data_elements: list[str] | None = None) -> str:
        """A Restricted Data Token for one restricted resource, cached until shortly before it expires."""
        key = (method, path, tuple(sorted(data_elements or [])))
        now = self._clock()
        cached = self._rdts.get(key)
        if cached and cached.expires_at - TOKEN_MARGIN > now:
            return cached.value
        resource: dict[str, Any] = {"method": method, "path": path}
        if data_elements:
            resource["dataElements"] = list(data_elements)
        body = await self.call("createRestrictedDataToken", "POST", "/tokens/2021-03-01/restrictedDataToken",
                               json={"restrictedResources": [resource]})
        token = body.get("restrictedDataToken")
        if not token:
            raise SpApiError("the Tokens API answered without a restrictedDataToken", retryable=True)
        self._rdts[key] = _Token(str(token), now + float(body.get("expiresIn") or 3600))
        return str(token)

    # --- calls --------------------------------------------------------------------------------

    def bucket(self, operation: str) -> Bucket:
        found = self.buckets.get(operation)
        if found is None:
            rate, burst = OPERATIONS.get(operation, (1.0, 5))
            found = self.buckets[operation] = Bucket(rate, float(burst), float(burst), self._clock())
        return found

    async def _wait(self, seconds: float) -> None:
        if seconds <= 0:
            return
        self.waits.append(seconds)
        await self._sleep(seconds)

    async def call(self, operation: str, method: str, path: str, *, params: Any = None, json: Any = None,
                   restricted: str | None = None) -> dict[str, Any]:
        """Call one operation and return its JSON body. `restricted` is an RDT to use instead of the
        LWA access token. Raises SpApiError."""
        attempts = self.settings.max_attempts
        bucket = self.bucket(operation)
        refreshed = False
        for attempt in range(1, attempts + 1):
            wait = bucket.wait_for_token(self._clock())
            if wait > self.settings.max_wait_seconds:
                raise SpApiError(f"{operation}: the rate limit allows the next call in {wait:.0f}s",
                                 retryable=True, platform_code="QuotaExceeded", retry_after=wait)
            await self._wait(wait)
            bucket.refill(self._clock())
            bucket.tokens = max(0.0, bucket.tokens - 1)
            token = restricted or await self.access_token()
            try:
                response = await self._http.request(method, self.settings.api_base + path, params=params, json=json,
                                                    headers={"x-amz-access-token": token})
            except httpx.HTTPError as exc:
                if attempt == attempts:
                    raise SpApiError(f"{operation}: Amazon could not be reached: {type(exc).__name__}: {exc}",
                                     retryable=True) from None
                await self._wait(_backoff(attempt))
                continue
            self._follow_limit(bucket, response.headers.get("x-amzn-ratelimit-limit"))
            if response.status_code == 429:
                bucket.tokens = 0.0
                bucket.at = self._clock()
                wait = max(1.0 / bucket.rate + MARGIN, _backoff(attempt))
                if attempt == attempts or wait > self.settings.max_wait_seconds:
                    raise SpApiError(f"{operation}: Amazon is throttling this seller (429 QuotaExceeded)",
                                     retryable=True, platform_code="QuotaExceeded", retry_after=wait,
                                     errors=_errors(response), status=429)
                await self._wait(wait)
                continue
            if response.status_code >= 500:
                if attempt == attempts:
                    raise SpApiError(f"{operation}: Amazon answered {response.status_code}", retryable=True,
                                     platform_code=str(response.status_code), errors=_errors(response),
                                     status=response.status_code)
                await self._wait(_backoff(attempt))
                continue
            if response.status_code == 403 and not restricted and not refreshed and _token_problem(response):
                self._access = None  # revoked or expired early: one more try with a fresh token
                refreshed = True
                continue
            if response.status_code >= 400:
                errors = _errors(response)
                first = errors[0] if errors else {}
                raise SpApiError(f"{operation}: Amazon answered {response.status_code}: "
                                 f"{first.get('code', '')} {first.get('message', response.text[:200])}".strip(),
                                 retryable=False, platform_code=str(first.get("code") or response.status_code),
                                 errors=errors, status=response.status_code)
            return _json(response) if response.content else {}
        raise SpApiError(f"{operation}: gave up after {attempts} attempts", retryable=True)

    def _follow_limit(self, bucket: Bucket, header: str | None) -> None:
        try:
            rate = float(header) if header else None
        except ValueError:
            return
        if rate and rate > 0 and abs(rate - bucket.rate) > 1e-9:
            bucket.refill(self._clock())
            bucket.rate = rate

    # --- operations ---------------------------------------------------------------------------

    async def get_orders(self, marketplace_ids: list[str], last_updated_after: str, *, next_token: str | None = None,
                         buyer_info: bool = False) -> dict[str, Any]:
        params: list[tuple[str, str]] = [("MarketplaceIds", ",".join(marketplace_ids))]
        if next_token:
            params.append(("NextToken", next_token))
        else:
            params += [("LastUpdatedAfter", last_updated_after), ("MaxResultsPerPage", "100")]
        rdt = await self.restricted_token("GET", "/orders/v0/orders", ["buyerInfo", "shippingAddress"]) if buyer_info else None
        body = await self.call("getOrders", "GET", "/orders/v0/orders", params=params, restricted=rdt)
        return body.get("payload") or {}

    async def get_order_items(self, order_id: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        token = None
        while True:
            params = {"NextToken": token} if token else None
            body = await self.call("getOrderItems", "GET", f"/orders/v0/orders/{order_id}/orderItems", params=params)
            payload = body.get("payload") or {}
            items += payload.get("OrderItems") or []
            token = payload.get("NextToken")
            if not token:
                return items

    async def messaging_actions(self, order_id: str, marketplace_id: str) -> list[str]:
        body = await self.call("getMessagingActionsForOrder", "GET", f"/messaging/v1/orders/{order_id}",
                               params={"marketplaceIds": marketplace_id})
        links = (body.get("_links") or {}).get("actions") or []
        return [str(link.get("name")) for link in links if link.get("name")]

    async def send_message(self, order_id: str, marketplace_id: str, action: str,
                           payload: dict[str, Any] | None) -> dict[str, Any]:
        """One Messaging API send operation; `payload` None for those without a body (negativeFeedbackRemoval)."""
        return await self.call("sendMessage", "POST", f"/messaging/v1/orders/{order_id}/messages/{action}",
                               params={"marketplaceIds": marketplace_id}, json=payload)


def _backoff(attempt: int) -> float:
    return min(60.0, 1.0 * 2 ** (attempt - 1))


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise SpApiError(f"Amazon answered {response.status_code} with a body that is not JSON",
                         retryable=response.status_code >= 500, status=response.status_code) from None
    return body if isinstance(body, dict) else {}


def _errors(response: httpx.Response) -> list[dict[str, Any]]:
    try:
        body = response.json()
    except ValueError:
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def _token_problem(response: httpx.Response) -> bool:
    text = " ".join(f"{e.get('code', '')} {e.get('message', '')}" for e in _errors(response)).lower()
    return "token" in text or "unauthorized" in text
