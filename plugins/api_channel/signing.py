"""HMAC-SHA256 signatures over timestamp + raw body, in both directions.

Header: ``X-Relaydesk-Signature: t=<unix seconds>,v1=<hex hmac of "<t>.<body>">``. The timestamp
stops an old captured request from being replayed outside the tolerance window.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "x-relaydesk-signature"
TOLERANCE_SECONDS = 300


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    ts = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts},v1={digest}"


def verify(secret: str, body: bytes, header: str | None, *, now: float | None = None) -> str | None:
    """Return None when valid, else the reason it is not."""
    if not header:
        return "the X-Relaydesk-Signature header is missing"
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        ts = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return "the X-Relaydesk-Signature header is malformed"
    current = time.time() if now is None else now
    if abs(current - ts) > TOLERANCE_SECONDS:
        return "the signature timestamp is outside the 5-minute tolerance"
    expected = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given):
        return "the signature does not match the body"
    return None
