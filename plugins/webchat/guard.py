"""Spam guards without a CAPTCHA service: a proof of work (the visitor's browser finds a nonce
whose sha256 with a signed, expiring challenge starts with `bits` zero bits: free for a person,
costly for a bot writing thousands), a honeypot field, and per-address rate limits kept in memory
(bounded; each web process counts its own)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import deque

CHALLENGE_SECONDS = 600
MAX_ADDRESSES = 20_000
_windows: dict[tuple[str, str], deque[float]] = {}


def _sign(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:32]


def challenge(key: bytes, bits: int) -> str:
    body = f"{int(time.time())}.{bits}.{secrets.token_hex(8)}"
    return f"{body}.{_sign(key, body)}"


def leading_zero_bits(digest: bytes) -> int:
    count = 0
    for byte in digest:
        if byte == 0:
            count += 8
            continue
        return count + 8 - byte.bit_length()
    return count


def check(key: bytes, bits: int, token: str, nonce: str) -> str | None:
    """None when the work is done and the challenge is ours and fresh; else why not."""
    parts = token.split(".")
    if len(parts) != 4 or len(nonce) > 32:
        return "malformed challenge"
    body = ".".join(parts[:3])
    if not hmac.compare_digest(_sign(key, body), parts[3]):
        return "forged challenge"
    if not parts[0].isdigit() or time.time() - int(parts[0]) > CHALLENGE_SECONDS:
        return "expired challenge"
    if parts[1] != str(bits):
        return "stale challenge"
    if leading_zero_bits(hashlib.sha256(f"{token}:{nonce}".encode()).digest()) < bits:
        return "the proof of work does not hold"
    return None


def allow(kind: str, address: str, limit: int, seconds: float) -> bool:
    """A sliding window: at most `limit` events of `kind` per address in `seconds`."""
    now = time.monotonic()
    if len(_windows) > MAX_ADDRESSES:
        _windows.clear()
    window = _windows.setdefault((kind, address), deque())
    while window and window[0] < now - seconds:
        window.popleft()
    if len(window) >= limit:
        return False
    window.append(now)
    return True
