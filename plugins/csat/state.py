"""The running desk, for hooks that get no desk argument (ticket_event)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from plugins.csat.settings import CsatSettings

if TYPE_CHECKING:
    from core.plugin_api import Desk

desk: "Desk | None" = None


def settings(of: "Desk | None" = None) -> CsatSettings:
    target = of or desk
    if target is not None:
        found = target.registry.plugin_settings.get("csat")
        if found is not None:
            return found
    return CsatSettings()
