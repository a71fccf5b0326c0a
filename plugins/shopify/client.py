"""The Admin API client: GraphQL over httpx, pinned to the account's API version.

Shopify limits GraphQL by calculated query cost (a leaky bucket per app and store). Every response
carries ``extensions.cost`` with ``requestedQueryCost``, ``actualQueryCost`` and ``throttleStatus``
(``maximumAvailable``, ``currentlyAvailable``, ``restoreRate`` points per second). The client keeps
the last bucket state it saw and, before a query whose cost it knows, waits until the bucket has
refilled enough. It retries what Shopify says is retryable: a ``THROTTLED`` error (after the wait
the bucket needs), HTTP 429 (after ``Retry-After``) and 5xx / network errors (exponential backoff).
Everything else raises ShopifyError at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

import httpx

from core.plugin_api import ChannelError
from plugins.shopify.settings import ShopifyAccountSettings

log = logging.getLogger("relaydesk.shopify.client")

Sleep = Callable[[float], Awaitable[None]]


class ShopifyError(ChannelError):
    """Shopify refused or failed a request. `errors` keeps Shopify's own error objects verbatim."""

    def __init__(self, message: str, *, retryable: bool = False, platform_code: str | None = None,
                 errors: list[dict[str, Any]] | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, retryable=retryable, platform_code=platform_code, retry_after=retry_after)
        self.errors = errors or []


class UserErrors(ShopifyError):
    """A mutation ran but Shopify refused it: its userErrors, exactly as Shopify states them."""

    status_code = 422
    code = "shopify_user_errors"

    def __init__(self, mutation: str, errors: list[dict[str, Any]]) -> None:
        text = "; ".join(str(e.get("message")) for e in errors)
        super().__init__(f"Shopify refused {mutation}: {text}", retryable=False, errors=errors,
                         platform_code=str(errors[0].get("code") or "USER_ERROR") if errors else None)
        self.mutation = mutation


@dataclass
class Bucket:
    """The last cost-bucket state Shopify reported, and when."""

    maximum: float = 1000.0
    available: float = 1000.0
    restore_rate: float = 50.0
    seen_at: float = field(default_factory=time.monotonic)

    def now_available(self, now: float) -> float:
        return min(self.maximum, self.available + (now - self.seen_at) * self.restore_rate)

    def wait_for(self, cost: float, now: float) -> float:
        """Seconds until `cost` points are available (0 when they are now)."""
        missing = min(cost, self.maximum) - self.now_available(now)
        return max(0.0, missing / self.restore_rate) if self.restore_rate > 0 else 0.0


class AdminClient:
    """One store's GraphQL Admin API. Reuse one per account: the bucket state lives here."""

    def __init__(self, settings: ShopifyAccountSettings, *, sleep: Sleep | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.url = f"{settings.api_base}/admin/api/{settings.api_version}/graphql.json"
        self.bucket: Bucket | None = None
        self.costs: dict[str, float] = {}  # the requested cost Shopify reported per query text
        self.waited = 0.0  # seconds spent waiting for the bucket or Retry-After (tests, metrics)
        self.attempts = 0
        self._sleep = sleep or asyncio.sleep
        self._http = httpx.AsyncClient(timeout=settings.timeout_seconds, transport=transport, headers={
            "X-Shopify-Access-Token": settings.access_token, "Content-Type": "application/json",
            "Accept": "application/json", "User-Agent": "Relaydesk",
        })

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> "AdminClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def _wait(self, seconds: float) -> None:
        seconds = min(seconds, self.settings.max_wait_seconds)
        if seconds > 0:
            self.waited += seconds
            await self._sleep(seconds)

    async def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run a query or mutation and return its ``data``. Raises ShopifyError.

        A mutation is repeated here only when Shopify cannot have run it (the connection was never
        made, or it was throttled). After a lost answer or a 5xx it may have run: repeating a
        refund would refund twice, so the caller is told to check the order instead."""
        attempts = max(1, self.settings.max_attempts)
        write = query.lstrip().startswith("mutation")
        for attempt in range(1, attempts + 1):
            known = self.costs.get(query)
            if known is not None and self.bucket is not None:
                await self._wait(self.bucket.wait_for(known, time.monotonic()))
            self.attempts += 1
            try:
                response = await self._http.post(self.url, json={"query": query, "variables": variables or {}})
            except httpx.HTTPError as exc:
                unsent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
                if write and not unsent:
                    raise ShopifyError(f"Shopify's answer was lost ({type(exc).__name__}); the change may have "
                                       "been made: check the order before trying again", retryable=False,
                                       platform_code="answer_lost") from None
                if attempt == attempts:
                    raise ShopifyError(f"Shopify could not be reached: {type(exc).__name__}: {exc}",
                                       retryable=True) from None
                await self._wait(_backoff(attempt))
                continue
            if response.status_code == 429:
                retry_after = _retry_after(response.headers.get("retry-after"))
                if attempt == attempts:
                    raise ShopifyError("Shopify is throttling this store (429)", retryable=True,
                                       platform_code="429", retry_after=retry_after)
                await self._wait(retry_after if retry_after is not None else _backoff(attempt))
                continue
            if response.status_code >= 500:
                if write:
                    raise ShopifyError(f"Shopify answered {response.status_code}; the change may have been made: "
                                       "check the order before trying again", retryable=False,
                                       platform_code=str(response.status_code))
                if attempt == attempts:
                    raise ShopifyError(f"Shopify answered {response.status_code}", retryable=True,
                                       platform_code=str(response.status_code))
                await self._wait(_retry_after(response.headers.get("retry-after")) or _backoff(attempt))
                continue
            body = _json(response)
            if response.status_code >= 400:
                errors = body.get("errors") if isinstance(body, dict) else None
                raise ShopifyError(f"Shopify answered {response.status_code}: {_error_text(errors) or response.text[:300]}",
                                   retryable=False, platform_code=str(response.status_code),
                                   errors=errors if isinstance(errors, list) else [{"message": str(errors)}])
            cost = self._note_cost(query, body)
            errors = body.get("errors") or []
            if any((e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors):
                if attempt == attempts:
                    raise ShopifyError("Shopify throttled the query (THROTTLED)", retryable=True,
                                       platform_code="THROTTLED", errors=errors)
                wait = self.bucket.wait_for(cost, time.monotonic()) if self.bucket and cost else _backoff(attempt)
                await self._wait(max(wait, 0.001))
                continue
            if errors:
                raise ShopifyError(f"Shopify rejected the query: {_error_text(errors)}", retryable=False,
                                   platform_code=str((errors[0].get("extensions") or {}).get("code") or "GRAPHQL"),
                                   errors=errors)
            return body.get("data") or {}
        raise AssertionError("unreachable")

    async def mutate(self, query: str, variables: dict[str, Any], root: str,
                     error_keys: tuple[str, ...] = ("userErrors",)) -> dict[str, Any]:
        """Run a mutation; its userErrors raise UserErrors verbatim. `error_keys` lists the payload's
        error lists by preference (orderCancel has orderCancelUserErrors, with codes, and the
        deprecated userErrors repeating them): the first non-empty one is reported."""
        data = await self.graphql(query, variables)
        payload = data.get(root) or {}
        errors = next((payload[key] for key in error_keys if payload.get(key)), [])
        if errors:
            raise UserErrors(root, errors)
        return payload

    def _note_cost(self, query: str, body: dict[str, Any]) -> float:
        cost = ((body.get("extensions") or {}).get("cost")) or {}
        status = cost.get("throttleStatus") or {}
        if status:
            self.bucket = Bucket(maximum=float(status.get("maximumAvailable") or 1000),
                                 available=float(status.get("currentlyAvailable") or 0),
                                 restore_rate=float(status.get("restoreRate") or 50), seen_at=time.monotonic())
        requested = cost.get("requestedQueryCost")
        if requested is not None:
            self.costs[query] = float(requested)
            return float(requested)
        return 0.0


def _backoff(attempt: int) -> float:
    return min(30.0, 0.5 * 2 ** (attempt - 1))


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise ShopifyError(f"Shopify answered {response.status_code} with a body that is not JSON",
                           retryable=response.status_code >= 500) from None
    return body if isinstance(body, dict) else {}


def _error_text(errors: Any) -> str:
    if isinstance(errors, list):
        return "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)
    return str(errors or "")
