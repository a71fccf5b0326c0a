"""Settings of the Amazon plugin: one account per Selling Partner API authorization (a seller in one
region), each listing the marketplaces it sells on; plus plugin-wide knobs."""

from __future__ import annotations

import re

import msgspec

# Regional SP-API endpoints (the LWA token endpoint is the same for every region).
ENDPOINTS = {
    "na": "https://sellingpartnerapi-na.amazon.com",
    "eu": "https://sellingpartnerapi-eu.amazon.com",
    "fe": "https://sellingpartnerapi-fe.amazon.com",
}
LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"
# The draft rules an admin may switch off (see plugins/amazon/drafts.py).
DRAFT_RULES = ("link", "email_address", "phone", "html", "quoted_history", "tracking_marker", "feedback")
_DOMAIN = re.compile(r"amazon\.[a-z]{2,3}(\.[a-z]{2})?")


class Marketplace(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """`[plugins.amazon.accounts.<name>.marketplaces."amazon.de"]`: one marketplace the seller sells on.

    The key is the marketplace's domain as the relay addresses show it (``...@marketplace.amazon.de``).
    """

    marketplace_id: str  # e.g. "A1PA6795UKMFR9" (amazon.de)
    # The address Amazon knows as the seller's for this marketplace ("approved sender"): replies to
    # its buyers go out from it, or the relay rejects them.
    seller_address: str
    seller_name: str | None = None

    def __post_init__(self) -> None:
        if "@" not in self.seller_address or " " in self.seller_address.strip():
            raise ValueError(f"seller_address {self.seller_address!r} is not an email address")
        if not re.fullmatch(r"[A-Z0-9]{8,20}", self.marketplace_id):
            raise ValueError(f"marketplace_id {self.marketplace_id!r} does not look like an Amazon marketplace id")


class AmazonAccountSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """`[plugins.amazon.accounts.<name>]`: one seller's SP-API authorization in one region."""

    lwa_client_id: str  # the app's LWA client identifier (amzn1.application-oa2-client....)
    lwa_client_secret: str  # secret: { env = "..." }
    refresh_token: str  # the seller's authorization (Atzr|...): { env = "..." }
    marketplaces: dict[str, Marketplace]
    region: str = "eu"
    seller_id: str | None = None
    # Tests (and proxies) point the clients elsewhere.
    endpoint: str | None = None
    lwa_url: str = LWA_TOKEN_URL
    timeout_seconds: float = 20.0
    max_attempts: int = 5
    # The longest the client waits for a rate-limit token or a backoff before giving up.
    max_wait_seconds: float = 120.0
    # Orders polling: how often, and how far back the first poll reaches.
    poll_orders: bool = True
    poll_interval_seconds: float = 300.0
    initial_days: int = 30
    # Fetch buyer details (name, anonymised email) with a restricted data token; needs the Tax
    # Invoicing / Tax Remittance role. Without it orders are linked by the relay address only when
    # a buyer writes about them.
    buyer_info: bool = True

    def __post_init__(self) -> None:
        if self.region not in ENDPOINTS:
            raise ValueError(f"region must be one of {', '.join(ENDPOINTS)}")
        if not self.marketplaces:
            raise ValueError("marketplaces must name at least one marketplace, like \"amazon.de\"")
        for domain in self.marketplaces:
            if not _DOMAIN.fullmatch(domain):
                raise ValueError(f"marketplaces: {domain!r} is not a marketplace domain such as \"amazon.de\" or \"amazon.co.uk\"")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    @property
    def api_base(self) -> str:
        return (self.endpoint or ENDPOINTS[self.region]).rstrip("/")

    def marketplace_domain(self, marketplace_id: str) -> str | None:
        return next((d for d, m in self.marketplaces.items() if m.marketplace_id == marketplace_id), None)


class AmazonSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """`[plugins.amazon]`: plugin-wide settings."""

    # Amazon expects an answer to every buyer message within 24 hours, weekends included: the default
    # SLA of Amazon conversations, counted round the clock. None: no such target. sla = false leaves
    # Amazon conversations to the desk's own SLA policies.
    sla: bool = True
    first_response_hours: float | None = 24.0
    next_response_hours: float | None = 24.0
    resolution_hours: float | None = None
    # Draft rules switched off (a false positive the admin accepts): any of DRAFT_RULES.
    draft_rules_off: list[str] = msgspec.field(default_factory=list)
    # How many orders the ticket view and templates show per customer.
    context_orders: int = 10

    def __post_init__(self) -> None:
        unknown = set(self.draft_rules_off) - set(DRAFT_RULES)
        if unknown:
            raise ValueError(f"draft_rules_off: unknown rule(s) {', '.join(sorted(unknown))}; use {', '.join(DRAFT_RULES)}")
        for name in ("first_response_hours", "next_response_hours", "resolution_hours"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive (or left out for no target)")
