"""Settings of a webchat account: `[plugins.webchat.accounts.<name>]` in plugins.toml."""

from __future__ import annotations

import msgspec


class WebchatSettings(msgspec.Struct, forbid_unknown_fields=True):
    # Sites that may embed the widget (its frame's CSP frame-ancestors), e.g. "https://shop.example".
    allowed_origins: list[str] = []
    # The help center searched before writing: /help/<help_brand>/<language>/search.json (kb plugin).
    help_brand: str = ""
    languages: list[str] = msgspec.field(default_factory=lambda: ["en", "zh"])  # the first is used when the store's language is not here
    color: str = "#1f6feb"
    pow_bits: int = 14  # proof of work per conversation: 2**bits hashes in the visitor's browser
    conversations_per_hour: int = 5  # per visitor address
    messages_per_minute: int = 12  # per visitor address
    away_seconds: float = 60.0  # a visitor unseen this long gets replies by email (if they gave one)

    def __post_init__(self) -> None:
        if not 0 <= self.pow_bits <= 24:
            raise ValueError("pow_bits must be between 0 and 24")
        for origin in self.allowed_origins:
            if not origin.startswith(("https://", "http://")) or origin.count("/") != 2 or " " in origin:
                raise ValueError(f"allowed_origins holds origins like https://shop.example, not {origin!r}")
        if not self.languages:
            raise ValueError("languages needs at least one language")
