"""Assist: offline intent and sentiment on every inbound message, "where is my order" answered
from the order's real tracking, and suggested replies. See docs/plugins/assist.md."""

from plugins.assist.plugin import (  # noqa: F401
    classify,
    register_commands,
    register_migrations,
    register_routes,
    register_settings,
    render_panel,
    shutdown,
    startup,
    ticket_event,
)

__all__ = ["register_settings", "register_commands", "register_migrations", "register_routes", "startup",
           "shutdown", "classify", "ticket_event", "render_panel"]
