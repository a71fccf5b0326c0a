"""Small builders the tests share: signed API-channel payloads and an API client with a token."""

from __future__ import annotations

import json
from typing import Any

import httpx

from core import clock
from core.auth import create_token, hash_password
from core.tables import Agent
from plugins.api_channel import signing
from web.app import create_app

API_SECRET = "test-api-secret"


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


async def make_agent(role: str = "agent", email: str | None = None, languages: list[str] | None = None) -> tuple[int, str]:
    """Create an agent with a password and an API token; returns (agent id, token)."""
    email = email or f"{role}-{clock.now().timestamp()}@example.com"
    rows = await Agent.insert(Agent(name=f"{role.title()} Agent", email=email, role=role, languages=languages or ["en"],
                                    password_hash=hash_password("pw"), availability="online")).returning(Agent.id)
    return rows[0]["id"], await create_token(rows[0]["id"], "test")


def client_for(desk: Any) -> httpx.AsyncClient:
    """An HTTP client for the app of a started desk, on the test's own event loop (the desk's
    database pool lives there), talking ASGI directly."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(desk=desk)), base_url="http://testserver")


def auth(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}
