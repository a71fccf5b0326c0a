"""The generic API channel: any system posts messages as HMAC-signed JSON; replies go to a callback
URL, signed the same way. The wire format is documented in docs/api-channel.md."""

from plugins.api_channel.plugin import (  # noqa: F401
    parse_webhook,
    register_channels,
    send_message,
)

__all__ = ["register_channels", "parse_webhook", "send_message"]
