"""eBay's REST APIs for one seller account: OAuth token refresh, the documented error bodies and
throttling.

Tokens: a user access token comes from ``POST /identity/v1/oauth2/token`` with
``grant_type=refresh_token`` (Basic auth ``client_id:client_secret``); it lives ``expires_in`` seconds
(two hours) and is refreshed a minute early, or at once when eBay answers 401 (errorId 1001). An
application token (``grant_type=client_credentials``) reads the Notification API's public keys.
OAuth errors are ``{"error": "invalid_grant", "error_description": ...}``: a refresh token that is
revoked or expired cannot heal by retrying, so it fails for good and names the fix.

REST errors are ``{"errors": [{"errorId", "domain", "category", "message", ...}]}`` (the Post-Order
API also says ``"error"``). 429 (errorId 2001, "Too many requests") and 5xx are retryable: the client
waits out ``Retry-After`` within ``max_wait_seconds`` and retries up to ``max_attempts`` times, then
raises a retryable ChannelError carrying the wait.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from typing import Any

import httpx

from core.plugin_api import ChannelError
from plugins.ebay.settings import EbayAccountSettings

log = logging.getLogger("relaydesk.ebay")

TOKEN_PATH = "/identity/v1/oauth2/token"
APP_SCOPE = "https://api.ebay.com/oauth/api_scope"
# REST errorIds that mean "this access token is no good": refresh once and retry.
TOKEN_ERRORS = {1001, 1002, 1003}
THROTTLE_ERRORS = {2001}
REFRESH_EARLY_SECONDS = 60


def error_list(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, dict):
        return []
    errors = body.get("errors") or body.get("error") or []
    if isinstance(errors, dict):
        errors = [errors]
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def describe(response: httpx.Response) -> tuple[str, str | None, list[dict[str, Any]]]:
    """(message, platform code, errors) of an error response."""
    try:
        body = response.json()
    except ValueError:
        body = None
    errors = error_list(body)
    if errors:
        first = errors[0]
        code = str(first.get("errorId")) if first.get("errorId") is not None else None
        message = str(first.get("longMessage") or first.get("message") or "eBay returned an error")
        return message[:500], code, errors
    if isinstance(body, dict) and isinstance(body.get("error"), str):  # OAuth's shape
        return str(body.get("error_description") or body["error"])[:500], body["error"], []
    return f"eBay answered HTTP {response.status_code}", str(response.status_code), []


def retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class EbayClient:
    """One per account and process: the access tokens and the HTTP connection pool are shared."""

    def __init__(self, settings: EbayAccountSettings, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.http = httpx.AsyncClient(timeout=settings.timeout_seconds, transport=transport)
        self._user_token: tuple[str, float] | None = None
        self._app_token: tuple[str, float] | None = None
        self._lock = asyncio.Lock()
        self.refreshes = 0

    async def close(self) -> None:
        await self.http.aclose()

    # --- OAuth ------------------------------------------------------------------------------

    def _basic(self) -> str:
        raw = f"{self.settings.client_id}:{self.settings.client_secret}".encode()
        return "Basic " + base64.b64encode(raw).decode()

    async def _mint(self, form: dict[str, str]) -> tuple[str, float]:
        try:
            response = await self.http.post(
                self.settings.base + TOKEN_PATH, data=form,
                headers={"Authorization": self._basic(), "Content-Type": "application/x-www-form-urlencoded"})
        except httpx.HTTPError as exc:
            raise ChannelError(f"eBay's token endpoint could not be reached: {exc.__class__.__name__}",
                               retryable=True, platform_code="network") from None
        if response.status_code != 200:
            message, code, _ = describe(response)
            if response.status_code == 429 or response.status_code >= 500:
                raise ChannelError(f"eBay's token endpoint is unavailable: {message}", retryable=True,
                                   platform_code=code, retry_after=retry_after(response))
            fix = ("mint a new refresh token for the seller (consent again) and update refresh_token"
                   if code == "invalid_grant" else "check client_id and client_secret")
            raise ChannelError(f"eBay refused the OAuth token request ({code}): {message}; {fix}",
                               retryable=False, platform_code=code)
        try:
            data = response.json()
            token, lifetime = str(data["access_token"]), float(data.get("expires_in") or 7200)
        except (ValueError, KeyError, TypeError):
            raise ChannelError("eBay's token endpoint answered without an access_token", retryable=True) from None
        return token, time.monotonic() + lifetime - REFRESH_EARLY_SECONDS

    async def user_token(self, *, force: bool = False) -> str:
        async with self._lock:
            if force or self._user_token is None or time.monotonic() >= self._user_token[1]:
                self._user_token = await self._mint({
                    "grant_type": "refresh_token", "refresh_token": self.settings.refresh_token,
                    "scope": " ".join(self.settings.scopes)})
                self.refreshes += 1
            return self._user_token[0]

    async def app_token(self, *, force: bool = False) -> str:
        async with self._lock:
            if force or self._app_token is None or time.monotonic() >= self._app_token[1]:
                self._app_token = await self._mint({"grant_type": "client_credentials", "scope": APP_SCOPE})
            return self._app_token[0]

    # --- requests ---------------------------------------------------------------------------

    async def request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                      json: Any = None, auth: str = "user", what: str = "call eBay") -> Any:
        """One API call with retries. ``auth``: "user" (Bearer), "iaf" (Post-Order's
        ``Authorization: IAF <token>``) or "app" (an application token). Returns the JSON body
        (None for an empty one).

        A write (anything but GET) is repeated here only when eBay cannot have carried it out: the
        connection was never made, or eBay throttled it. After a lost answer or a 5xx it may have
        been done, so the caller decides (a reply looks for its earlier copy first)."""
        url = path if path.startswith("http") else self.settings.base + path
        refreshed = False
        attempt = 0
        waited = 0.0
        while True:
            attempt += 1
            token = await (self.app_token() if auth == "app" else self.user_token())
            headers = {"Authorization": ("IAF " if auth == "iaf" else "Bearer ") + token,
                       "X-EBAY-C-MARKETPLACE-ID": self.settings.marketplace_id, "Accept": "application/json"}
            if json is not None:
                headers["Content-Type"] = "application/json"
            try:
                response = await self.http.request(method, url, params=params, json=json, headers=headers)
            except httpx.HTTPError as exc:
                unsent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
                if attempt < self.settings.max_attempts and (method == "GET" or unsent):
                    await asyncio.sleep(min(2 ** attempt * 0.1, 2))
                    continue
                raise ChannelError(f"could not {what}: {exc.__class__.__name__}", retryable=True,
                                   platform_code="network") from None
            if response.status_code < 300:
                if not response.content:
                    return None
                try:
                    return response.json()
                except ValueError:
                    raise ChannelError(f"could not {what}: eBay answered with something that is not JSON",
                                       retryable=True) from None
            message, code, errors = describe(response)
            ids = {e.get("errorId") for e in errors}
            if response.status_code == 401 and not refreshed and (ids & TOKEN_ERRORS or not errors):
                refreshed = True  # the token expired early or was revoked: mint a new one once
                await (self.app_token(force=True) if auth == "app" else self.user_token(force=True))
                continue
            throttled = response.status_code == 429 or bool(ids & THROTTLE_ERRORS)
            if throttled or response.status_code >= 500:
                wait = retry_after(response)
                if wait is None:
                    wait = min(2 ** attempt * 0.25, 5.0)
                repeatable = method == "GET" or throttled
                if repeatable and attempt < self.settings.max_attempts and waited + wait <= self.settings.max_wait_seconds:
                    waited += wait
                    log.info("eBay %s (%s): waiting %.1fs before retrying %s", response.status_code, code, wait, path)
                    await asyncio.sleep(wait)
                    continue
                raise ChannelError(f"could not {what}: {message}", retryable=True, platform_code=code,
                                   retry_after=retry_after(response) or (60.0 if throttled else None))
            raise ChannelError(f"could not {what}: {message}", retryable=False, platform_code=code)
