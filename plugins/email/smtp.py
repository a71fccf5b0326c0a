"""Send a reply, or the desk's own mail to an agent, by SMTP (aiosmtplib); classify failures for the
core's retry logic."""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid, parseaddr

from core.plugin_api import ChannelError, clock
from core.plugin_api import OutboundMessage, SendResult

from .compose import compose
from .imap import tls_context
from .settings import EmailAccountSettings, server_url

log = logging.getLogger("relaydesk.email.smtp")


async def send(settings: EmailAccountSettings, message: OutboundMessage) -> SendResult:
    if not settings.smtp_url:
        raise ChannelError("this email account has no smtp_url, so replies cannot be sent", retryable=False)
    recipient = parseaddr(message.recipient_handle)[1]
    if "@" not in recipient or recipient.endswith("@relaydesk.invalid"):
        raise ChannelError(f"the customer has no usable email address ({message.recipient_handle!r})", retryable=False)
    mail = compose(message, settings)
    await deliver(settings, mail.as_bytes(), sender=message.from_address or settings.from_address, recipient=recipient)
    return SendResult(external_id=mail["Message-ID"], status="sent")


async def deliver(settings: EmailAccountSettings, data: bytes, *, sender: str, recipient: str) -> None:
    """Hand one composed mail (its exact wire bytes) to the account's SMTP server; failures become
    ChannelErrors that say whether trying again may help."""
    import aiosmtplib

    url = server_url(settings.smtp_url or "", ("smtp", "smtps"))
    try:
        await aiosmtplib.send(
            data, sender=sender, recipients=[recipient],
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


async def send_desk_mail(settings: EmailAccountSettings, to: str, subject: str, text: str) -> None:
    """A plain-text mail from the desk to one of its agents (core/desk_mail.py)."""
    recipient = parseaddr(to)[1]
    if "@" not in recipient:
        raise ChannelError(f"not an email address: {to!r}", retryable=False)
    mail = EmailMessage(policy=SMTP)
    mail["From"] = formataddr((settings.from_name or "Relaydesk", settings.from_address))
    mail["To"] = recipient
    mail["Subject"] = subject
    mail["Date"] = format_datetime(clock.now())
    mail["Message-ID"] = make_msgid(domain=settings.from_address.rpartition("@")[2] or None)
    # RFC 3834: nobody's vacation notice should answer a password link
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    await deliver(settings, mail.as_bytes(), sender=settings.from_address, recipient=recipient)
