"""Settings of the Shopify plugin: one account per store, plus plugin-wide knobs."""

from __future__ import annotations

import re

import msgspec

# The Admin API version every request is pinned to; Shopify supports each version for a year.
DEFAULT_API_VERSION = "2025-01"


class ShopifyAccountSettings(msgspec.Struct, forbid_unknown_fields=True):
    """`[plugins.shopify.accounts.<name>]`: one Shopify store."""

    shop: str  # the store's myshopify domain, e.g. "example.myshopify.com"
    access_token: str  # Admin API access token (X-Shopify-Access-Token): { env = "..." }
    webhook_secret: str  # the app's client secret that signs webhooks: { env = "..." }
    api_version: str = DEFAULT_API_VERSION
    # Tests (and proxies) point the client elsewhere; default https://<shop>.
    base_url: str | None = None
    timeout_seconds: float = 20.0
    max_attempts: int = 5
    # The longest the client waits for the cost bucket or a Retry-After before giving up.
    max_wait_seconds: float = 60.0

    def __post_init__(self) -> None:
        if "/" in self.shop or not self.shop.strip():
            raise ValueError("shop must be the store's domain, like example.myshopify.com")
        if not re.fullmatch(r"\d{4}-(01|04|07|10)|unstable", self.api_version):
            raise ValueError("api_version must be a Shopify release such as 2025-01 (January, April, July, October)")

    @property
    def api_base(self) -> str:
        return (self.base_url or f"https://{self.shop}").rstrip("/")


class ShopifySettings(msgspec.Struct, forbid_unknown_fields=True):
    """`[plugins.shopify]`: plugin-wide settings."""

    # A fulfillment whose tracking has not changed for this many days raises shopify.no_tracking_update.
    no_tracking_update_days: int = 5
    tracking_check_interval_seconds: float = 3600.0
    # The role needed to cancel or refund (money moves); notes and tags need "agent".
    money_actions_role: str = "admin"
    # Emails Shopify marks verified (customer.verified_email) count as verified identities.
    trust_verified_email: bool = True
    # How many orders the ticket view and templates show per customer.
    context_orders: int = 10

    def __post_init__(self) -> None:
        if self.money_actions_role not in ("agent", "admin"):
            raise ValueError("money_actions_role must be agent or admin")
        if self.no_tracking_update_days < 1:
            raise ValueError("no_tracking_update_days must be at least 1")
