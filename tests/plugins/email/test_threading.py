"""Threading, closed tickets, loops and rate limits, through the plugin's receive() and the core's
ingest (the same path the IMAP poll, the CLI and the HTTP endpoint take)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core import clock
from core.inbound import ingest
from core.tables import Message, Ticket
from plugins.email.receive import receive, stored_id, ticket_ref
from plugins.email.subjects import topic
from tests.plugins.email.mailhelpers import FROM_ADDRESS, bounce, email_config, email_env, mail


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    email_env(monkeypatch)


async def deliver(desk, raw: bytes, name: str = "support"):
    account = desk.registry.account("email", name)
    received = receive(raw, account.settings, account.name)
    return await ingest(desk, account, received.messages, received.statuses)


async def ticket_of(external_id: str) -> int:
    row = await Message.select(Message.ticket).where(Message.external_id == external_id).first()
    return row["ticket"]


async def test_same_subject_from_two_customers_never_merges(make_desk):
    desk = await make_desk(email_config())
    await deliver(desk, mail("<a@one.example>", sender="ann@one.example", subject="Order 1001"))
    await deliver(desk, mail("<b@two.example>", sender="bob@two.example", subject="Order 1001"))
    assert await ticket_of("<a@one.example>") != await ticket_of("<b@two.example>")


async def test_a_new_thread_from_the_same_customer_opens_a_new_ticket(make_desk):
    desk = await make_desk(email_config())
    await deliver(desk, mail("<n1@one.example>", sender="ann@one.example", subject="Order 1"))
    await deliver(desk, mail("<n2@one.example>", sender="ann@one.example", subject="Another question"))
    await deliver(desk, mail("<n3@one.example>", sender="ann@one.example", subject="Re: Order 1",
                             headers="In-Reply-To: <n1@one.example>\r\n"))
    first, second, third = [await ticket_of(f"<n{i}@one.example>") for i in (1, 2, 3)]
    assert first != second and third == first


async def test_ticket_reference_in_subject_threads_only_for_its_customer(make_desk):
    desk = await make_desk(email_config())
    await deliver(desk, mail("<t1@one.example>", sender="ann@one.example", subject="Broken lamp"))
    ticket = await ticket_of("<t1@one.example>")
    # Her mail client dropped In-Reply-To, but the subject still carries our reference.
    await deliver(desk, mail("<t2@one.example>", sender="ann@one.example", subject=f"Re: Broken lamp [#{ticket}]"))
    assert await ticket_of("<t2@one.example>") == ticket
    # Someone else quoting the same number gets their own ticket.
    await deliver(desk, mail("<t3@two.example>", sender="eve@two.example", subject=f"Re: Broken lamp [#{ticket}]"))
    assert await ticket_of("<t3@two.example>") != ticket
    assert ticket_ref("Re: x [#12] [#345]") == 345 and ticket_ref("Order #12") is None


@pytest.mark.parametrize("policy", ["reopen", "follow_up"])
async def test_reply_to_a_closed_ticket(make_desk, policy):
    desk = await make_desk(email_config(closed_ticket_reply=policy))
    await deliver(desk, mail("<c1@one.example>", sender="ann@one.example"))
    ticket = await ticket_of("<c1@one.example>")
    await Ticket.update({Ticket.status: "closed"}).where(Ticket.id == ticket)
    await deliver(desk, mail("<c2@one.example>", sender="ann@one.example", subject="Re: Where is my order?",
                             headers="In-Reply-To: <c1@one.example>\r\n"))
    target = await ticket_of("<c2@one.example>")
    row = await Ticket.select(Ticket.status, Ticket.linked_ticket).where(Ticket.id == target).first()
    if policy == "reopen":
        assert target == ticket and row["status"] == "open"
    else:
        assert target != ticket and row["linked_ticket"] == ticket and row["status"] == "new"
        old = await Ticket.select(Ticket.status).where(Ticket.id == ticket).first()
        assert old["status"] == "closed"


async def test_auto_replies_may_open_tickets_when_the_account_allows_it(make_desk):
    desk = await make_desk(email_config(auto_replies_open_tickets=True))
    results = await deliver(desk, mail("<v1@one.example>", subject="Out of office: back Monday",
                                       headers="Precedence: bulk\r\n"))
    assert results[0].created_ticket
    # A bounce without the original id never opens one, whatever the setting.
    raw = mail("<b1@mx.example>", sender="MAILER-DAEMON@mx.example", subject="Undeliverable", body="failed")
    assert (await deliver(desk, raw))[0].skipped


async def test_rate_limit_stops_a_loop(make_desk):
    desk = await make_desk(email_config(rate_limit_per_hour=3))
    results = []
    for i in range(5):
        results += await deliver(desk, mail(f"<loop{i}@robot.example>", sender="robot@robot.example",
                                            subject=f"Ticket received #{i}"))
    assert [r.created_ticket for r in results] == [True, True, True, False, False]
    assert [r.skipped for r in results] == [False, False, False, True, True]
    # A refetched mail is not counted twice, and other senders are not affected.
    again = await deliver(desk, mail("<loop0@robot.example>", sender="robot@robot.example", subject="Ticket received #0"))
    assert again[0].duplicate
    assert (await deliver(desk, mail("<human@one.example>", sender="ann@one.example")))[0].created_ticket
    # Over the limit but in an existing thread: stored (nothing lost), flagged so nothing answers it.
    first = await ticket_of("<loop0@robot.example>")
    stored = await deliver(desk, mail("<loop9@robot.example>", sender="robot@robot.example",
                                      headers="In-Reply-To: <loop0@robot.example>\r\n"))
    assert stored[0].ticket_id == first
    row = await Message.select(Message.metadata).where(Message.external_id == "<loop9@robot.example>").first()
    assert "rate_limited" in str(row["metadata"])


async def test_mail_from_our_own_address_opens_nothing(make_desk):
    desk = await make_desk(email_config())
    results = await deliver(desk, mail("<own@shop.example>", sender=f"Shop <{FROM_ADDRESS}>"))
    assert results[0].skipped


async def test_delayed_dsn_changes_nothing_and_delivered_dsn_is_recorded(make_desk):
    desk = await make_desk(email_config())
    account = desk.registry.account("email", "support")
    received = receive(bounce("<ours@shop.example>", action="delayed"), account.settings, account.name)
    assert received.messages == [] and received.statuses == [] and "delayed" in received.notes[0]
    received = receive(bounce("<ours@shop.example>", action="delivered"), account.settings, account.name)
    assert [(s.external_id, s.status, s.error) for s in received.statuses] == [("<ours@shop.example>", "delivered", None)]


def test_long_message_ids_are_stored_as_digests():
    long_id = "<" + "x" * 300 + "@example.com>"
    assert len(stored_id(long_id)) < 255 and stored_id(long_id) == stored_id(long_id)
    assert stored_id("<short@example.com>") == "<short@example.com>"


# -- replies whose client dropped In-Reply-To and References (issue 18) ----------------------------

START = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)


async def deliver_on(desk, day: float, raw: bytes, name: str = "support"):
    """Deliver as if `day` days after START (the desk's clock decides what "within N days" is)."""
    clock.set_clock(lambda: START + timedelta(days=day))
    try:
        return (await deliver(desk, raw, name))[0]
    finally:
        clock.set_clock(None)


def test_topics_drop_reply_and_forward_prefixes():
    assert topic("Broken lamp") == "broken lamp"
    for subject in ("Re: Broken lamp", "RE:Broken  lamp", "Fwd: Re: broken lamp", "AW: WG: Broken lamp",
                    "SV: Broken lamp", "Re[2]: Broken lamp", "回复：Broken lamp", "答复: 转发: Broken lamp",
                    "Re: Broken lamp [#12]", "TR: RV: Broken lamp"):
        assert topic(subject) == "broken lamp", subject
    assert topic("Re: ") is None and topic("") is None
    assert topic("Reorder: lamp") == "reorder: lamp"  # a word that starts like a prefix stays


def both_accounts(config):
    email_config()(config)
    email_config(name="plain", subject_threading=False)(config)
    config["plugins"]["enabled"].remove("email")  # listed once by each call


async def test_a_reply_that_lost_its_headers_joins_the_one_ticket_on_its_subject(make_desk):
    desk = await make_desk(both_accounts)
    first = await deliver_on(desk, 0, mail("<s1@one.example>", sender="ann@one.example", subject="Broken lamp"))
    # A day later, her client sends "Re:" without In-Reply-To or References; then other clients.
    replies = [await deliver_on(desk, day, mail(f"<s{day + 1}@one.example>", sender="Ann <ann@one.example>",
                                                subject=subject))
               for day, subject in ((1, "Re: Broken lamp"), (2, "AW: WG: broken  LAMP"), (3, "回复：Broken lamp"))]
    assert [r.ticket_id for r in replies] == [first.ticket_id] * 3
    assert not any(r.created_ticket for r in replies)
    # Another customer on the same subject, a reply after the window, and an account that has
    # the setting off: new tickets.
    other = await deliver_on(desk, 4, mail("<s5@two.example>", sender="bob@two.example", subject="Re: Broken lamp"))
    late = await deliver_on(desk, 3 + 15, mail("<s6@one.example>", sender="ann@one.example", subject="Re: Broken lamp"))
    plain = await deliver_on(desk, 0, mail("<p1@one.example>", sender="ann@one.example", subject="Lamp"), "plain")
    off = await deliver_on(desk, 1, mail("<p2@one.example>", sender="ann@one.example", subject="Re: Lamp"), "plain")
    assert other.created_ticket and late.created_ticket and off.created_ticket
    assert len({first.ticket_id, other.ticket_id, late.ticket_id, plain.ticket_id, off.ticket_id}) == 5


async def test_a_subject_two_of_the_customers_tickets_share_opens_a_new_ticket(make_desk):
    desk = await make_desk(email_config())
    one = await deliver_on(desk, 0, mail("<d1@one.example>", sender="ann@one.example", subject="Order 1001"))
    two = await deliver_on(desk, 0, mail("<d2@one.example>", sender="ann@one.example", subject="Invoice"))
    # A proper reply on the second ticket that carries the first one's subject.
    also = await deliver_on(desk, 0, mail("<d3@one.example>", sender="ann@one.example", subject="Re: Order 1001",
                                          headers="In-Reply-To: <d2@one.example>\r\n"))
    assert also.ticket_id == two.ticket_id != one.ticket_id
    unsure = await deliver_on(desk, 1, mail("<d4@one.example>", sender="ann@one.example", subject="Re: Order 1001"))
    assert unsure.created_ticket and unsure.ticket_id not in (one.ticket_id, two.ticket_id)
    # The ticket reference still wins over the subject.
    named = await deliver_on(desk, 1, mail("<d5@one.example>", sender="ann@one.example",
                                           subject=f"Re: Order 1001 [#{one.ticket_id}]"))
    assert named.ticket_id == one.ticket_id
