"""eBay: member messages through the Message API, returns and cases through the Post-Order API with
eBay's respond-by dates as the SLA, orders in the cache and the commerce context, and the mandatory
marketplace account deletion notifications. See docs/plugins/ebay.md."""

from plugins.ebay.plugin import (  # noqa: F401
    customer_context,
    poll,
    register_channels,
    register_migrations,
    register_routes,
    register_settings,
    render_panel,
    send_message,
    shutdown,
    startup,
)

__all__ = [
    "register_channels", "register_settings", "register_migrations", "register_routes", "startup", "shutdown",
    "poll", "send_message", "customer_context", "render_panel",
]
