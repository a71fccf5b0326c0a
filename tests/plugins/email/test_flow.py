"""The whole conversation against real servers: a mail arrives in Dovecot, the desk polls it, the
agent answers through a real SMTP server (aiosmtpd), the customer's reply threads back, a bounce
marks our reply failed, an auto-reply opens nothing."""

from __future__ import annotations

import email
import email.policy
import json
import re

import pytest

from core import outbound
from core.polling import poll_account
from core.tables import Message, Outbox, Ticket
from tests.helpers import make_agent
from tests.plugins.email.mailhelpers import FROM_ADDRESS, bounce, email_config, email_env, mail


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    email_env(monkeypatch)


async def send_reply(desk, ticket_id: int, text: str, *, author_id: int | None) -> dict:
    """An agent's reply through the core, delivered by the core's delivery job code."""
    row = await outbound.reply(desk, ticket_id, author_id=author_id, text=text)
    box = await Outbox.select(Outbox.id).where(Outbox.message == row["id"]).first()
    assert await outbound.deliver(desk, box["id"]) == "sent"
    return await Message.select().where(Message.id == row["id"]).first()


def header_block(raw: bytes) -> bytes:
    """The header section with folded lines unfolded (RFC 5322 2.2.3), every line CRLF-ended."""
    head = raw.split(b"\r\n\r\n", 1)[0] + b"\r\n"
    assert b"\n" not in head.replace(b"\r\n", b"") and all(len(line) <= 78 for line in head.split(b"\r\n"))
    return re.sub(rb"\r\n[ \t]+", b" ", head)


async def test_reply_bounce_and_auto_reply_round_trip(make_desk, dovecot, smtp_server):
    user = dovecot.add_user()
    desk = await make_desk(email_config(imap_url=f"imap://127.0.0.1:{dovecot.imap_port}", user=user,
                                        imap_starttls=False, smtp_url=smtp_server.url), run_jobs=False)
    account = desk.registry.account("email", "support")
    agent_id, _ = await make_agent()

    dovecot.append(user, mail("<c1@buyer.example>", headers="References: <older@buyer.example>\r\n"))
    assert await poll_account(desk, account) == 1
    ticket = await Ticket.select().first()

    sent = await send_reply(desk, ticket["id"], "Hi Ann,\n\nIt ships today.", author_id=agent_id)
    assert len(smtp_server.received) == 1
    envelope = smtp_server.received[0]
    assert envelope.mail_from == FROM_ADDRESS and envelope.rcpt_tos == ["ann@buyer.example"]
    head = header_block(envelope.data)
    our_id = sent["external_id"]
    assert re.fullmatch(rf"<relaydesk\.{ticket['id']}\.{sent['id']}\.[0-9a-f]{{16}}@shop\.example>", our_id)
    assert f"\r\nMessage-ID: {our_id}\r\n".encode() in head
    assert head.startswith(b"From: Shop Support <support@shop.example>\r\nTo: ann@buyer.example\r\n")
    assert f"\r\nSubject: Re: Where is my order? [#{ticket['id']}]\r\n".encode() in head
    assert b"\r\nIn-Reply-To: <c1@buyer.example>\r\n" in head
    assert b"\r\nReferences: <older@buyer.example> <c1@buyer.example>\r\n" in head
    assert b"Auto-Submitted" not in head  # an agent wrote it
    parsed = email.message_from_bytes(envelope.data, policy=email.policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n").strip() == "Hi Ann,\n\nIt ships today."
    assert "<p>Hi Ann,</p><p>It ships today.</p>" in parsed.get_body(("html",)).get_content()
    assert sent["delivery_status"] == "sent"

    # The customer answers our mail: it threads by In-Reply-To into the same ticket.
    dovecot.append(user, mail("<c2@buyer.example>", subject=f"Re: Where is my order? [#{ticket['id']}]",
                              body="Thanks!", headers=f"In-Reply-To: {our_id}\r\nReferences: <c1@buyer.example> {our_id}\r\n"))
    assert await poll_account(desk, account) == 1
    assert await Ticket.count() == 1
    reply = await Message.select(Message.ticket, Message.text).where(Message.external_id == "<c2@buyer.example>").first()
    assert reply == {"ticket": ticket["id"], "text": "Thanks!"}

    # Our next reply carries the whole chain.
    await send_reply(desk, ticket["id"], "You're welcome.", author_id=agent_id)
    head2 = header_block(smtp_server.received[1].data)
    assert b"\r\nIn-Reply-To: <c2@buyer.example>\r\n" in head2
    assert f"\r\nReferences: <c1@buyer.example> {our_id} <c2@buyer.example>\r\n".encode() in head2

    # A bounce of our first reply marks it failed and opens nothing.
    dovecot.append(user, bounce(our_id))
    assert await poll_account(desk, account) == 0
    failed = await Message.select(Message.delivery_status, Message.delivery_error).where(Message.id == sent["id"]).first()
    assert failed["delivery_status"] == "failed"
    assert "550 5.1.1" in failed["delivery_error"] and "ann@buyer.example" in failed["delivery_error"]
    assert await Ticket.count() == 1 and await Message.count() == 4

    # A vacation notice from someone new opens no ticket; one in our thread is kept, flagged.
    dovecot.append(user, mail("<ooo1@other.example>", sender="bob@other.example", subject="Out of office",
                              headers="Auto-Submitted: auto-replied\r\n"))
    dovecot.append(user, mail("<ooo2@buyer.example>", subject="Automatic reply: Re: Where is my order?",
                              headers=f"In-Reply-To: {our_id}\r\nX-Autoreply: yes\r\n"))
    assert await poll_account(desk, account) == 1
    assert await Ticket.count() == 1
    kept = await Message.select(Message.ticket, Message.metadata).where(Message.external_id == "<ooo2@buyer.example>").first()
    meta = kept["metadata"] if isinstance(kept["metadata"], dict) else json.loads(kept["metadata"])
    assert kept["ticket"] == ticket["id"] and meta["auto_reply"] is True
    assert not await Message.exists().where(Message.external_id == "<ooo1@other.example>")


async def test_automatic_reply_is_marked_auto_submitted(make_desk, smtp_server):
    desk = await make_desk(email_config(smtp_url=smtp_server.url), run_jobs=False)
    account = desk.registry.account("email", "support")
    from core.inbound import ingest
    from plugins.email.receive import receive

    await ingest(desk, account, receive(mail("<a1@buyer.example>"), account.settings, account.name).messages)
    ticket = await Ticket.select(Ticket.id).first()
    await send_reply(desk, ticket["id"], "We got your mail and answer within a day.", author_id=None)
    head = header_block(smtp_server.received[0].data)
    assert b"\r\nAuto-Submitted: auto-replied\r\n" in head and b"\r\nX-Auto-Response-Suppress: All\r\n" in head


async def test_starttls_with_auth(make_desk, smtp_factory, tls_cert, monkeypatch):
    server = smtp_factory(auth=True, mode="starttls")
    desk = await make_desk(email_config(smtp_url=server.url, smtp_starttls=True, smtp_username="smtp-user",
                                        smtp_password={"env": "RELAYDESK_TEST_MAIL_PASSWORD"},
                                        tls_ca_file=tls_cert.cert), run_jobs=False)
    account = desk.registry.account("email", "support")
    from core.inbound import ingest
    from plugins.email.receive import receive

    await ingest(desk, account, receive(mail("<s1@buyer.example>"), account.settings, account.name).messages)
    ticket = await Ticket.select(Ticket.id).first()
    await send_reply(desk, ticket["id"], "Over TLS.", author_id=None)
    assert server.logins == ["smtp-user"] and len(server.received) == 1


async def test_implicit_tls_smtps(make_desk, smtp_factory, tls_cert):
    server = smtp_factory(mode="tls")
    desk = await make_desk(email_config(smtp_url=f"smtps://127.0.0.1:{server.port}", tls_ca_file=tls_cert.cert),
                           run_jobs=False)
    account = desk.registry.account("email", "support")
    from core.inbound import ingest
    from plugins.email.receive import receive

    await ingest(desk, account, receive(mail("<t1@buyer.example>"), account.settings, account.name).messages)
    ticket = await Ticket.select(Ticket.id).first()
    await send_reply(desk, ticket["id"], "Over implicit TLS.", author_id=None)
    assert len(server.received) == 1


async def test_refused_recipient_fails_for_good_and_4xx_retries(make_desk, smtp_server):
    desk = await make_desk(email_config(smtp_url=smtp_server.url), run_jobs=False)
    account = desk.registry.account("email", "support")
    from core.inbound import ingest
    from plugins.email.receive import receive

    await ingest(desk, account, receive(mail("<x1@buyer.example>"), account.settings, account.name).messages)
    ticket = await Ticket.select(Ticket.id).first()
    smtp_server.rcpt_replies = ["450 4.2.0 mailbox busy"]
    row = await outbound.reply(desk, ticket["id"], author_id=None, text="First try")
    box = await Outbox.select(Outbox.id).where(Outbox.message == row["id"]).first()
    assert await outbound.deliver(desk, box["id"]) == "retry"
    smtp_server.rcpt_replies = ["550 5.1.1 no such user"]
    row = await outbound.reply(desk, ticket["id"], author_id=None, text="Second")
    box = await Outbox.select(Outbox.id).where(Outbox.message == row["id"]).first()
    assert await outbound.deliver(desk, box["id"]) == "failed"
    failed = await Message.select(Message.delivery_status, Message.delivery_error).where(Message.id == row["id"]).first()
    assert failed["delivery_status"] == "failed" and "550" in failed["delivery_error"]
    assert smtp_server.received == []


async def test_hook_send_message_mails_a_replys_files_as_attachments(make_desk, smtp_server):
    """A reply's files, stored with it, leave as MIME attachments through the real SMTP server."""
    from core.inbound import ingest
    from core.types import InboundAttachment
    from plugins.email.receive import receive

    desk = await make_desk(email_config(smtp_url=smtp_server.url), run_jobs=False)
    account = desk.registry.account("email", "support")
    await ingest(desk, account, receive(mail("<f1@buyer.example>"), account.settings, account.name).messages)
    ticket = await Ticket.select(Ticket.id).first()
    photo, sheet = b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "品名,数量\n杯子,2\n".encode()
    row = await outbound.reply(desk, ticket["id"], author_id=None, text="Photo and packing list attached.", attachments=[
        InboundAttachment("parcel.png", "image/png", photo), InboundAttachment("装箱单.csv", "text/csv", sheet)])
    box = await Outbox.select(Outbox.id).where(Outbox.message == row["id"]).first()
    assert await outbound.deliver(desk, box["id"]) == "sent"
    parsed = email.message_from_bytes(smtp_server.received[0].data, policy=email.policy.default)
    assert "Photo and packing list attached." in parsed.get_body(("plain",)).get_content()
    assert [(p.get_filename(), p.get_content_type(), p.get_payload(decode=True)) for p in parsed.iter_attachments()] == [
        ("parcel.png", "image/png", photo), ("装箱单.csv", "text/csv", sheet)]
