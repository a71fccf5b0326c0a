"""Cursor pagination: opaque cursors that encode the last row's sort key, so pages stay stable
while new tickets arrive."""

from __future__ import annotations

import base64
import json
from typing import Any

from core.errors import InvalidRequest


def encode(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def decode(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded))
        if not isinstance(data, dict):
            raise ValueError
        return data
    except (ValueError, json.JSONDecodeError):
        raise InvalidRequest("the cursor is not one this API gave out") from None


def clamp_limit(limit: int) -> int:
    if limit < 1 or limit > 200:
        raise InvalidRequest("limit must be between 1 and 200")
    return limit
