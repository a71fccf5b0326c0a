"""Per-account settings of the email channel ([plugins.email.accounts.<name>] in plugins.toml)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote, urlsplit

import msgspec


class EmailAccountSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # Inbound by IMAP: imaps://host[:993] (TLS) or imap://host[:143] (STARTTLS unless imap_starttls=false).
    # Leave imap_url out for an account fed only by `relaydesk mail ingest` or the HTTP endpoint.
    imap_url: str | None = None
    username: str | None = None
    password: str | None = None  # secret: { env = "NAME" }
    folders: list[str] = msgspec.field(default_factory=lambda: ["INBOX"])
    imap_starttls: bool = True
    # IDLE (push) where the server offers it; polling through the core's poll job otherwise.
    idle: bool = True
    # Re-issue IDLE this often (RFC 2177: servers may drop an IDLE after 30 minutes).
    idle_restart_seconds: float = 1500.0
    # Messages fetched per poll (all folders together); the rest comes on the next poll.
    poll_batch: int = 100
    # Outbound by SMTP: smtps://host[:465] (TLS) or smtp://host[:587] (STARTTLS unless smtp_starttls=false).
    smtp_url: str | None = None
    smtp_username: str | None = None
    smtp_password: str | None = None  # secret
    smtp_starttls: bool = True
    from_address: str = ""
    from_name: str | None = None
    # The account that mails the desk's own messages to its agents (invitations, password resets).
    # Without one marked, the first account with smtp_url does (core/desk_mail.py).
    desk_mail: bool = False
    # A CA bundle (PEM) to trust for IMAP and SMTP TLS, for servers with a private CA.
    tls_ca_file: str | None = None
    timeout_seconds: float = 30.0
    max_attachment_bytes: int = 25 * 1024 * 1024
    # An auto-reply (vacation notice, Auto-Submitted, bulk mail) may open a new ticket.
    auto_replies_open_tickets: bool = False
    # A reply to a closed ticket: reopen it, or open a follow-up ticket linked to it.
    closed_ticket_reply: Literal["reopen", "follow_up"] = "reopen"
    # A mail that names no earlier mail (its client dropped In-Reply-To and References) joins the
    # sender's ticket on the same subject, Re:/Fwd:/AW:/回复: ... prefixes aside, when exactly one
    # of their tickets updated within subject_threading_days has it (docs/plugins/email.md).
    subject_threading: bool = True
    subject_threading_days: float = 14.0
    # Mails per sender address per hour before the rest are treated as a loop (0: no limit).
    rate_limit_per_hour: int = 30
    # Bearer token (or HMAC key) for POST /hooks/email/<account> with a raw mail; secret. None: off.
    ingest_token: str | None = None

    def __post_init__(self) -> None:
        if self.imap_url is not None:
            server_url(self.imap_url, ("imap", "imaps"))
            if not self.username or not self.password:
                raise ValueError("imap_url needs username and password")
        if self.smtp_url is not None:
            server_url(self.smtp_url, ("smtp", "smtps"))
            if not self.from_address or "@" not in self.from_address:
                raise ValueError("smtp_url needs from_address (the address replies are sent from)")
        if not self.folders:
            raise ValueError("folders must name at least one folder")
        if self.poll_batch < 1:
            raise ValueError("poll_batch must be at least 1")
        if self.subject_threading_days < 0:
            raise ValueError("subject_threading_days must be 0 or more")


@dataclass(frozen=True, slots=True)
class ServerUrl:
    scheme: str
    host: str
    port: int
    implicit_tls: bool


DEFAULT_PORTS = {"imap": 143, "imaps": 993, "smtp": 587, "smtps": 465}


def server_url(url: str, schemes: tuple[str, str]) -> ServerUrl:
    """Split imap(s)://host:port or smtp(s)://host:port; ValueError names what is wrong."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        raise ValueError(f"{url!r} must start with {schemes[0]}:// or {schemes[1]}://")
    if not parts.hostname:
        raise ValueError(f"{url!r} names no host")
    if parts.username or parts.password:
        raise ValueError(f"{url!r}: put credentials in their own settings, not in the URL")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        raise ValueError(f"{url!r} has an invalid port") from None
    return ServerUrl(scheme=scheme, host=unquote(parts.hostname), port=port, implicit_tls=scheme.endswith("s"))
