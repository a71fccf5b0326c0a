"""The running desk, for hooks that get no desk argument (classify, translate, ticket_event)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from plugins.translate.settings import TranslateSettings

if TYPE_CHECKING:
    from core.plugin_api import Desk

desk: "Desk | None" = None


def settings(of: "Desk | None" = None) -> TranslateSettings:
    target = of or desk
    if target is not None:
        found = target.registry.plugin_settings.get("translate")
        if found is not None:
            return found
    return TranslateSettings()
