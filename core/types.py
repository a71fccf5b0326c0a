"""Data types that cross the boundary between the core and plugins.

A third-party plugin needs nothing from the core but these types and a
`HookimplMarker("relaydesk")`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Awaitable, Callable, Literal

DeliveryStatus = Literal["queued", "sent", "delivered", "read", "failed"]


@dataclass(slots=True)
class InboundAttachment:
    filename: str
    content_type: str
    data: bytes
    content_id: str | None = None  # for inline images referenced as cid:...
    inline: bool = False


@dataclass(slots=True)
class InboundMessage:
    """One message a channel received, normalized.

    `external_id` is the platform's message id: ingest is idempotent on (account, external_id).
    `thread_key` is the platform's conversation id when it has one. `references` lists external
    ids this message answers (email In-Reply-To/References); the core threads on them first.
    """

    external_id: str
    sender_handle: str
    text: str = ""
    html: str | None = None
    subject: str | None = None
    sender_name: str | None = None
    sender_email: str | None = None
    sender_phone: str | None = None
    email_verified: bool = False
    phone_verified: bool = False
    thread_key: str | None = None
    references: list[str] = field(default_factory=list)
    order_ids: list[str] = field(default_factory=list)
    sent_at: datetime | None = None
    attachments: list[InboundAttachment] = field(default_factory=list)
    # An echo of a message the business sent from the platform's own app: stored as outbound.
    is_echo: bool = False
    # Auto-replies never get automatic answers (RFC 3834); rules read this flag.
    is_auto_reply: bool = False
    # False: store the message only if it threads onto an existing ticket (an auto-reply that must
    # not open a ticket by itself); otherwise it is skipped and IngestResult.skipped says so.
    may_open_ticket: bool = True
    # A message threading onto a closed ticket: True reopens it, False opens a linked follow-up.
    reopen_closed: bool = False
    # A ticket id the message names (an email subject's "[#123]"). The core threads on it after
    # `references`, and only onto a ticket of the same customer on the same account.
    ticket_ref: int | None = None
    # A last-resort thread hint for channels whose replies can lose their thread ids (a mail
    # client that drops In-Reply-To and References): the conversation's topic as the channel
    # normalizes it (an email subject without its Re:/Fwd: prefixes), kept in the message's
    # metadata["topic"]. When references, ticket_ref and thread_key find no ticket, the core
    # joins the ticket of the same customer on the same account that has an inbound message of
    # this topic and was updated within `topic_window_days` - only when exactly one ticket
    # matches; with none or several it opens a new one. None, or a window of 0: no topic match.
    topic: str | None = None
    topic_window_days: float = 0.0
    language: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    # A deadline the platform itself sets for the business's answer (an eBay return's or case's
    # respond-by date; aware datetime). It overrides the SLA targets: a new ticket's first-response
    # due time is this (and its resolution is due no earlier); on an existing ticket it replaces the
    # running response clock (first response until the first reply, then next response). None: the
    # SLA policies decide.
    respond_by: datetime | None = None
    # Tags the ticket gets when this message is stored (a plugin's adapt_inbound claim sets them).
    tags: list[str] = field(default_factory=list)


@dataclass(slots=True)
class InboundClaim:
    """A plugin's claim on an inbound message (the adapt_inbound hook), applied by the core before
    customer resolution and threading.

    `kind` names the conversation (a marketplace's relay, say); the core stores it with `fields`
    under the message's ``metadata["conversation"]`` and tags the ticket with it and with `tags`.
    `text` replaces the message's text (a relay's wrapper stripped) and then `html` replaces its
    HTML (None drops it). `order_ids` are added to the message's order references; `thread_key`
    replaces the channel's thread key (a conversation the relay does not thread by headers);
    `subject` and `sender_name` replace the channel's. None leaves a field as the channel set it.
    """

    kind: str
    text: str | None = None
    html: str | None = None
    subject: str | None = None
    sender_name: str | None = None
    thread_key: str | None = None
    order_ids: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class DraftProblem:
    """Why a reply draft may not be sent as written (the check_draft hook): `code` is stable
    (e.g. ``amazon.link``); `message` says what to change, in the agent's language."""

    code: str
    message: str


@dataclass(slots=True)
class StatusUpdate:
    """The platform reports what happened to one of our outbound messages.

    A watermark receipt (Messenger's ``read.watermark``) names no message: leave ``external_id``
    empty and set ``recipient`` (the customer's handle on this channel) and ``up_to``; every
    outbound message to that customer on this account sent at or before ``up_to`` takes the status.
    """

    external_id: str
    status: DeliveryStatus
    error: str | None = None
    at: datetime | None = None
    recipient: str | None = None
    up_to: datetime | None = None


@dataclass(slots=True)
class Withdrawal:
    """The customer withdrew a message they had sent (Instagram's unsend): the core blanks the stored
    copy on this account and marks it withdrawn, so the agent sees that it was taken back."""

    external_id: str
    at: datetime | None = None


@dataclass(slots=True)
class WebhookRequest:
    """What a channel plugin sees of an incoming webhook: the raw bytes, before any parsing."""

    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    query: dict[str, str]
    body: bytes
    # The receiving desk's id (core.identity): tells the desk's own sends, echoed back by a platform,
    # from another desk's (core.identity.is_own_key).
    desk_id: str = ""


@dataclass(slots=True)
class WebhookResult:
    """What a channel plugin makes of a webhook.

    `reply` overrides the default acknowledgement (a subscription handshake answers a challenge).
    `apply` is for webhooks that carry data rather than messages (an order update): a coroutine
    function the core awaits with the Desk after `messages`/`statuses` are stored and before it
    acknowledges, so the platform gets its 2xx only once the plugin's own transaction has committed
    (raise to make the platform retry). parse_webhook itself stays free of I/O.

    `invalid` names the events a batching platform sent that did not match its documented format
    (one reason each). A platform that retries a whole body for one bad event (Meta) is better
    served by storing the valid events and acknowledging: the core counts these in a metric, logs
    them and answers 2xx with the rest. A platform that wants a 4xx raises InvalidRequest instead.
    """

    messages: list[InboundMessage] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)
    withdrawals: list[Withdrawal] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    reply: "WebhookReply | None" = None
    apply: "Callable[[Any], Awaitable[Any]] | None" = None


@dataclass(slots=True)
class WebhookReply:
    status_code: int = 200
    body: bytes = b""
    content_type: str = "text/plain"


@dataclass(slots=True)
class OutboundMessage:
    """One reply to deliver. `idempotency_key` is the same on every attempt for this message."""

    message_id: int
    ticket_id: int
    idempotency_key: str
    recipient_handle: str
    text: str
    html: str | None = None
    subject: str | None = None
    thread_key: str | None = None
    in_reply_to: str | None = None
    author_name: str | None = None
    # The replying agent's language ("en", "zh"): a plugin may word a delivery error in it.
    author_language: str = "en"
    attachments: list[InboundAttachment] = field(default_factory=list)
    # External ids of the thread this reply answers, oldest first, ending with `in_reply_to`
    # (the message it answers plus the references that message carried): email's References.
    references: list[str] = field(default_factory=list)
    # No agent wrote it (a rule or an automatic acknowledgement): email marks it Auto-Submitted.
    automatic: bool = False
    # When the customer last wrote on this ticket: channels with a messaging window (Meta's 24 hours)
    # decide from it whether a free-form reply may go out.
    last_customer_message_at: datetime | None = None
    # Which delivery attempt this is (1 for the first). A later attempt may follow one whose answer
    # was lost after the platform took the message: a channel without idempotency keys looks for
    # that earlier copy before sending again.
    attempt: int = 1
    # Channel-specific instructions stored with the reply, e.g. {"template": {"name", "language",
    # "params"}} for a WhatsApp template or {"media": {"type", "link"}}.
    metadata: dict[str, Any] = field(default_factory=dict)
    # Set by shape_outbound hooks (a relay that judges the mail it forwards). from_address: send as
    # this address instead of the account's own (email: From and envelope sender). plain_text: no
    # HTML alternative. untracked: the channel adds none of its own tracking or threading markers
    # (email: no ticket number in the subject, no X-Relaydesk-* headers, no In-Reply-To/References,
    # a Message-ID that names no ticket or message).
    from_address: str | None = None
    plain_text: bool = False
    untracked: bool = False


@dataclass(slots=True)
class SendResult:
    external_id: str
    status: DeliveryStatus = "sent"


@dataclass(slots=True)
class ChannelLimits:
    """What the reply box must respect on this channel."""

    max_text_length: int | None = None
    # Files a reply may carry: at most `max_attachments` (None or 0: the channel sends no files), each
    # at most `max_attachment_bytes`. `attachment_types` maps the accepted MIME types ("image/png", or
    # "image/*" for a family) to their own cap in bytes (0: max_attachment_bytes); empty: any type.
    # The reply box shows these and core.reply_files enforces them (a reply_constraints hook may
    # return any of these keys to narrow them for one ticket).
    max_attachments: int | None = None
    max_attachment_bytes: int | None = None
    attachment_types: dict[str, int] = field(default_factory=dict)
    supports_html: bool = False
    # Seconds after the customer's last message during which a free-form reply is allowed.
    reply_window_seconds: int | None = None


@dataclass(slots=True)
class ChannelType:
    """A kind of channel a plugin offers: `api`, `email`, `messenger`, `whatsapp`...

    `account_settings` is a msgspec Struct type; each account in plugins.toml is validated
    against it at start-up.
    """

    name: str
    label: str
    account_settings: type
    limits: ChannelLimits = field(default_factory=ChannelLimits)
    plugin: str = ""  # filled in by the registry


@dataclass(slots=True)
class Account:
    """A configured channel account as plugins see it: its name, type and validated settings."""

    id: int
    name: str
    plugin: str
    channel_type: str
    settings: Any


@dataclass(slots=True)
class JobSpec:
    """A job function a plugin registers: `func(ctx, *args)` is awaited by the runner."""

    name: str
    func: Callable[..., Any]
    # Seconds between runs for a periodic job (sweepers, pollers); None for on-demand jobs.
    every: float | None = None
