"""Cursor pagination: opaque cursors that encode the last row's sort key, so pages stay stable
while new tickets arrive.

A cursor comes back from the client, so it is validated before any query: it must decode to the
shape this module gave out (a sort name, an ISO time or null, a row id in the database's range).
Anything else is a 400; a well-formed cursor someone edited only pages from another row, which the
caller could ask for with filters anyway."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

import msgspec

from core.bounds import Id
from core.errors import InvalidRequest

MAX_CURSOR = 512
BAD_CURSOR = "the cursor is not one this API gave out"


class Cursor(msgspec.Struct, forbid_unknown_fields=True):
    i: Id
    s: str | None = None
    v: str | None = None


def encode(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def decode(cursor: str | None) -> dict[str, Any] | None:
    """The cursor's fields ({"i": id, "s": sort, "v": datetime or None}), or None for no cursor."""
    if not cursor:
        return None
    if len(cursor) > MAX_CURSOR:
        raise InvalidRequest(BAD_CURSOR)
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = msgspec.json.decode(raw, type=Cursor)
        value = datetime.fromisoformat(data.v) if data.v is not None else None
    except (ValueError, binascii.Error, msgspec.DecodeError):
        raise InvalidRequest(BAD_CURSOR) from None
    if value is not None and value.tzinfo is None:
        raise InvalidRequest(BAD_CURSOR)
    return {"i": data.i, "s": data.s, "v": value}


def clamp_limit(limit: int) -> int:
    if limit < 1 or limit > 200:
        raise InvalidRequest("limit must be between 1 and 200")
    return limit
