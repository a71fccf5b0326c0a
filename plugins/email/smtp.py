"""Send a reply by SMTP (aiosmtplib) and classify failures for the core's retry logic."""

from __future__ import annotations

import logging
from email.utils import parseaddr

from core.plugin_api import ChannelError
from core.plugin_api import OutboundMessage, SendResult

from .compose import compose
from .imap import tls_context
from .settings import EmailAccountSettings, server_url

log = logging.getLogger("relaydesk.email.smtp")


async def send(settings: EmailAccountSettings, message: OutboundMessage) -> SendResult:
    import aiosmtplib

    if not settings.smtp_url:
        raise ChannelError("this email account has no smtp_url, so replies cannot be sent", retryable=False)
    recipient = parseaddr(message.recipient_handle)[1]
    if "@" not in recipient or recipient.endswith("@relaydesk.invalid"):
        raise ChannelError(f"the customer has no usable email address ({message.recipient_handle!r})", retryable=False)
    mail = compose(message, settings)
    data = mail.as_bytes()  # policy SMTP: CRLF line ends, exactly the bytes that go on the wire
    url = server_url(settings.smtp_url, ("smtp", "smtps"))
    try:
        await aiosmtplib.send(
            data, sender=message.from_address or settings.from_address, recipients=[recipient],
            hostname=url.host, port=url.port,
            username=settings.smtp_username, password=settings.smtp_password,
            use_tls=url.implicit_tls, start_tls=False if url.implicit_tls else settings.smtp_starttls,
            tls_context=tls_context(settings), timeout=settings.timeout_seconds,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [r.code for r in exc.recipients]
        text = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
        raise ChannelError(f"the SMTP server refused the recipient: {text}"[:1000],
                           retryable=all(400 <= c < 500 for c in codes), platform_code=str(codes[0] if codes else "")) from None
    except aiosmtplib.SMTPAuthenticationError as exc:
        # Wrong credentials are fixed in plugins.toml, not per message: keep retrying with backoff.
        raise ChannelError(f"SMTP login failed for {settings.smtp_username}: {exc.code} {exc.message}",
                           retryable=True, platform_code=str(exc.code)) from None
    except aiosmtplib.SMTPResponseException as exc:
        raise ChannelError(f"the SMTP server answered {exc.code} {exc.message}"[:1000],
                           retryable=not (500 <= exc.code < 600), platform_code=str(exc.code)) from None
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise ChannelError(f"cannot send through {url.host}:{url.port}: {type(exc).__name__}: {exc}",
                           retryable=True) from None
    return SendResult(external_id=mail["Message-ID"], status="sent")
