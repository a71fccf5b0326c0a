"""One raw mail -> what the core stores: an InboundMessage, or a StatusUpdate for a bounce.

Threading (the core applies it in this order): the Message-IDs in In-Reply-To/References, then
a ticket reference such as ``[#123]`` in the subject (only onto that customer's own ticket), then
the thread's root Message-ID as the thread key, then, when none of these found a ticket, the
subject's topic: the one ticket of the same customer updated within subject_threading_days whose
mails had the same subject, prefixes aside. Two customers whose subjects match are never merged.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from core.plugin_api import InboundMessage, StatusUpdate

from .dsn import read_report
from .parse import ParsedEmail, parse_email, to_inbound
from .ratelimit import LIMITER, RateLimiter
from .settings import EmailAccountSettings
from .subjects import topic

log = logging.getLogger("relaydesk.email")

MAX_ID = 255  # the core's external id and thread key columns
MAX_SUBJECT = 500
TICKET_REF = re.compile(r"\[#(\d{1,12})\]")


@dataclass(slots=True)
class Received:
    messages: list[InboundMessage] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)
    # Mails that became neither (a "delayed" notice): kept for the log and the CLI's answer.
    notes: list[str] = field(default_factory=list)


def stored_id(message_id: str) -> str:
    """A Message-ID as the core stores it: ids longer than its column are replaced by a digest,
    the same way everywhere, so references to them still match."""
    if len(message_id) <= MAX_ID:
        return message_id
    return f"<{hashlib.sha256(message_id.encode('utf-8', 'surrogateescape')).hexdigest()}@long-id.relaydesk.invalid>"


def ticket_ref(subject: str) -> int | None:
    found = TICKET_REF.findall(subject or "")
    return int(found[-1]) if found else None


def receive(raw: bytes, settings: EmailAccountSettings, account_name: str,
            limiter: RateLimiter = LIMITER) -> Received:
    """Parse one mail for an account. Never raises on bad mail (the parser salvages what it can)."""
    parsed = parse_email(raw, max_attachment_bytes=settings.max_attachment_bytes)
    out = Received()
    if parsed.is_bounce and parsed.bounce_original_message_id:
        report = read_report(raw, parsed.readable_text)
        outcome = report.outcome
        original = stored_id(parsed.bounce_original_message_id)
        if outcome == "delayed":
            out.notes.append(f"delivery of {original} is delayed; waiting for the final report")
        else:
            out.statuses.append(StatusUpdate(external_id=original, status=outcome,
                                             error="; ".join(report.diagnostics)[:2000] if outcome == "failed" else None,
                                             at=parsed.date))
        return out
    out.messages.append(inbound_message(parsed, settings, account_name, limiter))
    return out


def inbound_message(parsed: ParsedEmail, settings: EmailAccountSettings, account_name: str,
                    limiter: RateLimiter = LIMITER) -> InboundMessage:
    message = to_inbound(parsed)
    message.external_id = stored_id(message.external_id)
    message.references = list(dict.fromkeys(stored_id(r) for r in message.references))
    message.subject = (message.subject or "")[:MAX_SUBJECT] or None
    # The thread's root: the oldest reference, or this mail when it starts a thread.
    message.thread_key = message.references[0] if message.references else message.external_id
    message.ticket_ref = ticket_ref(parsed.subject)
    if settings.subject_threading:
        # The core matches on it only when the headers found no ticket (see core.types).
        message.topic = topic(parsed.subject)
        message.topic_window_days = settings.subject_threading_days
    message.reopen_closed = settings.closed_ticket_reply == "reopen"
    if not parsed.from_email:
        # No readable sender: its own customer, never merged with other sender-less mail.
        digest = hashlib.sha256(message.external_id.encode("utf-8", "surrogateescape")).hexdigest()[:20]
        message.sender_handle = f"unknown-sender-{digest}@relaydesk.invalid"
        message.sender_email = None
    message.sender_handle = message.sender_handle[:254]
    ours = {a.lower() for a in (settings.from_address, settings.username or "") if a and "@" in a}
    reasons: list[str] = []
    if parsed.is_auto_reply:
        reasons.append("auto-reply")
    if parsed.from_email and parsed.from_email in ours:
        reasons.append("sent from this account's own address")
    if parsed.is_bounce:
        reasons.append("bounce without the original Message-ID")
    elif limiter.over_limit(account_name, parsed.from_email, message.external_id, settings.rate_limit_per_hour):
        reasons.append(f"more than {settings.rate_limit_per_hour} mails from this sender within an hour")
        message.metadata["rate_limited"] = True
    if reasons:
        # RFC 3834: never answer these automatically. Open a ticket only when the account allows
        # it for plain auto-replies; loops, bounces and our own mail never open one.
        message.is_auto_reply = True
        plain_auto_reply = reasons == ["auto-reply"]
        message.may_open_ticket = settings.auto_replies_open_tickets and plain_auto_reply
        message.metadata["auto_reply_reasons"] = reasons
    message.metadata["headers"] = {k: v for k, v in parsed.headers.items()
                                   if k in ("auto-submitted", "precedence", "list-id", "reply-to")}
    if parsed.defects:
        message.metadata["parse_defects"] = parsed.defects[:20]
    return _without_nul(message)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    return value


def _without_nul(message: InboundMessage) -> InboundMessage:
    """PostgreSQL text cannot hold NUL characters, and broken mail has them: drop them."""
    for name in ("text", "html", "subject", "sender_name", "sender_handle", "sender_email"):
        setattr(message, name, _clean(getattr(message, name)))
    message.metadata = _clean(message.metadata)
    for item in message.attachments:
        item.filename = _clean(item.filename)
    return message
