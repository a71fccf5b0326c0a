"""The Graph API as the WhatsApp Cloud API speaks it: URLs, auth and the error envelope
``{"error": {"message", "type", "code", "error_subcode", "error_data", "fbtrace_id"}}`` mapped to
core.errors.ChannelError with Meta's code."""

from __future__ import annotations

from typing import Any

import httpx

from core.plugin_api import ChannelError

# Throughput, pair-rate and spam limits, and the Graph API's app/user/page limits: wait and retry.
RATE_LIMIT_CODES = {4, 17, 32, 613, 80007, 130429, 131048, 131056}
# Meta's own transient failures: retry with the core's backoff.
TRANSIENT_CODES = {1, 2, 131000, 131016, 133004}
# Shown to the agent in plain words; every other 4xx code is permanent with Meta's message.
REASONS = {
    131047: "more than 24 hours have passed since the customer last wrote: send an approved template instead",
    131026: "the message could not be delivered to this number (not on WhatsApp, or an old app version)",
    131030: "the recipient is not in the test number's allowed list",
    190: "the access token has expired or was revoked: renew it in plugins.toml's environment",
    100: "WhatsApp rejected a parameter of the message",
    132000: "the template's parameter count does not match the approved template",
    132001: "the template does not exist in this language, or is not approved",
    132005: "the filled-in template is too long",
    132007: "the template's text breaks WhatsApp's formatting or content policy",
    132012: "a template variable has the wrong format for the approved template",
    132015: "the template is paused (low quality): pick another one",
    132016: "the template is disabled: pick another one",
}


def url(settings: Any, *parts: str) -> str:
    return "/".join([settings.base_url.rstrip("/"), settings.graph_version.strip("/"), *parts])


def headers(settings: Any) -> dict[str, str]:
    return {"authorization": f"Bearer {settings.access_token}"}


def error_from_response(response: httpx.Response, settings: Any, what: str) -> ChannelError:
    """Turn a non-2xx Graph response into a ChannelError that says whether to retry."""
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    code = as_int(error.get("code"))
    details = ((error.get("error_data") or {}).get("details") if isinstance(error.get("error_data"), dict) else None)
    text = REASONS.get(code) if code is not None else None
    message = f"WhatsApp could not {what}: " + (text or error.get("message") or f"HTTP {response.status_code}")
    if details and details not in message:
        message += f" ({details})"
    platform_code = str(code) if code is not None else str(response.status_code)
    if code in RATE_LIMIT_CODES or response.status_code == 429:
        return ChannelError(message, retryable=True, platform_code=platform_code,
                            retry_after=settings.rate_limit_backoff_seconds)
    if code in TRANSIENT_CODES or error.get("is_transient") or response.status_code >= 500:
        return ChannelError(message, retryable=True, platform_code=platform_code)
    return ChannelError(message, retryable=False, platform_code=platform_code)


def network_error(exc: Exception, what: str) -> ChannelError:
    return ChannelError(f"WhatsApp could not {what}: {type(exc).__name__}: {exc}", retryable=True)


def as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
