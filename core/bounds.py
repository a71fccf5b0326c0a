"""The ranges the database columns hold, as types the HTTP edge validates against before any query.

Row ids and integer columns are 32-bit on PostgreSQL (SERIAL / INTEGER); SQLite would take 64-bit
values but the desk keeps one range for both, so a value is refused the same way on either. An id
outside the range names no row: a path id answers 404, a query or body id 400 (core.errors)."""

from __future__ import annotations

from typing import Annotated

import msgspec

MAX_ID = 2**31 - 1
MIN_INT = -(2**31)
MAX_INT = 2**31 - 1

# msgspec field types for request bodies.
Id = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
Int32 = Annotated[int, msgspec.Meta(ge=MIN_INT, le=MAX_INT)]
Count = Annotated[int, msgspec.Meta(ge=0, le=MAX_INT)]


def in_id_range(value: int) -> bool:
    return 1 <= value <= MAX_ID


def parse_id(text: str | None) -> int | None:
    """A form field holding a row id: the id, or None when it is empty, not digits or out of range."""
    text = (text or "").strip()
    if not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if in_id_range(value) else None
