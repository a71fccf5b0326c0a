""""Where is my order" answered from a Shopify order's real tracking, on both databases, with the
clock held still: sent or drafted as the channel's setting says, in the customer's language,
pending until the customer writes again; nothing at all when the facts are missing or unclear."""

from __future__ import annotations

import json

from core import outbound
from core.events import Event
from core.tables import Message, Outbox, Ticket
from plugins.assist import automation
from plugins.assist.tables import AssistAnswer
from tests.helpers import client_for, message, post_messages
from tests.plugins.assist.conftest import NOW, shipped_order
from tests.plugins.shopify.conftest import post_webhook

UPS_URL = "http://wwwapps.ups.com/etracking/tracking.cgi?InquiryNumber1=1Z2345"


def from_bob(external_id: str, text: str, **extra):
    body = message(external_id, sender="bob", text=text, **extra)
    body["sender"]["email"] = "bob.norman@hostmail.com"
    return body


async def _ask(desk, order, text, external_id="m-1", **extra):
    async with client_for(desk) as client:
        if order is not None:
            response = await post_webhook(client, "orders/fulfilled", order, webhook_id=f"wh-{external_id}")
            assert response.status_code == 200, response.text
        response = await post_messages(client, [from_bob(external_id, text, **extra)])
        assert response.status_code == 200, response.text
    return response.json()["messages"][0]["ticket_id"]


async def _answers(ticket_id):
    return await AssistAnswer.select().where(AssistAnswer.ticket == ticket_id).order_by(AssistAnswer.id)


async def test_sent_with_tracking_link_and_pending_until_the_customer_writes(make_assist_desk, frozen_clock, receiver):
    receiver.script = None
    desk = await make_assist_desk(callback_url=receiver.url, wismo_answer={"api": "send"})
    ticket_id = await _ask(desk, shipped_order(), "Hi, where is my order? It's been a while.")
    [reply] = await Message.select().where((Message.ticket == ticket_id) & (Message.direction == "outbound"))
    assert reply["author"] is None
    meta = reply["metadata"] if isinstance(reply["metadata"], dict) else json.loads(reply["metadata"])
    assert meta["assist"]["kind"] == "wismo" and meta["assist"]["order"] == "#1001"
    text = reply["text"]
    assert "order #1001" in text and "UPS tracking number 1Z2345: " + UPS_URL in text
    assert "It is on its way with the carrier." in text and "Expected delivery: December 5, 2026." in text
    ticket = await Ticket.select().where(Ticket.id == ticket_id).first()
    assert ticket["status"] == "pending" and ticket["intent"] == "wismo"
    [answer] = await _answers(ticket_id)
    assert (answer["mode"], answer["reply"], answer["language"]) == ("sent", reply["id"], "en")
    # it reaches the far end
    box = await Outbox.select(Outbox.id).where(Outbox.message == reply["id"]).first()
    assert await outbound.deliver(desk, box["id"]) == "sent"
    assert UPS_URL.split("?")[0] in receiver.requests[-1].body.decode()
    # the same event again (a replayed hook) answers nothing twice
    inbound = await Message.select(Message.id).where((Message.ticket == ticket_id) & (Message.direction == "inbound")).first()
    assert await automation.handle(desk, Event("created", ticket_id, inbound["id"])) is None
    assert len(await Message.select().where(Message.direction == "outbound")) == 1
    # the customer writes again: the ticket reopens for an agent
    async with client_for(desk) as client:
        await post_messages(client, [from_bob("m-2", "Thanks, but can I also change the colour?")])
    assert (await Ticket.select(Ticket.status).where(Ticket.id == ticket_id).first())["status"] == "open"
    # asking again after the automatic answer: a person looks, with the answer ready as a draft
    async with client_for(desk) as client:
        await post_messages(client, [from_bob("m-3", "Where is my order now? Any news on the parcel?")])
    assert [(a["mode"], a["reason"]) for a in await _answers(ticket_id)] == [("sent", ""), ("draft", "repeat")]
    assert len(await Message.select().where(Message.direction == "outbound")) == 1


async def test_answer_in_the_customers_language(make_assist_desk, frozen_clock):
    desk = await make_assist_desk(wismo_answer={"api": "send"})
    ticket_id = await _ask(desk, shipped_order(shipment_status="out_for_delivery", eta_in_days=None),
                           "Hallo, wo bleibt meine Bestellung? Ich warte schon seit Tagen.")
    [reply] = await Message.select().where((Message.ticket == ticket_id) & (Message.direction == "outbound"))
    assert reply["text"].startswith("Hallo, hier der aktuelle Stand zu Ihrer Bestellung #1001:")
    assert "UPS Sendungsnummer 1Z2345" in reply["text"] and "Sie ist in der Zustellung." in reply["text"]
    assert "Voraussichtliche" not in reply["text"]  # no estimate in the order: none invented
    assert (await _answers(ticket_id))[0]["language"] == "de"


async def test_draft_by_default_nothing_sent(make_assist_desk, frozen_clock):
    desk = await make_assist_desk()
    ticket_id = await _ask(desk, shipped_order(shipment_status=None), "我的订单到哪里了？")
    assert await Message.select().where(Message.direction == "outbound") == []
    [answer] = await _answers(ticket_id)
    assert (answer["mode"], answer["reason"], answer["language"]) == ("draft", "mode", "zh")
    assert "UPS 快递单号 1Z2345" in answer["text"] and "已于 2026年11月30日 发货。" in answer["text"]
    assert (await Ticket.select(Ticket.status).where(Ticket.id == ticket_id).first())["status"] == "new"


async def test_no_facts_no_answer(make_assist_desk, frozen_clock):
    desk = await make_assist_desk(wismo_answer_default="send")
    unfulfilled = shipped_order(fulfillment_status=None, fulfillments=[])
    first = await _ask(desk, unfulfilled, "Where is my order?", "m-1")
    assert [a["mode"] for a in await _answers(first)] == ["skipped"]
    assert (await _answers(first))[0]["reason"] == "no_facts"
    assert await Message.select().where(Message.direction == "outbound") == []


async def test_delivered_or_failed_parcels_go_to_a_person(make_assist_desk, frozen_clock):
    desk = await make_assist_desk(wismo_answer_default="send")
    for n, status in enumerate(("delivered", "failure", "attempted_delivery")):
        ticket_id = await _ask(desk, shipped_order(shipment_status=status, updated_at=f"2026-12-0{n + 1}T00:00:00Z"),
                               "Where is my parcel??", f"m-{n}")
        assert [a["reason"] for a in await _answers(ticket_id)] == ["no_facts"], status
        await Ticket.update({Ticket.status: "solved"}).where(Ticket.id == ticket_id)
    assert await Message.select().where(Message.direction == "outbound") == []


async def test_other_intents_and_angry_customers(make_assist_desk, frozen_clock):
    desk = await make_assist_desk(wismo_answer_default="send")
    ticket_id = await _ask(desk, shipped_order(), "I would like to return the iPod and get a refund.")
    assert await _answers(ticket_id) == []
    await Ticket.update({Ticket.status: "solved"}).where(Ticket.id == ticket_id)
    angry = await _ask(desk, None, "WHERE IS MY ORDER??? I paid weeks ago and still NOTHING!!!", "m-2")
    [answer] = await _answers(angry)
    assert (answer["mode"], answer["reason"]) == ("draft", "angry") and "1Z2345" in answer["text"]
    assert await Message.select().where(Message.direction == "outbound") == []
