"""The Graph API as the Messenger Platform speaks it: URLs, auth and the error envelope
``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`` mapped to ChannelError."""

from __future__ import annotations

from typing import Any

import httpx

from core.plugin_api import ChannelError

# Application, user, page and Messenger send-rate limits: wait, then retry.
RATE_LIMIT_CODES = {4, 17, 32, 613, 80006, 80007}
# Meta's temporary failures ("An unexpected error has occurred. Please retry", temporary send failure).
TRANSIENT_CODES = {1, 2, 1200}
REASONS = {
    (10, 2018278): "the message was sent outside the allowed messaging window",
    (10, 2018065): "the message was sent outside the allowed messaging window",
    (551, None): "this person isn't available right now (they may have blocked the Page or turned off messages)",
    (190, None): "the page access token has expired or was revoked: renew it in plugins.toml's environment",
    (100, 2018001): "no user matches this recipient id (the conversation may have been deleted)",
    (100, None): "Meta rejected a parameter of the message",
}


def url(settings: Any, *parts: str) -> str:
    return "/".join([settings.base_url.rstrip("/"), settings.graph_version.strip("/"), *parts])


def headers(settings: Any) -> dict[str, str]:
    return {"authorization": f"Bearer {settings.page_access_token}"}


def error_from_response(response: httpx.Response, settings: Any, what: str) -> ChannelError:
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    code = _int(error.get("code"))
    subcode = _int(error.get("error_subcode"))
    reason = (REASONS.get((code, subcode)) or REASONS.get((code, None))) if code is not None else None
    message = f"Meta could not {what}: " + (reason or error.get("message") or f"HTTP {response.status_code}")
    if reason and error.get("message"):
        message += f" — {error['message']}"
    platform_code = (f"{code}/{subcode}" if subcode else str(code)) if code is not None else str(response.status_code)
    if code in RATE_LIMIT_CODES or response.status_code == 429:
        return ChannelError(message, retryable=True, platform_code=platform_code,
                            retry_after=settings.rate_limit_backoff_seconds)
    if code in TRANSIENT_CODES or error.get("is_transient") or response.status_code >= 500:
        return ChannelError(message, retryable=True, platform_code=platform_code)
    return ChannelError(message, retryable=False, platform_code=platform_code)


def network_error(exc: Exception, what: str) -> ChannelError:
    return ChannelError(f"Meta could not {what}: {type(exc).__name__}: {exc}", retryable=True)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
