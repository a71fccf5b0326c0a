"""Signed, expiring survey links without itsdangerous: HMAC-SHA256 with the desk secret.

token = base64url("<ticket>.<expires unix>.<nonce>") + "." + base64url(hmac(secret, "csat:" + payload))
The nonce names the survey row; a used row makes the token spent, so a token works once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass


class TokenError(Exception):
    """`status`: 400 malformed, 403 forged, 410 expired."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class SurveyToken:
    ticket_id: int
    expires: int
    nonce: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    # validate=True: a character outside the alphabet is damage, not something to skip.
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def _sign(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), f"csat:{payload}".encode(), hashlib.sha256).digest())


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def make(secret: str, ticket_id: int, expires: int, nonce: str) -> str:
    if not secret:
        raise ValueError("the desk has no secret ([relaydesk] secret): survey links cannot be signed")
    payload = f"{ticket_id}.{expires}.{nonce}"
    return f"{_b64(payload.encode())}.{_sign(secret, payload)}"


def read(secret: str, token: str, now: float) -> SurveyToken:
    """Check the signature, then the expiry; raise TokenError with the status to answer."""
    if not secret:
        raise TokenError(403, "survey links are not configured on this desk")
    body, sep, signature = token.partition(".")
    if not sep or not body or not signature or len(token) > 512:
        raise TokenError(400, "this link is incomplete")
    try:
        payload = _unb64(body).decode("ascii")
    except (ValueError, UnicodeDecodeError):  # binascii.Error is a ValueError
        raise TokenError(400, "this link is damaged") from None
    if not hmac.compare_digest(_sign(secret, payload), signature):
        raise TokenError(403, "this link is not valid")
    ticket, _, rest = payload.partition(".")
    expires, _, nonce = rest.partition(".")
    if not (ticket.isdigit() and expires.isdigit() and nonce):
        raise TokenError(400, "this link is damaged")
    if int(expires) < now:
        raise TokenError(410, "this link has expired")
    return SurveyToken(int(ticket), int(expires), nonce)
