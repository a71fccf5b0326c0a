"""The WhatsApp Cloud API channel: webhooks (handshake, X-Hub-Signature-256, messages and statuses),
sending text, media and approved templates inside Meta's rules, and media downloads in a job.
See docs/plugins/whatsapp.md."""

from plugins.whatsapp.plugin import (  # noqa: F401
    parse_webhook,
    register_channels,
    register_jobs,
    refresh_reply_templates,
    reply_constraints,
    send_message,
    shutdown,
    startup,
    ticket_event,
)

__all__ = ["register_channels", "register_jobs", "parse_webhook", "reply_constraints", "refresh_reply_templates", "send_message",
           "startup", "shutdown", "ticket_event"]
