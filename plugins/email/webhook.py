"""POST /hooks/email/<account>: a raw RFC 822 mail from an inbound mail service or an MTA.

Authenticate with the account's ``ingest_token``, either as ``Authorization: Bearer <token>`` or
as ``X-Relaydesk-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body, keyed with the
token>`` (the timestamp must be within 5 minutes). The body is the mail's bytes, unchanged.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time

from core.plugin_api import InvalidRequest, SignatureInvalid
from core.plugin_api import WebhookRequest

SIGNATURE_HEADER = "x-relaydesk-signature"
TOLERANCE_SECONDS = 300
_HEADER_LINE = re.compile(rb"^(From |[\x21-\x39\x3b-\x7e]+[ \t]*:)")


def sign(token: str, body: bytes, timestamp: int | None = None) -> str:
    ts = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(token.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts},v1={digest}"


def authenticate(token: str | None, request: WebhookRequest) -> None:
    """Raise SignatureInvalid unless the request carries the token or a valid HMAC of the body."""
    if not token:
        raise SignatureInvalid("HTTP ingest is off for this account: set ingest_token in plugins.toml")
    auth = request.headers.get("authorization", "")
    if auth:
        scheme, _, given = auth.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return
        raise SignatureInvalid("the bearer token does not match this account's ingest_token")
    header = request.headers.get(SIGNATURE_HEADER)
    if not header:
        raise SignatureInvalid("send Authorization: Bearer <ingest_token> or an X-Relaydesk-Signature header")
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        ts, given = int(parts["t"]), parts["v1"]
    except (KeyError, ValueError):
        raise SignatureInvalid("the X-Relaydesk-Signature header is malformed") from None
    if abs(time.time() - ts) > TOLERANCE_SECONDS:
        raise SignatureInvalid("the signature timestamp is outside the 5-minute tolerance")
    expected = hmac.new(token.encode(), f"{ts}.".encode() + request.body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given):
        raise SignatureInvalid("the signature does not match the body")


def mail_problem(raw: bytes) -> str | None:
    """Why `raw` cannot be taken as a mail (empty, or no header line first), else None. Lines of
    white space before the header are allowed: some gateways prepend one."""
    if not raw.strip():
        return "the mail is empty"
    if not _HEADER_LINE.match(raw.lstrip(b" \t\r\n")):
        return "this is not an RFC 822 mail: it must start with a header line such as 'From: ...'"
    return None


def check_mail(request: WebhookRequest) -> bytes:
    if request.method.upper() != "POST":
        raise InvalidRequest("POST the raw mail (message/rfc822) to this address")
    body = request.body
    problem = mail_problem(body)
    if problem:
        raise InvalidRequest(f"{problem}: POST the raw mail (message/rfc822)")
    return body
