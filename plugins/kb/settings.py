"""Settings of the knowledge-base plugin: `[plugins.kb]` in plugins.toml."""

from __future__ import annotations

import msgspec


class KbSettings(msgspec.Struct, forbid_unknown_fields=True):
    cache_seconds: float = 30.0  # public pages; a write clears the writing process's cache at once
    suggestions: int = 3  # articles the ticket view suggests (0: none)

    def __post_init__(self) -> None:
        if self.cache_seconds < 0 or self.cache_seconds > 3600:
            raise ValueError("cache_seconds must be between 0 and 3600")
        if not 0 <= self.suggestions <= 10:
            raise ValueError("suggestions must be between 0 and 10")
