"""Facebook Messenger and Instagram direct messages: webhooks (handshake, X-Hub-Signature-256, messages,
echoes, postbacks, reactions, receipts), the Send API inside Meta's messaging windows, and attachment
downloads in a job. See docs/plugins/facebook.md."""

from plugins.facebook.plugin import (  # noqa: F401
    parse_webhook,
    register_channels,
    register_jobs,
    reply_constraints,
    send_message,
    shutdown,
    startup,
    ticket_event,
)

__all__ = ["register_channels", "register_jobs", "parse_webhook", "reply_constraints", "send_message",
           "startup", "shutdown", "ticket_event"]
