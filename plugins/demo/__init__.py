"""A demo channel: sample customers writing in several languages, new messages every few seconds,
and replies that are "delivered" at once. Used by `relaydesk demo`; never enable it on a real desk."""

from plugins.demo.plugin import register_channels, register_jobs, register_settings, send_message  # noqa: F401

__all__ = ["register_channels", "register_jobs", "register_settings", "send_message"]
