"""Backfill the order cache from the Admin API: every order updated in the last N days, page by page."""

from __future__ import annotations

from datetime import timedelta
from typing import Callable

from core.plugin_api import clock, db
from core.plugin_api import Account
from plugins.shopify import cache, queries
from plugins.shopify.client import AdminClient
from plugins.shopify.normalize import graphql_order

PAGE_SIZE = 50


def search_query(days: int) -> str:
    since = (clock.now() - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"updated_at:>='{since}'"


async def count_orders(client: AdminClient, days: int) -> int | None:
    data = await client.graphql(queries.ORDERS_COUNT, {"query": search_query(days)})
    count = (data.get("ordersCount") or {}).get("count")
    return int(count) if count is not None else None


async def backfill(account: Account, client: AdminClient, days: int, *, trust_verified: bool = True,
                   page_size: int = PAGE_SIZE, on_page: Callable[[int], None] | None = None) -> int:
    """Store every order updated in the last `days` days; returns how many. Each page commits on its
    own, so an interrupted backfill keeps what it fetched and a rerun is harmless (upserts)."""
    query = search_query(days)
    after = None
    stored = 0
    while True:
        data = await client.graphql(queries.ORDERS_PAGE, {"first": page_size, "after": after, "query": query})
        page = data.get("orders") or {}
        nodes = page.get("nodes") or []
        async with db.transaction():
            for node in nodes:
                await cache.upsert_order(account, graphql_order(node), trust_verified=trust_verified)
        stored += len(nodes)
        if on_page:
            on_page(len(nodes))
        info = page.get("pageInfo") or {}
        if not info.get("hasNextPage") or not info.get("endCursor"):
            return stored
        after = info["endCursor"]
