"""The 24-hour customer-service window: free-form messages only within 24 hours of the customer's
last message; outside it, only approved templates."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from core.plugin_api import clock

WINDOW = timedelta(hours=24)


def N_(message: str) -> str:
    return message


# Marked for translation (N_): the reply box shows it in the agent's language.
CLOSED = N_("the 24-hour customer-service window is closed (the customer last wrote more than 24 hours ago "
            "or never wrote): WhatsApp only delivers an approved template now")


def aware(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def closes_at(last_customer_message_at: Any) -> datetime | None:
    last = aware(last_customer_message_at)
    return last + WINDOW if last else None


def is_open(last_customer_message_at: Any) -> bool:
    end = closes_at(last_customer_message_at)
    return end is not None and clock.now() < end
