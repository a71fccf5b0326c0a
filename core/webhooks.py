"""Channel-neutral helpers for webhook plugins: HMAC body signatures and the ``hub.*`` subscription
handshake (WebSub's verification of intent, used by Meta's Graph API webhooks among others).

Plugins call these from parse_webhook; nothing here does I/O.
"""

from __future__ import annotations

import hashlib
import hmac

from core.errors import Forbidden, SignatureInvalid
from core.types import WebhookReply


def verify_hmac_sha256(secret: str, body: bytes, header: str | None, *, prefix: str = "sha256=",
                       header_name: str = "signature header") -> None:
    """Raise SignatureInvalid unless ``header`` is ``prefix`` + hex HMAC-SHA256 of the raw ``body``.

    Compared in constant time; the body must be the exact bytes received, before any parsing.
    """
    if not secret:
        raise SignatureInvalid(f"no secret is configured to check the {header_name}")
    if not header:
        raise SignatureInvalid(f"the {header_name} is missing")
    given = header.strip()
    if not given.lower().startswith(prefix):
        raise SignatureInvalid(f"the {header_name} does not start with {prefix!r}")
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given[len(prefix):].lower()):
        raise SignatureInvalid(f"the {header_name} does not match the body")


def hub_challenge(query: dict[str, str], verify_token: str) -> WebhookReply | None:
    """Answer a subscription handshake (``hub.mode=subscribe``, ``hub.verify_token``, ``hub.challenge``).

    Returns None when the query is not a handshake. A wrong token raises Forbidden (403) so the
    platform's dashboard shows that verification failed; the right one echoes the challenge as text.
    """
    if "hub.mode" not in query and "hub.challenge" not in query:
        return None
    if query.get("hub.mode") != "subscribe":
        raise Forbidden("hub.mode must be 'subscribe'")
    token = query.get("hub.verify_token") or ""
    if not verify_token or not hmac.compare_digest(token.encode(), verify_token.encode()):
        raise Forbidden("hub.verify_token does not match this account's verify token")
    challenge = query.get("hub.challenge") or ""
    if not challenge or len(challenge) > 512:
        raise Forbidden("hub.challenge is missing or too long")
    return WebhookReply(status_code=200, body=challenge.encode(), content_type="text/plain")


def sign_timestamped(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">``: the X-Relaydesk-Signature format the
    api_channel uses in both directions, so a receiver verifies rule webhooks with the same code."""
    import time

    ts = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts},v1={digest}"
