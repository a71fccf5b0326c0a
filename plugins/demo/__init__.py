"""A demo channel: sample customers writing in several languages, new messages every few seconds,
replies that are "delivered" at once, and made-up orders in the ticket view. Used by `relaydesk demo`;
never enable it on a real desk."""

from plugins.demo.plugin import (  # noqa: F401
    customer_context, register_channels, register_jobs, register_settings, render_panel, send_message,
)

__all__ = ["customer_context", "register_channels", "register_jobs", "register_settings", "render_panel", "send_message"]
