"""Settings of the translate plugin: `[plugins.translate]` in plugins.toml."""

from __future__ import annotations

import msgspec

from plugins.translate.detect import DEFAULT_LANGUAGES

PROVIDERS = ("deepl", "google", "libretranslate", "openai")
DEFAULT_BASE_URLS = {
    "deepl": "https://api.deepl.com",  # Free API keys (ending ":fx") use https://api-free.deepl.com
    "google": "https://translation.googleapis.com",
    "libretranslate": "http://127.0.0.1:5000",
    "openai": "https://api.openai.com",
}


class TranslateSettings(msgspec.Struct, forbid_unknown_fields=True):
    """Which provider translates, and how. `api_key` is a secret: write `{ env = "NAME" }`."""

    provider: str = "libretranslate"
    base_url: str | None = None  # default per provider (DEFAULT_BASE_URLS); tests point it at loopback
    api_key: str = ""
    model: str = "gpt-4o-mini"  # OpenAI-compatible endpoints only
    glossary: dict[str, str] = {}  # source term -> fixed translation, applied around the provider
    do_not_translate: list[str] = []  # brand and product names kept verbatim
    daily_char_cap: int | None = None  # per provider per UTC day; None: no cap
    timeout_seconds: float = 20.0
    default_language: str = "en"  # the agent's language when the ticket has no agent who reads any
    detector: str = "py3langid"  # or "lingua" (see bench/langdetect.py)
    languages: list[str] = msgspec.field(default_factory=lambda: list(DEFAULT_LANGUAGES))  # candidates the detector chooses among
    min_confidence: float = 0.8
    # Inbound translations that failed for a passing reason (429, 5xx, network) are tried again
    # after retry_seconds, then twice as long, up to retry_attempts times; then the agent retries.
    retry_attempts: int = 3
    retry_seconds: float = 30.0

    def __post_init__(self) -> None:
        if self.provider not in PROVIDERS:
            raise ValueError(f"provider must be one of {', '.join(PROVIDERS)}, not {self.provider!r}")
        if self.detector not in ("py3langid", "lingua"):
            raise ValueError("detector must be py3langid or lingua")
        if self.daily_char_cap is not None and self.daily_char_cap < 0:
            raise ValueError("daily_char_cap must be positive (or left out for no cap)")

    @property
    def url(self) -> str:
        return (self.base_url or DEFAULT_BASE_URLS[self.provider]).rstrip("/")
