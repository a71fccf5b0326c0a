"""Settings of the eBay plugin: one account per eBay seller account, plus plugin-wide settings for
eBay's marketplace account deletion notifications (one endpoint per application keyset)."""

from __future__ import annotations

import msgspec

DEFAULT_SCOPES = (
    "https://api.ebay.com/oauth/api_scope",
    "https://api.ebay.com/oauth/api_scope/sell.fulfillment",
    "https://api.ebay.com/oauth/api_scope/commerce.message",
)
MARKETPLACES = ("EBAY_US", "EBAY_GB", "EBAY_DE", "EBAY_AU", "EBAY_CA", "EBAY_FR", "EBAY_IT", "EBAY_ES",
                "EBAY_AT", "EBAY_BE", "EBAY_CH", "EBAY_IE", "EBAY_NL", "EBAY_PL", "EBAY_HK", "EBAY_SG",
                "EBAY_MY", "EBAY_PH", "EBAY_IN", "EBAY_MOTORS_US")


class EbayAccountSettings(msgspec.Struct, forbid_unknown_fields=True):
    """`[plugins.ebay.accounts.<name>]`: one eBay seller account, reached through an application keyset."""

    client_id: str  # the keyset's App ID
    client_secret: str  # the keyset's Cert ID: { env = "..." }
    refresh_token: str  # the seller's OAuth refresh token (authorization code grant): { env = "..." }
    seller_username: str  # our own eBay user name: messages from it are our replies made on eBay
    marketplace_id: str = "EBAY_US"
    scopes: list[str] = msgspec.field(default_factory=lambda: list(DEFAULT_SCOPES))
    # Tests (and proxies) point the client elsewhere.
    api_base: str = "https://api.ebay.com"
    timeout_seconds: float = 20.0
    max_attempts: int = 4
    # The longest the client waits out a 429's Retry-After inside one poll or send before giving up.
    max_wait_seconds: float = 30.0
    page_size: int = 50
    # The first poll reaches this far back (messages, orders).
    initial_lookback_days: int = 30
    poll_messages: bool = True
    poll_returns: bool = True
    poll_cases: bool = True
    poll_orders: bool = True

    def __post_init__(self) -> None:
        if not self.client_id.strip() or not self.client_secret.strip() or not self.refresh_token.strip():
            raise ValueError("client_id, client_secret and refresh_token must not be empty")
        if not self.seller_username.strip():
            raise ValueError("seller_username must be the seller's eBay user name")
        if self.marketplace_id not in MARKETPLACES:
            raise ValueError(f"marketplace_id must be one of {', '.join(MARKETPLACES)}")
        if not 1 <= self.page_size <= 50:
            raise ValueError("page_size must be between 1 and 50 (the Message API's maximum)")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not self.api_base.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ValueError("api_base must be an https:// URL")

    @property
    def base(self) -> str:
        return self.api_base.rstrip("/")


class EbaySettings(msgspec.Struct, forbid_unknown_fields=True):
    """`[plugins.ebay]`: plugin-wide settings."""

    # Marketplace account deletion: the verification token and the exact endpoint URL entered in
    # eBay's developer portal (the challenge response hashes both). Unset: the endpoint answers 404.
    verification_token: str | None = None
    deletion_endpoint: str | None = None
    # Which account's keyset fetches the Notification API's public keys; default: the first account.
    notification_account: str | None = None
    max_notification_bytes: int = 64 * 1024
    # How many cached orders the ticket view and templates show per customer.
    context_orders: int = 10

    def __post_init__(self) -> None:
        if self.verification_token is not None and not 32 <= len(self.verification_token) <= 80:
            raise ValueError("verification_token must be 32 to 80 characters (eBay's rule)")
        if self.verification_token and not self.deletion_endpoint:
            raise ValueError("deletion_endpoint must be the exact https URL registered with eBay")
        if self.deletion_endpoint and not self.deletion_endpoint.startswith(("https://", "http://")):
            raise ValueError("deletion_endpoint must be a URL")
