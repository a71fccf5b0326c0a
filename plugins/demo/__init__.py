"""A demo channel: sample customers writing in several languages, new messages every few seconds,
replies that are "delivered" at once; and the demo's own loopback platforms (a Shopify store and an
Amazon seller account, plugins/demo/fakes.py) whose orders fill the ticket view's panels. Used by
`relaydesk demo`; never enable it on a real desk."""

from plugins.demo.plugin import (  # noqa: F401
    register_channels, register_commands, register_jobs, register_routes, register_settings, send_message, startup,
)

__all__ = ["register_channels", "register_commands", "register_jobs", "register_routes", "register_settings", "send_message", "startup"]
