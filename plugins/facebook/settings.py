"""Per-account settings of a Facebook Page (Messenger) or an Instagram professional account."""

from __future__ import annotations

import msgspec


class MessengerAccountSettings(msgspec.Struct, forbid_unknown_fields=True):
    page_id: str
    page_access_token: str
    app_secret: str
    verify_token: str
    graph_version: str = "v21.0"
    base_url: str = "https://graph.facebook.com"
    timeout_seconds: float = 15.0
    # Between 24 hours and 7 days after the customer's last message, send with the HUMAN_AGENT tag
    # (the app needs Meta's Human Agent permission). False: replies stop after 24 hours.
    human_agent_tag: bool = True
    download_media: bool = True
    rate_limit_backoff_seconds: float = 60.0
    max_media_bytes: int = 25 * 1024 * 1024
    # Name customers through the User Profile API (a Business app needs Meta's Business Asset User
    # Profile Access for Messenger).
    fetch_names: bool = True


class InstagramAccountSettings(msgspec.Struct, forbid_unknown_fields=True):
    ig_account_id: str
    page_access_token: str
    app_secret: str
    verify_token: str
    # The Send API node: the linked Facebook Page's id, or "me" for the token's own node.
    page_id: str = "me"
    graph_version: str = "v21.0"
    base_url: str = "https://graph.facebook.com"
    timeout_seconds: float = 15.0
    human_agent_tag: bool = True
    # Meta's Instagram messaging policy forbids storing media users send; keep the CDN link instead.
    download_media: bool = False
    rate_limit_backoff_seconds: float = 60.0
    max_media_bytes: int = 25 * 1024 * 1024
    # Name customers through the User Profile API (a Business app needs Meta's Business Asset User
    # Profile Access for Messenger).
    fetch_names: bool = True
