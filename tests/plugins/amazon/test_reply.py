"""Replies to Amazon buyers: shaped for the relay (the SMTP server sees the real mail) and checked
against Amazon's messaging rules before they are sent."""

from __future__ import annotations

import email
import email.policy
import re

import pytest

from core import outbound
from core.errors import DraftRejected
from core.tables import Agent, Message, Outbox, Ticket
from plugins.amazon.drafts import problems
from tests.helpers import auth, client_for, make_agent
from tests.plugins.amazon.conftest import SELLER_DE, SELLER_US, amazon_config, amazon_desk, post_mail, relay_mail
from tests.plugins.email.mailhelpers import mail


async def deliver(desk, ticket_id: int, text: str, author_id: int | None) -> dict:
    row = await outbound.reply(desk, ticket_id, author_id=author_id, text=text)
    box = await Outbox.select(Outbox.id).where(Outbox.message == row["id"]).first()
    assert await outbound.deliver(desk, box["id"]) == "sent"
    return await Message.select().where(Message.id == row["id"]).first()


async def test_reply_goes_out_plain_untracked_from_the_seller_address(desk_amazon, smtp_server):
    desk = desk_amazon
    agent_id, _ = await make_agent()
    async with client_for(desk) as client:
        await post_mail(client, relay_mail("inquiry-amazon-de.eml"))
        await post_mail(client, relay_mail("inquiry-amazon-com.eml"))
        await post_mail(client, mail("<n1@buyer.example>", subject="Where is my order?"))
    de = await Ticket.select().where(Ticket.thread_key.like("amazon:qz8%")).first()
    us = await Ticket.select().where(Ticket.thread_key.like("amazon:7h2%")).first()
    plain = await Ticket.select().where(Ticket.subject == "Where is my order?").first()

    sent = await deliver(desk, de["id"], "Hallo Jana,\n\nIhr Paket ist unterwegs und kommt morgen an.", agent_id)
    await deliver(desk, us["id"], "Hi Jane, a replacement ships today.", agent_id)
    await deliver(desk, plain["id"], "It ships today.", agent_id)
    first, second, third = smtp_server.received

    assert first.mail_from == SELLER_DE and first.rcpt_tos == ["qz8lwz3k7fk1xyz@marketplace.amazon.de"]
    head = first.data.split(b"\r\n\r\n", 1)[0].decode()
    parsed = email.message_from_bytes(first.data, policy=email.policy.default)
    assert parsed["From"].addresses[0].addr_spec == SELLER_DE
    assert parsed["Subject"] == "Re: Anfrage von Amazon-Kunde Jana (Bestellung: 302-1234567-7654321)"
    assert parsed.get_content_type() == "text/plain" and not parsed.is_multipart()
    assert parsed.get_content().replace("\r\n", "\n").strip() == "Hallo Jana,\n\nIhr Paket ist unterwegs und kommt morgen an."
    # No tracking: no ticket number anywhere, no References/In-Reply-To, an opaque Message-ID.
    assert f"[#{de['id']}]" not in head and "X-Relaydesk" not in head
    assert "In-Reply-To" not in parsed and "References" not in parsed
    assert re.fullmatch(r"<[0-9a-f]{32}@shop\.example>", parsed["Message-ID"])
    assert sent["external_id"] == parsed["Message-ID"]
    assert "<img" not in first.data.decode(errors="replace") and "text/html" not in head

    assert second.mail_from == SELLER_US and second.rcpt_tos == ["7h2k9xq4mz0plr1@marketplace.amazon.com"]
    # Mail that is not from Amazon goes out as the email plugin always sends it.
    normal = email.message_from_bytes(third.data, policy=email.policy.default)
    assert third.mail_from == "support@shop.example" and normal["Subject"] == f"Re: Where is my order? [#{plain['id']}]"
    assert normal.get_content_type() == "multipart/alternative" and normal["X-Relaydesk-Ticket"] == str(plain["id"])


async def test_a_reply_that_breaks_amazon_rules_is_refused_with_reasons(desk_amazon, smtp_server):
    desk = desk_amazon
    agent_id, token = await make_agent()
    zh_id, zh_token = await make_agent(email="zh-agent@example.com")
    await Agent.update({Agent.locale: "zh"}).where(Agent.id == zh_id)
    async with client_for(desk) as client:
        await post_mail(client, relay_mail("inquiry-amazon-de.eml"))
        await post_mail(client, mail("<n2@buyer.example>", subject="Plain question"))
        ticket = await Ticket.select().where(Ticket.thread_key.like("amazon:%")).first()
        plain = await Ticket.select().where(Ticket.subject == "Plain question").first()
        bad = ("Hi Jana, track it at https://track.example/123 or call +49 30 1234567. "
               "A 5-star review would make our day!")
        with pytest.raises(DraftRejected) as caught:
            await outbound.reply(desk, ticket["id"], author_id=agent_id, text=bad)
        assert [p.code for p in caught.value.problems] == ["amazon.link", "amazon.phone", "amazon.feedback"]
        assert "https://track.example/123" in caught.value.problems[0].message
        assert await Message.count().where(Message.direction == "outbound") == 0 and await Outbox.count() == 0

        check = await client.post(f"/api/v1/tickets/{ticket['id']}/draft-check", json={"text": bad}, headers=auth(zh_token))
        assert check.status_code == 200 and check.json()["ok"] is False
        assert check.json()["problems"][0]["message"].startswith("删除链接")
        refused = await client.post(f"/api/v1/tickets/{ticket['id']}/reply", json={"text": bad}, headers=auth(token))
        assert refused.status_code == 422
        error = refused.json()["error"]
        assert error["code"] == "draft_rejected"
        assert [p["code"] for p in error["problems"]] == ["amazon.link", "amazon.phone", "amazon.feedback"]
        assert error["problems"][1]["message"].startswith("Remove the phone number (+49 30 1234567)")

        fine = "Hallo Jana, Ihr Paket (Bestellung 302-1234567-7654321, DHL 00340434161094042557) kommt morgen an."
        assert (await client.post(f"/api/v1/tickets/{ticket['id']}/draft-check", json={"text": fine},
                                  headers=auth(token))).json() == {"ok": True, "problems": []}
        assert (await client.post(f"/api/v1/tickets/{ticket['id']}/reply", json={"text": fine},
                                  headers=auth(token))).status_code == 202
        # The same words are fine on a conversation that is not Amazon's.
        assert (await client.post(f"/api/v1/tickets/{plain['id']}/reply", json={"text": bad},
                                  headers=auth(token))).status_code == 202


@pytest.mark.parametrize("text, rules", [
    ("See www.myshop.example/returns for returns.", ["link"]),
    ("Details on myshop.com/faq", ["link"]),
    ("Write to me at anna@myshop.example", ["email_address"]),
    ("Call us: (030) 1234 5678", ["phone"]),
    ("Call 555-123-4567 anytime", ["phone"]),
    ('<p>Hello</p><img src="https://t.example/p.gif">', ["html", "link"]),
    ("Thanks!\n\n> On Monday you wrote:\n> where is it", ["quoted_history"]),
    ("Thanks!\n\nOn Mon, 23 Nov 2026, Jana wrote:\nwhere is it", ["quoted_history"]),
    ("Your case [#1234] is solved.", ["tracking_marker"]),
    ("Please leave us positive feedback.", ["feedback"]),
    ("We will refund you if you remove your review.", ["feedback"]),
    ("We offer a 10% discount for a review.", ["feedback"]),
    ("Bitte geben Sie uns eine positive Bewertung.", ["feedback"]),
    ("亲，请给我们五星好评", ["feedback"]),
])
def test_draft_rules(text, rules):
    assert [rule for rule, _ in problems(text)] == rules


@pytest.mark.parametrize("text", [
    "Your order 302-1234567-7654321 left our warehouse on 2026-11-23; DHL tracking 00340434161094042557.",
    "You can see the order in Your Orders on amazon.de.",
    "If you have a moment, we would appreciate your honest feedback on the product.",
    "The price was 12.99 EUR and the stand is 45 cm wide.",
    "我们会尽快处理您的订单，谢谢！",
])
def test_ordinary_replies_pass(text):
    assert problems(text) == []


def test_rules_can_be_switched_off():
    assert problems("Call +49 30 1234567", {"phone"}) == []


async def test_the_reply_box_checks_the_draft_and_refuses_a_bad_reply(desk_amazon):
    from tests.web.inbox_helpers import form_post, sign_in

    desk = desk_amazon
    await make_agent("agent", email="box@example.com")
    async with client_for(desk) as client:
        await post_mail(client, relay_mail("inquiry-amazon-de.eml"))
        ticket = await Ticket.select().first()
        await sign_in(client, "box@example.com")
        page = await client.get(f"/inbox/t/{ticket['id']}")
        assert page.status_code == 200 and "Check draft" in page.text and "Amazon conversation on amazon.de" in page.text
        bad = "Leave us a 5-star review at www.myshop.example"
        check = await form_post(client, f"/inbox/t/{ticket['id']}/draft-check", {"text": bad},
                                page=f"/inbox/t/{ticket['id']}", headers={"hx-request": "true"})
        assert check.status_code == 200
        assert 'data-code="amazon.link"' in check.text and 'data-code="amazon.feedback"' in check.text
        refused = await form_post(client, f"/inbox/t/{ticket['id']}/reply", {"text": bad, "kind": "reply"},
                                  page=f"/inbox/t/{ticket['id']}", headers={"hx-request": "true"})
        assert refused.status_code == 422 and "Remove the link (www.myshop.example)" in refused.text
        ok = await form_post(client, f"/inbox/t/{ticket['id']}/draft-check", {"text": "Your parcel arrives tomorrow."},
                             page=f"/inbox/t/{ticket['id']}", headers={"hx-request": "true"})
        assert "This draft can be sent." in ok.text
    assert await Message.count().where(Message.direction == "outbound") == 0
