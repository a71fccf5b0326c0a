"""Decoding one part of a platform's batched webhook body on its own.

Meta (WhatsApp, Messenger, Instagram) batches many events in one body and retries the whole body
when it fails, so one event of the wrong shape must not cost the good ones beside it: each part is
decoded alone, and a part that does not match its type is noted (where, and why) instead of raised.
"""

from __future__ import annotations

from typing import TypeVar

import msgspec

T = TypeVar("T")


def decode_part(raw: msgspec.Raw, kind: type[T], where: str, invalid: list[str]) -> T | None:
    """`raw` decoded as `kind`; None (and a note in `invalid`) when it has the wrong shape."""
    try:
        return msgspec.json.decode(raw, type=kind)
    except msgspec.ValidationError as exc:
        invalid.append(f"{where}: {exc}")
        return None
