"""The desk's notion of now. Tests that run time forward install a controlled clock here."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

_source: Callable[[], datetime] = lambda: datetime.now(timezone.utc)


def now() -> datetime:
    return _source()


def set_clock(source: Callable[[], datetime] | None) -> None:
    """Install a clock (a callable returning an aware datetime); None restores the wall clock."""
    global _source
    _source = source or (lambda: datetime.now(timezone.utc))
