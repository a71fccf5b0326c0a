""""Where is my order" on an Amazon relay conversation, with the Amazon plugin's real draft checks
and real mail servers: Amazon gives no tracking, so without another source of facts nothing is
said; with a carrier feed's tracking the answer goes out without the link Amazon forbids; an
answer that breaks Amazon's rules even without links stays a draft and is never sent."""

from __future__ import annotations

import email
import email.policy

from pluggy import HookimplMarker

from core import outbound
from core.tables import Message, Outbox, Ticket
from plugins.assist.tables import AssistAnswer
from tests.helpers import client_for
from tests.plugins.amazon.conftest import (  # noqa: F401  (the Amazon tests' fixtures)
    _amazon_env, amazon_config, amazon_desk, clock, fake, post_mail, relay_mail,
)
from tests.plugins.email.conftest import _fresh_rate_limits, smtp_factory, smtp_server, tls_cert  # noqa: F401

hookimpl = HookimplMarker("relaydesk")
ORDER = "302-1234567-7654321"
NUMBER = "00340434161094042557"


class CarrierFeed:
    """A throwaway commerce plugin: tracking for the Amazon order, as a carrier integration would add."""

    def __init__(self, carrier: str) -> None:
        self.carrier = carrier

    @hookimpl
    def customer_context(self, customer, ticket):
        return {"orders": [{"source": "carrierfeed", "name": ORDER, "customer_match": True, "mentioned": True,
                            "status": "shipped", "fulfillments": [{
                                "status": "success", "shipment_status": "in_transit", "created_at": "2026-11-30T08:00:00Z",
                                "tracking": [{"company": self.carrier, "number": NUMBER,
                                              "url": f"https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode={NUMBER}"}]}]}]}


def _with_assist(configure):
    def both(config):
        configure(config)
        config["plugins"]["enabled"].append("assist")
        config["plugins"]["assist"] = {"wismo_answer": {"email": "send"}}
    return both


async def _desk(make_desk, fake, smtp_server, feed):
    async def build(configure, run_jobs=False):
        return await make_desk(configure, run_jobs=run_jobs, extra_plugins=[("carrierfeed", feed)] if feed else None)

    return await amazon_desk(build, _with_assist(amazon_config(fake.url, smtp_url=smtp_server.url)))


async def _ask(desk):
    async with client_for(desk) as client:
        await post_mail(client, relay_mail("inquiry-amazon-de.eml"))
    ticket = await Ticket.select().where(Ticket.thread_key.like("amazon:qz8%")).first()
    assert ticket["intent"] == "wismo"
    return ticket


async def test_amazon_gives_no_tracking_so_nothing_is_said(make_desk, fake, smtp_server, frozen_clock):
    desk = await _desk(make_desk, fake, smtp_server, None)
    ticket = await _ask(desk)
    [answer] = await AssistAnswer.select().where(AssistAnswer.ticket == ticket["id"])
    assert (answer["mode"], answer["reason"]) == ("skipped", "no_facts")
    assert await Message.select().where(Message.direction == "outbound") == []


async def test_sent_without_the_link_amazon_forbids(make_desk, fake, smtp_server, frozen_clock):
    desk = await _desk(make_desk, fake, smtp_server, CarrierFeed("DHL"))
    ticket = await _ask(desk)
    [reply] = await Message.select().where((Message.ticket == ticket["id"]) & (Message.direction == "outbound"))
    assert f"DHL Sendungsnummer {NUMBER}" in reply["text"] and "http" not in reply["text"]
    assert "Mit dieser Sendungsnummer" in reply["text"]
    box = await Outbox.select(Outbox.id).where(Outbox.message == reply["id"]).first()
    assert await outbound.deliver(desk, box["id"]) == "sent"
    [sent] = smtp_server.received
    assert sent.rcpt_tos == ["qz8lwz3k7fk1xyz@marketplace.amazon.de"]
    body = email.message_from_bytes(sent.data, policy=email.policy.default).get_content()
    assert NUMBER in body and "dhl.de" not in body
    assert (await Ticket.select(Ticket.status).where(Ticket.id == ticket["id"]).first())["status"] == "pending"


async def test_an_answer_breaking_amazons_rules_is_never_sent(make_desk, fake, smtp_server, frozen_clock):
    desk = await _desk(make_desk, fake, smtp_server, CarrierFeed("dhl.de Paket"))  # a domain in the carrier's name
    ticket = await _ask(desk)
    [answer] = await AssistAnswer.select().where(AssistAnswer.ticket == ticket["id"])
    assert (answer["mode"], answer["reason"]) == ("draft", "draft_rejected")
    assert await Message.select().where(Message.direction == "outbound") == []
    assert smtp_server.received == []
    assert (await Ticket.select(Ticket.status).where(Ticket.id == ticket["id"]).first())["status"] == "new"
