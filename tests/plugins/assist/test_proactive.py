"""Proactive notices (issue 23, item 4): a rule starts from a commerce event about a customer with
no open ticket (Shopify's "no tracking update" sweep, against the loopback Shopify), writes to them
on the channel they last used with the order's facts from the commerce context, in the sandbox,
and opens a pending ticket so their answer lands in context. Both databases, clock held still."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core import clock, rules
from core.errors import Invalid
from core.events import Event, publish
from core.tables import AutomationRule, Message, Ticket, TicketTag
from plugins.shopify.jobs import no_tracking_sweep
from tests.helpers import client_for, message, post_messages
from tests.plugins.assist.conftest import NOW, shipped_order
from tests.plugins.shopify.conftest import post_webhook

NOTICE = ("Hello, your order {{ event.data.order_name }} has had no tracking update for {{ event.data.days }} days. "
          "Track it: {{ shopify.tracking_url }} ({{ orders[0]['items'][0]['title'] }}). We are on it.")


async def _rule(event, actions, conditions=None):
    rules.validate(event, conditions or {}, actions)
    await AutomationRule.insert(AutomationRule(name="delayed parcel", event=event, position=0,
                                               conditions=conditions or {}, actions=actions))
    rules.invalidate()


async def test_delayed_shipment_reaches_a_customer_with_no_open_ticket(make_assist_desk, frozen_clock):
    desk = await make_assist_desk()
    await _rule("shopify.no_tracking_update", [
        {"message_customer": {"text": NOTICE, "subject": "Your order {{ event.data.order_name }}"}}, {"tag": "delayed"}])
    async with client_for(desk) as client:
        body = message("m-1", sender="bob", text="Do you ship to Norway?")
        body["sender"]["email"] = "bob.norman@hostmail.com"
        await post_messages(client, [body])
        earlier = (await Ticket.select(Ticket.id).first())["id"]
        await Ticket.update({Ticket.status: "solved"}).where(Ticket.id == earlier)
        await post_webhook(client, "orders/fulfilled", shipped_order(), webhook_id="wh-1")
        assert await no_tracking_sweep({"desk": desk}) == 1
        [ticket] = await Ticket.select().where(Ticket.id != earlier)
        assert (ticket["status"], ticket["subject"], ticket["channel_type"]) == ("pending", "Your order #1001", "api")
        [notice] = await Message.select().where(Message.ticket == ticket["id"])
        assert notice["direction"] == "outbound" and notice["author"] is None
        assert notice["text"].startswith("Hello, your order #1001 has had no tracking update for ")
        assert "Track it: http://wwwapps.ups.com/etracking/tracking.cgi?InquiryNumber1=1Z2345" in notice["text"]
        assert "(IPod Nano - 8gb)" in notice["text"]
        tags = {r["tag"] for r in await TicketTag.select(TicketTag.tag).where(TicketTag.ticket == ticket["id"])}
        assert tags == {"delayed"}
        # the answer lands in that ticket and reopens it
        reply = message("m-2", sender="bob", text="Thanks, any idea when it comes?")
        reply["sender"]["email"] = "bob.norman@hostmail.com"
        await post_messages(client, [reply])
    row = await Ticket.select(Ticket.status).where(Ticket.id == ticket["id"]).first()
    assert row["status"] == "open"
    assert len(await Message.select().where(Message.ticket == ticket["id"])) == 2
    # the sweep warns once per stale fulfillment: later runs write nothing more
    clock.set_clock(lambda: NOW + timedelta(days=1))
    assert await no_tracking_sweep({"desk": desk}) == 0


async def test_open_ticket_is_used_and_customer_without_a_channel_gets_nothing(make_assist_desk, frozen_clock):
    desk = await make_assist_desk()
    await _rule("shopify.refund_created", [{"message_customer": {"text": "Refund for {{ shopify.order_number }} is on its way."}}])
    # a customer the desk never talked to: nothing to write through
    await publish(desk, [Event("shopify.refund_created", None, data={"customer_id": 999})])
    assert await Message.select() == []
    async with client_for(desk) as client:
        await post_webhook(client, "orders/fulfilled", shipped_order(), webhook_id="wh-1")
        body = message("m-1", sender="bob", text="Hello?")
        body["sender"]["email"] = "bob.norman@hostmail.com"
        await post_messages(client, [body])
    [open_ticket] = await Ticket.select()
    await publish(desk, [Event("shopify.refund_created", None, data={"customer_id": open_ticket["customer"]})])
    [notice] = await Message.select().where(Message.direction == "outbound")
    assert notice["ticket"] == open_ticket["id"] and notice["text"] == "Refund for #1001 is on its way."
    assert len(await Ticket.select()) == 1


@pytest.mark.parametrize("bad", [{"message_customer": {}}, {"message_customer": {"text": ""}},
                                 {"message_customer": {"text": "x", "channel": 3}},
                                 {"message_customer": {"text": "{{ broken"}}, {"message_customer": "hi"}])
def test_bad_message_customer_actions_are_refused(bad):
    with pytest.raises(Invalid):
        rules.validate("shopify.no_tracking_update", {}, [bad])
