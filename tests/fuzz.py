"""Type mutations of JSON payloads for the webhook fuzz tests: every value at every path, replaced in
turn by a value of each other JSON kind (string, number, object, array, null, bool).

RELAYDESK_FUZZ_SAMPLES sets how many mutations per route go through HTTP (default 30, "all" for the
whole product); RELAYDESK_FUZZ_SEED picks which (default 16, so a failure is reproducible).
"""

from __future__ import annotations

import copy
import os
import random
from typing import Any, Iterator

Path = tuple[Any, ...]

KINDS: dict[str, Any] = {"string": "x", "number": 7, "object": {"a": 1}, "array": [1], "null": None, "bool": True}


def kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return "null"


def paths(value: Any, prefix: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every (path, value) below the root, parents before children."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        yield prefix + (key,), child
        yield from paths(child, prefix + (key,))


def replaced(payload: Any, path: Path, new: Any) -> Any:
    out = copy.deepcopy(payload)
    target = out
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = copy.deepcopy(new)
    return out


def mutations(payload: Any, seen: set[str] | None = None) -> Iterator[tuple[str, Any]]:
    """(description, mutated payload) for every path and every other kind. With `seen` shared across
    payloads of one route, a (path, kind) already tried in an earlier payload is not tried again
    (the corpora repeat the same envelope many times over)."""
    for path, value in paths(payload):
        current = kind_of(value)
        for kind, new in KINDS.items():
            if kind == current:
                continue
            what = f"{'.'.join(map(str, path))} -> {kind}"
            if seen is not None:
                if what in seen:
                    continue
                seen.add(what)
            yield what, replaced(payload, path, new)


def sample(items: list[Any], label: str) -> list[Any]:
    """A reproducible sample of `items` (all of them when RELAYDESK_FUZZ_SAMPLES=all)."""
    wanted = os.environ.get("RELAYDESK_FUZZ_SAMPLES", "30")
    if wanted == "all" or int(wanted) >= len(items):
        return items
    rng = random.Random(f"{os.environ.get('RELAYDESK_FUZZ_SEED', '16')}:{label}")
    return rng.sample(items, int(wanted))


def deeply_nested(payload: Any, depth: int = 5000) -> bytes:
    """The payload as JSON with its first value replaced by `depth` nested arrays (built as text:
    Python's own json and deepcopy stop far earlier)."""
    path, _ = next(paths(payload))
    marker = "__relaydesk_fuzz_deep__"
    import json

    return json.dumps(replaced(payload, path, marker)).encode().replace(
        json.dumps(marker).encode(), b"[" * depth + b"]" * depth)
