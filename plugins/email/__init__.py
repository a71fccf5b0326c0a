"""Email channel plugin for Relaydesk: IMAP (IDLE or polling) and raw-mail ingest in, SMTP out.

The parser (`plugins.email.parse`) turns raw RFC 5322 bytes into a `ParsedEmail`; `receive`
turns that into the core's InboundMessage or, for a bounce, a StatusUpdate. See
docs/plugins/email.md.
"""

from plugins.email.plugin import (  # noqa: F401
    desk_mail,
    parse_webhook,
    poll,
    register_channels,
    register_commands,
    register_jobs,
    send_message,
    shutdown,
)

__all__ = ["desk_mail", "register_channels", "register_commands", "register_jobs", "parse_webhook", "poll",
           "send_message", "shutdown"]
