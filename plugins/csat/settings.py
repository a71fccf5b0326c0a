"""Settings of the CSAT plugin: `[plugins.csat]` in plugins.toml."""

from __future__ import annotations

import msgspec

# Channels whose platform rules forbid soliciting feedback: off unless switched on explicitly.
SOLICITATION_FORBIDDEN = {
    "amazon": "Amazon's buyer-seller messaging guidelines forbid asking buyers for feedback or reviews "
              "in messages, and survey links to outside sites are not permitted",
    "ebay": "eBay's member-to-member messaging rules forbid using messages to solicit feedback or to send "
            "links that take buyers off eBay",
}
SURVEY_KINDS = ("csat", "nps")


class CsatSettings(msgspec.Struct, forbid_unknown_fields=True):
    """When and where surveys go. The link is signed with the desk's `[relaydesk] secret`."""

    survey: str = "csat"  # "csat": 1-5 satisfaction; "nps": 0-10 likelihood to recommend
    delay_minutes: float = 60.0  # after the ticket is solved
    link_valid_days: float = 7.0
    cooldown_days: float = 30.0  # at most one survey per customer in this window
    # Per channel type: true/false overrides the default (on, except SOLICITATION_FORBIDDEN channels).
    channels: dict[str, bool] = {}
    low_csat: int = 2  # a CSAT score at or below this is a low rating
    low_nps: int = 6  # an NPS score at or below this (a detractor) is a low rating

    def __post_init__(self) -> None:
        if self.survey not in SURVEY_KINDS:
            raise ValueError(f"survey must be one of {', '.join(SURVEY_KINDS)}, not {self.survey!r}")
        if self.delay_minutes < 0 or self.link_valid_days <= 0 or self.cooldown_days < 0:
            raise ValueError("delay_minutes and cooldown_days must be >= 0 and link_valid_days > 0")

    def channel_enabled(self, channel_type: str) -> tuple[bool, str | None]:
        """(on?, why it is off by default) for a channel type."""
        if channel_type in self.channels:
            return self.channels[channel_type], None
        reason = SOLICITATION_FORBIDDEN.get(channel_type)
        return reason is None, reason

    def scale(self) -> range:
        return range(1, 6) if self.survey == "csat" else range(0, 11)
