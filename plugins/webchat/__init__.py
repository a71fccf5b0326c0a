"""Web chat: a contact widget for any store page (one script tag) that searches the help center
first, then opens a ticket through the `webchat` channel, with live replies. See docs/plugins/webchat.md."""

from plugins.webchat.plugin import (  # noqa: F401
    register_channels,
    register_migrations,
    register_routes,
    report_figures,
    send_message,
    shutdown,
    startup,
)

__all__ = ["register_channels", "register_migrations", "register_routes", "report_figures", "send_message", "shutdown",
           "startup"]
