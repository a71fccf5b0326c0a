"""Amazon buyer messages pass the polled-channel contract (relaydesk_testing.conformance): relay mail
polled from a real IMAP server (Dovecot) by the email account the Amazon plugin claims it on, replies
from the seller address through a real SMTP server (aiosmtpd) that refuses on request."""

from __future__ import annotations

from typing import Any

from core.tables import Message, Ticket
from plugins.amazon.tables import AmazonConversation
from relaydesk_testing import allow_loopback
from relaydesk_testing.conformance import PolledChannelCase, check_polled_channel
from tests.plugins.amazon.conftest import SELLER_DE, amazon_config
from tests.plugins.email.mailhelpers import mail

BUYER = "qz8lwz3k7fk1xyz@marketplace.amazon.de"
ORDER = "302-1234567-7654321"

# Items a mailbox can hold that are not well-formed mail: no headers at all, a multipart without its
# boundary, undecodable bytes and a broken encoded-word, a relay address in a malformed From.
MALFORMED = [
    b"just some bytes, no headers\r\n",
    (b"From: Jana <" + BUYER.encode() + b">\r\nTo: " + SELLER_DE.encode() + b"\r\nSubject: Bestellung " + ORDER.encode()
     + b"\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\n--nowhere\r\nbroken\r\n"),
    (b"From: =?utf-8?B?!!!notbase64?= <" + BUYER.encode() + b">\r\nTo: " + SELLER_DE.encode()
     + b"\r\nSubject: =?x-unknown?Q?abc?=\r\nContent-Type: text/plain; charset=x-nonexistent\r\n\r\n\xff\xfe\x00body\r\n"),
    b"From: <<<@marketplace.amazon.de\r\nTo: \r\nDate: not a date\r\nMessage-ID: <>\r\n\r\nhello\r\n",
]


def amazon_case(dovecot: Any, fake: Any, smtp_server: Any) -> PolledChannelCase:
    user = dovecot.add_user()
    scripted = [0]

    def configure(config: dict[str, Any]) -> None:
        amazon_config(fake.url, smtp_url=smtp_server.url, imap_url=f"imap://127.0.0.1:{dovecot.imap_port}",
                      user=user)(config)
        allow_loopback(config)

    def add_inbound(key: str, sender: str, text: str) -> None:
        dovecot.append(user, mail(f"<{key}@relay.amazon.de>", sender=f"Jana <{sender}>", to=SELLER_DE,
                                  subject=f"Anfrage zu Bestellung {ORDER} von Kunde Jana", body=text))

    def add_malformed(key: str, index: int) -> bool:
        if index >= len(MALFORMED):
            return False
        dovecot.append(user, MALFORMED[index])
        return True

    def fail_next_send(retryable: bool) -> None:
        scripted[0] += 1
        smtp_server.rcpt_replies.append("451 4.3.0 Try again later" if retryable else "550 5.1.1 No such user")

    def sends() -> list[Any]:
        # every attempt that reached the server: mails accepted, and RCPTs it refused as scripted
        return [*smtp_server.received, *["refused"] * (scripted[0] - len(smtp_server.rcpt_replies))]

    return PolledChannelCase(
        plugin="email", account="support", configure=configure, sender=BUYER, add_inbound=add_inbound,
        add_malformed=add_malformed, sends=sends, fail_next_send=fail_next_send,
    )


async def test_amazon_passes_the_polled_channel_contract(make_desk: Any, dovecot: Any, fake: Any, smtp_server: Any) -> None:
    await check_polled_channel(amazon_case(dovecot, fake, smtp_server), make_desk)
    # the contract ran on Amazon's conversation, not on plain mail: the relay claimed it
    ticket = await Ticket.select(Ticket.id).where(Ticket.thread_key == f"amazon:{BUYER}:{ORDER}").first()
    texts = [m["text"] for m in await Message.select(Message.text).where(
        (Message.ticket == ticket["id"]) & (Message.direction == "inbound")).order_by(Message.id)]
    assert texts[:2] == ["Where is my order?", "Any news?"]
    assert await AmazonConversation.count().where(AmazonConversation.ticket == ticket["id"]) == 1
