"""Shopify: every connected store's orders beside the conversation, order actions from the ticket,
webhooks (orders, fulfillments, refunds, customers, privacy) and the commerce context.
See docs/plugins/shopify.md."""

from plugins.shopify.plugin import (  # noqa: F401
    customer_context,
    parse_webhook,
    register_channels,
    register_commands,
    register_jobs,
    register_migrations,
    register_routes,
    register_settings,
    render_panel,
    shutdown,
    startup,
    ticket_event,
)

__all__ = [
    "register_channels", "register_settings", "register_migrations", "register_routes", "register_jobs",
    "register_commands", "startup", "shutdown", "parse_webhook", "customer_context", "render_panel",
    "ticket_event",
]
