"""Builders the WhatsApp tests share: account config, signed webhook bodies, Cloud API payloads."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, Callable

from tests.plugins.whatsapp.graph_loopback import GraphLoopback

TOKEN = "EAAG-test-token"
APP_SECRET = "wa-app-secret"
VERIFY_TOKEN = "wa-verify-token"
PHONE_ID = "1122334455667"
WABA_ID = "5467539754836534"


def whatsapp(graph: GraphLoopback, **account: Any) -> Callable[[dict[str, Any]], None]:
    def configure(config: dict[str, Any]) -> None:
        config["plugins"]["enabled"].append("whatsapp")
        config["plugins"]["whatsapp"] = {"accounts": {"main": {
            "phone_number_id": PHONE_ID, "access_token": {"env": "RD_TEST_WA_TOKEN"},
            "app_secret": {"env": "RD_TEST_WA_SECRET"}, "verify_token": {"env": "RD_TEST_WA_VERIFY"},
            "base_url": graph.url, "rate_limit_backoff_seconds": 0.2, **account,
        }}}
    return configure


def sign(body: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    return {"content-type": "application/json",
            "x-hub-signature-256": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}


def envelope(messages: list[dict[str, Any]] | None = None, statuses: list[dict[str, Any]] | None = None,
             name: str = "Dana Levi", wa_id: str = "972987654321", phone_id: str = PHONE_ID) -> dict[str, Any]:
    value: dict[str, Any] = {"messaging_product": "whatsapp",
                             "metadata": {"display_phone_number": "15550953877", "phone_number_id": phone_id}}
    if messages is not None:
        value["contacts"] = [{"profile": {"name": name}, "wa_id": wa_id}]
        value["messages"] = messages
    if statuses is not None:
        value["statuses"] = statuses
    return {"object": "whatsapp_business_account",
            "entry": [{"id": WABA_ID, "changes": [{"value": value, "field": "messages"}]}]}


def text_message(wamid: str, text: str = "Where is my order?", wa_id: str = "972987654321", ts: int = 1700000000) -> dict[str, Any]:
    return {"from": wa_id, "id": wamid, "timestamp": str(ts), "type": "text", "text": {"body": text}}


async def post(client: Any, payload: dict[str, Any] | bytes, account: str = "main", secret: str = APP_SECRET) -> Any:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return await client.post(f"/hooks/whatsapp/{account}", content=body, headers=sign(body, secret))


def hooks_client(desk: Any) -> Any:
    """An HTTP client for the core's webhook route alone (web.hooks.webhook with the project's error
    handlers and body limit), so these tests do not depend on the rest of the web app."""
    import httpx
    from litestar import Litestar

    from web.errors import EXCEPTION_HANDLERS
    from web.hooks import webhook

    app = Litestar(route_handlers=[webhook], exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
                   request_max_body_size=desk.settings.max_webhook_bytes, debug=False)
    app.state.desk = desk
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
