"""Relay mail from Amazon's Buyer-Seller Messaging, through real mail paths: recognised on any
email account, stripped of Amazon's wrapper, marked as an Amazon conversation, linked to its order."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from core.polling import poll_account
from core.tables import Customer, Message, Ticket, TicketTag
from plugins.amazon.relay import claim, relay_domain, strip_wrapper
from plugins.amazon.tables import AmazonConversation, AmazonTicketOrder
from plugins.email.receive import receive
from plugins.email.settings import EmailAccountSettings
from tests.helpers import client_for
from tests.plugins.amazon.conftest import amazon_config, amazon_desk, post_mail, relay_mail
from tests.plugins.email.mailhelpers import mail

SETTINGS = EmailAccountSettings(from_address="support@shop.example")


def parsed(name: str):
    return receive(relay_mail(name), SETTINGS, "support").messages[0]


def test_it_loads_and_registers():
    from core.config import settings_from_dict
    from core.plugins import load_registry

    registry = load_registry(settings_from_dict({"relaydesk": {"database": "sqlite:///x.db"},
                                                 "plugins": {"enabled": ["amazon"]}}, "p.toml"))
    assert "amazon" in registry.channels and "amazon.poll_orders" in registry.jobs
    hooks = {h.plugin_name for name in ("adapt_inbound", "shape_outbound", "check_draft", "sla_targets",
                                        "customer_context", "render_panel") for h in getattr(registry.hook, name).get_hookimpls()}
    assert "amazon" in hooks
    assert ("amazon", registry.migrations[-1][1]) == registry.migrations[-1]


@pytest.mark.parametrize("name, marketplace, order, asin, buyer, text", [
    ("inquiry-amazon-de.eml", "amazon.de", "302-1234567-7654321", "B0CX23V2ZK", "Jana",
     "Hallo, ich habe den Ständer vor einer Woche bestellt und er ist immer noch nicht angekommen. "
     "Können Sie mir sagen, wo das Paket ist?\n\nDanke, Jana"),
    ("followup-amazon-de.eml", "amazon.de", "302-1234567-7654321", "B0CX23V2ZK", "Jana",
     "Danke, das Paket ist heute angekommen!"),
    ("inquiry-amazon-com.eml", "amazon.com", "113-5550123-4567890", "B0D1XYZ987", "Jane",
     "Hi, the bottle arrived with a dent in it. Can I get a replacement?"),
    ("presale-amazon-co-uk.eml", "amazon.co.uk", None, "B0CX23V2ZK", "Sam", "Does the stand fit a 17 inch laptop?"),
])
def test_relay_mail_is_stripped_and_described(name, marketplace, order, asin, buyer, text):
    found = claim(parsed(name))
    assert found is not None and found.kind == "amazon"
    assert found.text == text and found.html is None
    assert "commMgrTok" not in found.text and "Amazon" not in found.text.replace("Amazon-Kunde", "")
    assert found.fields["marketplace"] == marketplace and found.fields["order_id"] == order
    assert found.fields["asin"] == asin and found.sender_name == buyer
    assert found.order_ids == ([order] if order else [])
    assert found.tags == [f"marketplace:{marketplace}"]
    assert found.thread_key == f"amazon:{found.fields['buyer_address']}:{order or '-'}"


def test_other_mail_is_not_claimed():
    assert claim(receive(mail("<x@buyer.example>"), SETTINGS, "support").messages[0]) is None
    assert relay_domain("abc@marketplace.amazon.de.evil.example") is None
    assert relay_domain("abc@amazon.de") is None
    assert relay_domain("ABC@Marketplace.Amazon.CO.UK") == "amazon.co.uk"
    # Without markers only Amazon's footer goes.
    body, wrapped = strip_wrapper("Just a question.\n\nFor Your Information: we retain all messages.")
    assert (body, wrapped) == ("Just a question.", False)


async def test_relay_mail_through_imap_becomes_an_amazon_conversation(make_desk, dovecot, fake):
    user = dovecot.add_user()
    desk = await amazon_desk(make_desk, amazon_config(fake.url, imap_url=f"imap://127.0.0.1:{dovecot.imap_port}", user=user))
    account = desk.registry.account("email", "support")
    dovecot.append(user, relay_mail("inquiry-amazon-de.eml"))
    dovecot.append(user, mail("<plain@buyer.example>", subject="Not from Amazon"))
    assert await poll_account(desk, account) == 2
    dovecot.append(user, relay_mail("followup-amazon-de.eml"))
    assert await poll_account(desk, account) == 1

    relay = await Ticket.select().where(Ticket.thread_key.like("amazon:%")).first()
    messages = await Message.select().where(Message.ticket == relay["id"]).order_by(Message.id)
    assert [m["text"] for m in messages] == [
        "Hallo, ich habe den Ständer vor einer Woche bestellt und er ist immer noch nicht angekommen. "
        "Können Sie mir sagen, wo das Paket ist?\n\nDanke, Jana",
        "Danke, das Paket ist heute angekommen!"]
    assert all(m["html"] is None for m in messages)  # Amazon's HTML wrapper (and its pixel) is not kept
    meta = json.loads(messages[0]["metadata"]) if isinstance(messages[0]["metadata"], str) else messages[0]["metadata"]
    assert meta["conversation"]["kind"] == "amazon" and "Beginn der Nachricht" in meta["conversation"]["original_text"]
    tags = sorted(r["tag"] for r in await TicketTag.select(TicketTag.tag).where(TicketTag.ticket == relay["id"]))
    assert tags == ["amazon", "marketplace:amazon.de"]
    customer = await Customer.select().where(Customer.id == relay["customer"]).first()
    assert customer["name"] == "Jana"

    conversation = await AmazonConversation.select().where(AmazonConversation.ticket == relay["id"]).first()
    assert conversation["marketplace"] == "amazon.de" and conversation["order_id"] == "302-1234567-7654321"
    assert conversation["buyer_address"] == "qz8lwz3k7fk1xyz@marketplace.amazon.de"
    assert conversation["seller_address"] == "seller-de@shop.example" and conversation["asin"] == "B0CX23V2ZK"
    links = await AmazonTicketOrder.select().where(AmazonTicketOrder.ticket == relay["id"])
    assert [(link["order_id"], link["order_row"]) for link in links] == [("302-1234567-7654321", None)]

    # Amazon's 24 hours, counted round the clock.
    assert relay["first_response_due_at"] - relay["created_at"] == timedelta(hours=24)
    other = await Ticket.select().where(Ticket.subject == "Not from Amazon").first()
    assert await AmazonConversation.count().where(AmazonConversation.ticket == other["id"]) == 0
    assert other["first_response_due_at"] - other["created_at"] != timedelta(hours=24)


async def test_two_buyers_and_two_orders_are_separate_conversations(make_desk, fake):
    desk = await amazon_desk(make_desk, amazon_config(fake.url))
    other_order = relay_mail("inquiry-amazon-de.eml").replace(b"302-1234567-7654321", b"302-7654321-1234567")
    other_buyer = relay_mail("inquiry-amazon-de.eml").replace(b"qz8lwz3k7fk1xyz", b"aa11bb22cc33dd4").replace(
        b"<0102018c1f2e3d4c", b"<0102018c1f2e3d4d")
    other_order = other_order.replace(b"<0102018c1f2e3d4c", b"<0102018c1f2e3d4e")
    async with client_for(desk) as client:
        for raw in (relay_mail("inquiry-amazon-de.eml"), other_order, other_buyer):
            assert (await post_mail(client, raw))["stored"] == 1
        replay = await post_mail(client, relay_mail("inquiry-amazon-de.eml"))
        assert replay["duplicates"] == 1
    keys = sorted(r["thread_key"] for r in await Ticket.select(Ticket.thread_key))
    assert keys == ["amazon:aa11bb22cc33dd4@marketplace.amazon.de:302-1234567-7654321",
                    "amazon:qz8lwz3k7fk1xyz@marketplace.amazon.de:302-1234567-7654321",
                    "amazon:qz8lwz3k7fk1xyz@marketplace.amazon.de:302-7654321-1234567"]
    assert await AmazonConversation.count() == 3
