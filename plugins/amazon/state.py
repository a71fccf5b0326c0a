"""What the plugin keeps per process: the running desk (hooks without a desk argument read its
settings) and one SP-API client per seller account, so tokens and rate-limit buckets are shared."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.plugin_api import Account
from plugins.amazon.client import SpApiClient
from plugins.amazon.settings import AmazonSettings

if TYPE_CHECKING:
    from core.plugin_api import Desk

desk: "Desk | None" = None
clients: dict[tuple[int, str], SpApiClient] = {}


def settings() -> AmazonSettings:
    if desk is not None:
        found = desk.registry.plugin_settings.get("amazon")
        if found is not None:
            return found
    return AmazonSettings()


def accounts() -> list[Account]:
    if desk is None:
        return []
    return [a for a in desk.registry.accounts.values() if a.plugin == "amazon"]


def account_for_marketplace(marketplace: str) -> Account | None:
    """The seller account that sells on a marketplace domain ("amazon.de")."""
    return next((a for a in accounts() if marketplace in a.settings.marketplaces), None)


def client_for(account: Account) -> SpApiClient:
    key = (id(account), account.name)
    client = clients.get(key)
    if client is None:
        client = clients[key] = SpApiClient(account.settings)
    return client


async def close_clients() -> None:
    for key, client in list(clients.items()):
        await client.close()
        clients.pop(key, None)
