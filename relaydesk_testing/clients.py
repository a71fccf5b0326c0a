"""Talking to a test desk the way its users do: agents with API tokens, an HTTP client on the
desk's app, signing in to the inbox (CSRF token from the form), and posting webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any, Callable

import httpx

from core import clock
from core.auth import create_token, hash_password
from core.tables import Agent

PASSWORD = "pw"
_TOKEN = re.compile(r'name="_csrf_token" value="([^"]+)"')
# A signer takes the raw body and returns the headers that sign it.
Signer = Callable[[bytes], dict[str, str]]


async def make_agent(role: str = "agent", email: str | None = None, languages: list[str] | None = None) -> tuple[int, str]:
    """Create an online agent with the password "pw" and an API token; returns (agent id, token).
    Needs a started desk (the database is connected)."""
    email = email or f"{role}-{clock.now().timestamp()}@example.com"
    rows = await Agent.insert(Agent(name=f"{role.title()} Agent", email=email, role=role, languages=languages or ["en"],
                                    password_hash=hash_password(PASSWORD), availability="online")).returning(Agent.id)
    return rows[0]["id"], await create_token(rows[0]["id"], "test")


def client_for(desk: Any, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    """An HTTP client for the app of a started desk, on the test's own event loop (the desk's
    database pool lives there), talking ASGI directly. Use it as `async with client_for(desk) as c`."""
    from web.app import create_app

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(desk=desk)), base_url="http://testserver",
                             headers=headers)


def auth(token: str) -> dict[str, str]:
    """The header an API call carries: `await client.get("/api/v1/tickets", headers=auth(token))`."""
    return {"authorization": f"Bearer {token}"}


def csrf_from(html: str) -> str:
    match = _TOKEN.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


async def sign_in(client: Any, email: str, password: str = PASSWORD) -> Any:
    """Sign in to the inbox as a browser does; the client keeps the session cookie."""
    page = await client.get("/login")
    token = csrf_from(page.text)
    return await client.post("/login", data={"email": email, "password": password, "_csrf_token": token,
                                             "next": "/inbox"}, follow_redirects=False)


async def form_post(client: Any, url: str, data: dict[str, Any], page: str = "/inbox/q/open", **kwargs: Any) -> Any:
    """Post an inbox form with the CSRF token a page of the inbox carries."""
    token = csrf_from((await client.get(page)).text)
    return await client.post(url, data={**data, "_csrf_token": token}, follow_redirects=False, **kwargs)


def hmac_sha256_signer(secret: str, header: str = "x-hub-signature-256", prefix: str = "sha256=",
                       encoding: str = "hex") -> Signer:
    """A signer for platforms that put HMAC-SHA256(secret, body) in one header (Meta: hex with
    "sha256=", Shopify: base64 in x-shopify-hmac-sha256 with no prefix)."""
    import base64

    def sign(body: bytes) -> dict[str, str]:
        digest = hmac.new(secret.encode(), body, hashlib.sha256)
        value = digest.hexdigest() if encoding == "hex" else base64.b64encode(digest.digest()).decode()
        return {header: prefix + value}
    return sign


def as_body(payload: Any) -> bytes:
    return payload if isinstance(payload, bytes) else json.dumps(payload).encode()


async def post_webhook(client: httpx.AsyncClient, plugin: str, account: str, payload: Any,
                       signer: Signer | None = None, headers: dict[str, str] | None = None) -> httpx.Response:
    """POST a webhook to /hooks/<plugin>/<account> as the platform would: `payload` is bytes or
    JSON-able; `signer(body)` adds the signature headers."""
    body = as_body(payload)
    sent = {"content-type": "application/json", **(signer(body) if signer else {}), **(headers or {})}
    return await client.post(f"/hooks/{plugin}/{account}", content=body, headers=sent)
