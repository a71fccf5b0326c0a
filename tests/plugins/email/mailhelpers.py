"""Builders the email tests share: desk configuration for an email account and sample mails."""

from __future__ import annotations

from email.utils import format_datetime
from datetime import datetime, timezone
from typing import Any, Callable

from tests.plugins.email.conftest import MAIL_PASSWORD

PASSWORD_ENV = "RELAYDESK_TEST_MAIL_PASSWORD"
TOKEN_ENV = "RELAYDESK_TEST_MAIL_TOKEN"
INGEST_TOKEN = "ingest-token-123"
FROM_ADDRESS = "support@shop.example"


def email_env(monkeypatch: Any) -> None:
    monkeypatch.setenv(PASSWORD_ENV, MAIL_PASSWORD)
    monkeypatch.setenv(TOKEN_ENV, INGEST_TOKEN)


def email_config(*, imap_url: str | None = None, user: str | None = None, smtp_url: str | None = None,
                 name: str = "support", **settings: Any) -> Callable[[dict[str, Any]], None]:
    """A `configure` callback for make_desk that enables the email plugin with one account."""

    def configure(config: dict[str, Any]) -> None:
        account: dict[str, Any] = {"from_address": FROM_ADDRESS, "from_name": "Shop Support",
                                   "ingest_token": {"env": TOKEN_ENV}}
        if imap_url:
            account.update(imap_url=imap_url, username=user, password={"env": PASSWORD_ENV})
        if smtp_url:
            account.update(smtp_url=smtp_url, smtp_starttls=False)
        account.update(settings)
        config["plugins"]["enabled"].append("email")
        config["plugins"].setdefault("email", {"accounts": {}})["accounts"][name] = account
        # The periodic poll must not race the tests' explicit polls (IDLE tests say so themselves).
        config["relaydesk"]["poll_interval_seconds"] = 3600.0

    return configure


def mail(msgid: str, *, sender: str = "Ann Buyer <ann@buyer.example>", subject: str = "Where is my order?",
         body: str = "Hello, my order 1001 has not arrived.", headers: str = "", to: str = FROM_ADDRESS) -> bytes:
    date = format_datetime(datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc))
    text = (f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: {msgid}\r\n"
            f"{headers}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n")
    return text.encode("utf-8")


def bounce(original_msgid: str, *, recipient: str = "ann@buyer.example", action: str = "failed",
           msgid: str = "<dsn-1@mx.shop.example>") -> bytes:
    """A DSN as Postfix writes it (RFC 3464 multipart/report)."""
    date = format_datetime(datetime(2026, 11, 23, 11, 0, tzinfo=timezone.utc))
    return (
        f"From: MAILER-DAEMON@mx.shop.example (Mail Delivery System)\r\n"
        f"To: {FROM_ADDRESS}\r\nSubject: Undelivered Mail Returned to Sender\r\nDate: {date}\r\n"
        f"Message-ID: {msgid}\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"BOUNDARY\"\r\n\r\n"
        "--BOUNDARY\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        "I'm sorry to have to inform you that your message could not be delivered.\r\n\r\n"
        "--BOUNDARY\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.shop.example\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nOriginal-Recipient: rfc822;{recipient}\r\n"
        f"Action: {action}\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <ann@buyer.example>: Recipient address rejected: User unknown\r\n\r\n"
        "--BOUNDARY\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: Shop Support <{FROM_ADDRESS}>\r\nTo: {recipient}\r\nSubject: Re: Where is my order?\r\n"
        f"Message-ID: {original_msgid}\r\n\r\n--BOUNDARY--\r\n"
    ).encode()
