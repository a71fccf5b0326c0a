"""Amazon: Buyer-Seller Messaging relay mail recognised on any email account, replies shaped for
the relay and checked against Amazon's messaging rules, orders from the Selling Partner API in the
commerce context, Amazon's 24-hour response expectation as the SLA, proactive Messaging API
messages. See docs/plugins/amazon.md."""

from plugins.amazon.plugin import (  # noqa: F401
    adapt_inbound,
    check_draft,
    customer_context,
    register_channels,
    register_jobs,
    register_migrations,
    register_routes,
    register_settings,
    render_panel,
    shape_outbound,
    shutdown,
    sla_targets,
    startup,
    ticket_event,
)

__all__ = [
    "register_channels", "register_settings", "register_migrations", "register_routes", "register_jobs",
    "startup", "shutdown", "adapt_inbound", "ticket_event", "sla_targets", "shape_outbound", "check_draft",
    "customer_context", "render_panel",
]
