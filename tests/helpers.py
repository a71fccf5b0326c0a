"""Builders for the API channel's signed payloads; the rest comes from the test kit."""

from __future__ import annotations

import json
from typing import Any

import httpx

from plugins.api_channel import signing
from relaydesk_testing import API_SECRET, auth, client_for, make_agent  # noqa: F401 (used through here)


def message(external_id: str, sender: str = "cust-1", text: str = "Hello", details: dict[str, Any] | None = None,
            **extra: Any) -> dict[str, Any]:
    """One API-channel message; `details` adds sender name/email/phone."""
    body: dict[str, Any] = {"id": external_id, "sender": {"id": sender, **(details or {})}, "text": text}
    body.update(extra)
    return body


def signed(payload: dict[str, Any] | bytes, secret: str = API_SECRET, timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return body, {"content-type": "application/json", "x-relaydesk-signature": signing.sign(secret, body, timestamp)}


async def post_messages(client: httpx.AsyncClient, messages: list[dict[str, Any]], account: str = "main",
                        statuses: list[dict[str, Any]] | None = None) -> Any:
    body, headers = signed({"messages": messages, "statuses": statuses or []})
    return await client.post(f"/hooks/api_channel/{account}", content=body, headers=headers)
