"""Create the webhook subscriptions a store needs, through the Admin API (idempotent)."""

from __future__ import annotations

from typing import Any

from plugins.shopify import queries
from plugins.shopify.client import AdminClient


async def subscribe(client: AdminClient, callback_url: str,
                    topics: tuple[str, ...] = queries.SUBSCRIBED_TOPICS) -> dict[str, list[Any]]:
    """Returns {"created": [...], "existing": [...]}; raises UserErrors with Shopify's words."""
    data = await client.graphql(queries.WEBHOOK_SUBSCRIPTIONS, {"callbackUrl": callback_url})
    have = {node.get("topic") for node in ((data.get("webhookSubscriptions") or {}).get("nodes") or [])}
    created: list[Any] = []
    for topic in topics:
        if topic in have:
            continue
        payload = await client.mutate(queries.WEBHOOK_SUBSCRIPTION_CREATE, {
            "topic": topic, "webhookSubscription": {"callbackUrl": callback_url, "format": "JSON"},
        }, "webhookSubscriptionCreate")
        created.append((payload.get("webhookSubscription") or {}).get("id"))
    return {"created": created, "existing": sorted(t for t in have if t in topics)}
