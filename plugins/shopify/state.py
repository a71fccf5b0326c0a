"""What the plugin keeps per process: the running desk (hooks without a desk argument read its
settings) and one Admin API client per store, so each store's cost-bucket state is shared."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.plugin_api import Account
from plugins.shopify.client import AdminClient
from plugins.shopify.settings import ShopifySettings

if TYPE_CHECKING:
    from core.plugin_api import Desk

desk: "Desk | None" = None
clients: dict[tuple[int, str], AdminClient] = {}


def settings() -> ShopifySettings:
    if desk is not None:
        found = desk.registry.plugin_settings.get("shopify")
        if found is not None:
            return found
    return ShopifySettings()


def client_for(account: Account) -> AdminClient:
    key = (id(account), account.name)
    client = clients.get(key)
    if client is None:
        client = clients[key] = AdminClient(account.settings)
    return client


async def close_clients(accounts: Any = None) -> None:
    for key, client in list(clients.items()):
        await client.close()
        clients.pop(key, None)
