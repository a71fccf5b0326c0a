"""What the plugin keeps per process: the running desk and one API client per account (its tokens)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from core.plugin_api import Account
from plugins.ebay.client import EbayClient
from plugins.ebay.settings import EbaySettings

if TYPE_CHECKING:
    from core.plugin_api import Desk

desk: "Desk | None" = None
clients: dict[tuple[int, str], EbayClient] = {}
public_keys: dict[str, tuple[Any, float]] = {}  # kid -> (public key, fetched at monotonic)


def settings() -> EbaySettings:
    if desk is not None:
        found = desk.registry.plugin_settings.get("ebay")
        if found is not None:
            return found
    return EbaySettings()


def client_for(account: Account) -> EbayClient:
    key = (id(account.settings), account.name)
    client = clients.get(key)
    if client is None:
        client = clients[key] = EbayClient(account.settings)
    return client


async def close_clients() -> None:
    for key, client in list(clients.items()):
        await client.close()
        clients.pop(key, None)
    public_keys.clear()


def parse_time(value: Any) -> datetime | None:
    """eBay's ISO 8601 timestamps (REST: a string; Post-Order: {"value": ...}) as UTC datetimes."""
    if isinstance(value, dict):
        value = value.get("value")
    if not value:
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    # Stored in UTC: SQLite compares timestamps as text, so offsets must not differ between rows.
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def iso(when: datetime) -> str:
    """eBay's input format: yyyy-MM-ddThh:mm:ss.sssZ."""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
