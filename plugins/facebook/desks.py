"""The desks this plugin serves (started ones, newest last) and their Messenger/Instagram accounts:
what the after-commit jobs (media, profiles) need to find their way from a message id."""

from __future__ import annotations

from typing import Any

CHANNELS = ("messenger", "instagram")

DESKS: list[Any] = []


def accounts(desk: Any) -> dict[int, Any]:
    return {a.id: a for a in desk.registry.accounts.values() if a.channel_type in CHANNELS}
