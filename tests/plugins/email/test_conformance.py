"""The email channel passes the channel contract (relaydesk_testing.conformance): raw mail posted
to its webhook, replies through a real SMTP server (aiosmtpd) that refuses on request."""

from __future__ import annotations

import pytest

from relaydesk_testing import allow_loopback
from relaydesk_testing.conformance import ChannelCase, check_channel
from tests.plugins.email.mailhelpers import INGEST_TOKEN, email_config, email_env, mail


@pytest.fixture(autouse=True)
def _email_env(monkeypatch):
    email_env(monkeypatch)


def email_case(smtp_server) -> ChannelCase:
    scripted = [0]

    def configure(config):
        email_config(smtp_url=smtp_server.url)(config)
        allow_loopback(config)

    def fail_next_send(retryable: bool) -> None:
        scripted[0] += 1
        smtp_server.rcpt_replies.append("451 4.3.0 Try again later" if retryable else "550 5.1.1 No such user")

    def sends() -> list:
        # every attempt that reached the server: mails accepted, and RCPTs it refused as scripted
        refused = scripted[0] - len(smtp_server.rcpt_replies)
        return [*smtp_server.received, *["refused"] * refused]

    return ChannelCase(
        plugin="email",
        account="support",
        configure=configure,
        sender="ann@buyer.example",
        inbound=lambda key, sender, text: mail(f"<{key}@buyer.example>", sender=f"Ann Buyer <{sender}>", body=text),
        sign=lambda _body: {"authorization": f"Bearer {INGEST_TOKEN}", "content-type": "message/rfc822"},
        forge=lambda _body: {"authorization": "Bearer not-the-token", "content-type": "message/rfc822"},
        sends=sends,
        fail_next_send=fail_next_send,
    )


async def test_email_passes_the_channel_contract(make_desk, smtp_server):
    await check_channel(email_case(smtp_server), make_desk)
