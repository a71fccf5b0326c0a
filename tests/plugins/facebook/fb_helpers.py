"""Builders the Messenger/Instagram tests share: account config and signed Messenger Platform payloads."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, Callable

from tests.plugins.whatsapp.graph_loopback import GraphLoopback
from tests.plugins.whatsapp.wa_helpers import hooks_client  # noqa: F401  (re-exported for the tests)

PAGE_TOKEN = "EAAP-page-token"
APP_SECRET = "fb-app-secret"
VERIFY_TOKEN = "fb-verify-token"
PAGE_ID = "104729185512345"
OTHER_PAGE_ID = "104729185599999"
IG_ID = "17841400000000001"
PSID = "6543210987654321"
IGSID = "5432109876543210"


def facebook(graph: GraphLoopback, **messenger: Any) -> Callable[[dict[str, Any]], None]:
    def configure(config: dict[str, Any]) -> None:
        config["plugins"]["enabled"].append("facebook")
        secrets = {"page_access_token": {"env": "RD_TEST_FB_TOKEN"}, "app_secret": {"env": "RD_TEST_FB_SECRET"},
                   "verify_token": {"env": "RD_TEST_FB_VERIFY"}, "base_url": graph.url,
                   "rate_limit_backoff_seconds": 0.2}
        config["plugins"]["facebook"] = {"accounts": {
            "shop": {"type": "messenger", "page_id": PAGE_ID, **secrets, **messenger},
            "outlet": {"type": "messenger", "page_id": OTHER_PAGE_ID, **secrets},
            "insta": {"type": "instagram", "ig_account_id": IG_ID, "page_id": PAGE_ID, **secrets},
        }}
    return configure


def sign(body: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    return {"content-type": "application/json",
            "x-hub-signature-256": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}


def page_payload(events: list[dict[str, Any]], node: str = PAGE_ID, obj: str = "page") -> dict[str, Any]:
    return {"object": obj, "entry": [{"id": node, "time": 1700000000000, "messaging": events}]}


def incoming(mid: str, text: str | None = "Hello, is this in stock?", sender: str = PSID, node: str = PAGE_ID,
             ts: int = 1700000000000, **message: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"mid": mid, **message}
    if text is not None:
        body["text"] = text
    return {"sender": {"id": sender}, "recipient": {"id": node}, "timestamp": ts, "message": body}


async def post(client: Any, payload: dict[str, Any] | bytes, account: str = "shop", secret: str = APP_SECRET) -> Any:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return await client.post(f"/hooks/facebook/{account}", content=body, headers=sign(body, secret))
