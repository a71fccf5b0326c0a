"""Meta's messaging windows for Messenger and Instagram: free replies (messaging_type RESPONSE)
within 24 hours of the customer's last message; with the HUMAN_AGENT tag (messaging_type
MESSAGE_TAG) up to 7 days; nothing after that."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from core.plugin_api import clock

STANDARD = timedelta(hours=24)
HUMAN_AGENT = timedelta(days=7)
CLOSED = ("the messaging window is closed: the customer last wrote more than {limit} ago (or never wrote), "
          "so Meta will not deliver a reply until they write again")


def aware(value: Any) -> datetime | None:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def state(last_customer_message_at: Any, human_agent_tag: bool) -> tuple[str | None, datetime | None]:
    """("24h" | "human_agent" | None when closed, when the current window closes)."""
    last = aware(last_customer_message_at)
    if last is None:
        return None, None
    now = clock.now()
    if now < last + STANDARD:
        return "24h", last + STANDARD
    if human_agent_tag and now < last + HUMAN_AGENT:
        return "human_agent", last + HUMAN_AGENT
    return None, last + (HUMAN_AGENT if human_agent_tag else STANDARD)


def closed_reason(human_agent_tag: bool) -> str:
    return CLOSED.format(limit="7 days" if human_agent_tag else "24 hours")
