"""Build the MIME message for an agent's reply: headers for threading and loop prevention, the
text and an HTML alternative, attachments."""

from __future__ import annotations

import hashlib
import html as html_lib
import re
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr

from core.plugin_api import clock
from core.plugin_api import OutboundMessage

from .settings import EmailAccountSettings

_REPLY_PREFIX = re.compile(r"^\s*((re|aw|sv|antw|vs|r|回复|回覆|答复)\s*(\[\d+\])?\s*[:：]\s*)+", re.I)
_TICKET_TAG = re.compile(r"\s*\[#\d{1,12}\]")
MAX_REFERENCES = 20  # RFC 5322 lets a client trim References; keep the root and the latest


def message_id_for(message: OutboundMessage, settings: EmailAccountSettings) -> str:
    """The same Message-ID on every attempt to send this reply, so a resend after a crash is
    recognisably the same mail and replies to either copy thread the same way. An untracked
    message gets an opaque one that names neither the ticket nor the message."""
    sender = message.from_address or settings.from_address
    domain = sender.rsplit("@", 1)[-1].strip().lower() or "relaydesk.invalid"
    digest = hashlib.sha256(f"{message.idempotency_key}\0{sender}\0{message.text}".encode()).hexdigest()
    if message.untracked:
        return f"<{digest[:32]}@{domain}>"
    return f"<relaydesk.{message.ticket_id}.{message.message_id}.{digest[:16]}@{domain}>"


def reply_subject(subject: str | None, ticket_id: int, *, tag: bool = True) -> str:
    """"Re: <the ticket's subject> [#123]", without stacking prefixes or tags; without the ticket
    number when `tag` is False (an untracked message)."""
    base = _TICKET_TAG.sub("", _REPLY_PREFIX.sub("", subject or "")).strip()
    if not tag:
        return f"Re: {base}" if base else "Re: your message"
    return f"Re: {base} [#{ticket_id}]" if base else f"Re: your message [#{ticket_id}]"


def _references(message: OutboundMessage) -> list[str]:
    refs = list(dict.fromkeys([*message.references, *([message.in_reply_to] if message.in_reply_to else [])]))
    refs = [r for r in refs if r.startswith("<") and r.endswith(">") and "relaydesk.invalid" not in r]
    if len(refs) > MAX_REFERENCES:
        refs = refs[:1] + refs[-(MAX_REFERENCES - 1):]
    return refs


def text_to_html(text: str) -> str:
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    body = "".join(f"<p>{html_lib.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    return f"<!DOCTYPE html><html><body>{body}</body></html>"


def compose(message: OutboundMessage, settings: EmailAccountSettings, now: datetime | None = None) -> EmailMessage:
    mail = EmailMessage(policy=SMTP)
    name = settings.from_name or message.author_name or ""
    mail["From"] = formataddr((name, message.from_address or settings.from_address))
    mail["To"] = message.recipient_handle
    mail["Subject"] = reply_subject(message.subject, message.ticket_id, tag=not message.untracked)
    mail["Date"] = format_datetime(now or clock.now())
    mail["Message-ID"] = message_id_for(message, settings)
    refs = [] if message.untracked else _references(message)
    parent = message.in_reply_to if message.in_reply_to in refs else (refs[-1] if refs else None)
    if parent:
        mail["In-Reply-To"] = parent
        mail["References"] = " ".join(refs)
    if message.automatic:
        # RFC 3834: an automatic reply says so, and asks other responders not to answer it.
        mail["Auto-Submitted"] = "auto-replied"
        mail["X-Auto-Response-Suppress"] = "All"
    if not message.untracked:
        mail["X-Relaydesk-Ticket"] = str(message.ticket_id)
    mail.set_content(message.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    if not message.plain_text:
        mail.add_alternative(message.html or text_to_html(message.text), subtype="html", charset="utf-8",
                             cte="quoted-printable")
    for item in message.attachments:
        maintype, _, subtype = (item.content_type or "application/octet-stream").partition("/")
        mail.add_attachment(item.data, maintype=maintype or "application", subtype=subtype or "octet-stream",
                            filename=item.filename)
    return mail
