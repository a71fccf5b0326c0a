"""A small in-process cache of rendered public pages and search results.

Entries live `ttl` seconds (the setting `cache_seconds`); a write through plugins.kb.store clears
the cache of the process that made it at once, and other processes (several web workers) see the
change when their entries expire. Bounded in size: the oldest entries go first.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

MAX_ENTRIES = 2000
_entries: "OrderedDict[Any, tuple[float, Any]]" = OrderedDict()


def get(key: Any) -> Any:
    found = _entries.get(key)
    if found is None:
        return None
    if found[0] < time.monotonic():
        _entries.pop(key, None)
        return None
    return found[1]


def put(key: Any, value: Any, ttl: float) -> None:
    if ttl <= 0:
        return
    _entries[key] = (time.monotonic() + ttl, value)
    _entries.move_to_end(key)
    while len(_entries) > MAX_ENTRIES:
        _entries.popitem(last=False)


def clear() -> None:
    _entries.clear()
