"""The running desk, for code that gets no desk argument."""

from __future__ import annotations

from typing import Any

from plugins.kb.settings import KbSettings

desk: Any = None


def settings() -> KbSettings:
    if desk is not None:
        found = desk.registry.plugin_settings.get("kb")
        if found is not None:
            return found
    return KbSettings()
