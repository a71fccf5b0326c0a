"""Per-account settings of a WhatsApp Cloud API number (validated at start-up)."""

from __future__ import annotations

import msgspec


class TemplateSetting(msgspec.Struct, forbid_unknown_fields=True):
    """An approved template the agent may send outside the 24-hour window (when it is not fetched)."""

    name: str
    language: str = "en_US"
    params: list[str] = []
    text: str = ""


class WhatsAppAccountSettings(msgspec.Struct, forbid_unknown_fields=True):
    phone_number_id: str
    access_token: str
    app_secret: str
    verify_token: str
    # The WhatsApp Business Account id: templates are fetched from /{id}/message_templates.
    business_account_id: str | None = None
    graph_version: str = "v21.0"
    base_url: str = "https://graph.facebook.com"
    timeout_seconds: float = 15.0
    # Used instead of fetching when business_account_id is not set (or in addition to it).
    templates: list[TemplateSetting] = []
    template_cache_seconds: float = 600.0
    # Graph gives no Retry-After; how long to wait after a rate-limit error before the next attempt.
    rate_limit_backoff_seconds: float = 60.0
    max_media_bytes: int = 100 * 1024 * 1024
