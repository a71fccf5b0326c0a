"""JSON that cannot hurt the parser: a nesting limit checked in one linear pass before decoding.

Python's json module recurses per level (a body nested a few thousand levels deep raises
RecursionError, a 500), and no payload the desk takes nests beyond a handful of levels. The check
strips strings with one regex and then counts brackets, so it is linear in the body's size."""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

MAX_DEPTH = 64

_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
# after translate: an opener becomes 2 and a closer 0, so (b - 1) is +1 / -1
_STEPS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")


class TooDeep(ValueError):
    pass


def looks_like_json(body: bytes) -> bool:
    head = body[:64].lstrip()
    return head[:1] in (b"{", b"[")


def depth(body: bytes | str) -> int:
    """The deepest nesting of arrays and objects in a JSON text (0 for a scalar)."""
    data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    brackets = _STRINGS.sub(b"", data).translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    return max(0, max(accumulate(b - 1 for b in brackets.translate(_STEPS))))


def check_depth(body: bytes | str, limit: int = MAX_DEPTH) -> None:
    if depth(body) > limit:
        raise TooDeep(f"the JSON nests deeper than {limit} levels")


def loads(text: str | bytes, limit: int = MAX_DEPTH) -> Any:
    """json.loads after the depth check; raises ValueError (TooDeep or JSONDecodeError) on bad input."""
    check_depth(text, limit)
    return json.loads(text)
