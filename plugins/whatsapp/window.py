"""The 24-hour customer-service window: free-form messages only within 24 hours of the customer's
last message; outside it, only approved templates."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from core import clock

WINDOW = timedelta(hours=24)
PARAM = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
CLOSED = ("the 24-hour customer-service window is closed (the customer last wrote more than 24 hours ago "
          "or never wrote): WhatsApp only delivers an approved template now")

# (account id) -> (expires at monotonic, templates); templates change rarely and listing them is slow.
_template_cache: dict[int, tuple[float, list[dict[str, Any]]]] = {}


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


def describe(template: dict[str, Any], body: str) -> dict[str, Any]:
    params = list(dict.fromkeys(PARAM.findall(body)))
    return {"name": template.get("name"), "language": template.get("language"), "params": params, "text": body}


def cached(account_id: int) -> list[dict[str, Any]] | None:
    hit = _template_cache.get(account_id)
    return hit[1] if hit and hit[0] > time.monotonic() else None


def remember(account_id: int, templates: list[dict[str, Any]], seconds: float) -> None:
    _template_cache[account_id] = (time.monotonic() + seconds, templates)


def forget() -> None:
    _template_cache.clear()
