"""A proactive notice on WhatsApp after the 24-hour window has closed: the rule's approved template
goes instead of free text, filled with the order's facts, against the loopback Graph API and the
loopback Shopify, on both databases, clock held still; without a template nothing is stored."""

from __future__ import annotations

from datetime import timedelta

from core import clock, merge, outbound, rules
from core.migrate import migrate
from core.tables import AutomationRule, Message, Outbox, Ticket
from plugins.shopify.jobs import no_tracking_sweep
from plugins.shopify.tables import ShopifyOrder
from tests.helpers import client_for
from tests.plugins.assist.conftest import NOW, assist_shop_config, shipped_order
from tests.plugins.shopify.conftest import post_webhook
from tests.plugins.whatsapp.conftest import _fresh_template_cache, _whatsapp_env, graph  # noqa: F401
from tests.plugins.whatsapp.test_templates import template
from tests.plugins.whatsapp.wa_helpers import WABA_ID, envelope, post, text_message, whatsapp

ACTION = {"message_customer": {
    "text": "Your order {{ event.data.order_name }} is delayed.",
    "template": {"name": "order_delayed", "language": "en_US",
                 "params": {"1": "{{ event.data.order_name }}", "2": "{{ shopify.tracking_url }}"}}}}


async def _setup(make_desk, fake_shopify, graph, action):
    graph.templates = [template("order_delayed", body="Your order {{1}} is delayed; we are on it. Tracking: {{2}}")]
    shop = assist_shop_config(fake_shopify.url)

    def configure(config):
        shop(config)
        whatsapp(graph, business_account_id=WABA_ID)(config)

    desk = await make_desk(configure, run_jobs=False)
    await migrate(desk.registry.migrations)
    rules.validate("shopify.no_tracking_update", {}, [action])
    await AutomationRule.insert(AutomationRule(name="delayed", event="shopify.no_tracking_update", position=0,
                                               conditions={}, actions=[action]))
    rules.invalidate()
    async with client_for(desk) as client:
        await post(client, envelope([text_message("wamid.B1", "Hello!", ts=int(NOW.timestamp()))]))
        chat = await Ticket.select().where(Ticket.channel_type == "whatsapp").first()
        await Ticket.update({Ticket.status: "solved"}).where(Ticket.id == chat["id"])
        await post_webhook(client, "orders/fulfilled", shipped_order(), webhook_id="wh-1")
    owner = (await ShopifyOrder.select(ShopifyOrder.customer).first())["customer"]
    await merge.merge_customers(chat["customer"], owner, actor="agent:1")
    clock.set_clock(lambda: NOW + timedelta(days=2))  # the window closed a day ago
    return desk, chat


async def test_closed_window_sends_the_template_with_the_orders_facts(make_desk, fake_shopify, graph, frozen_clock):
    desk, chat = await _setup(make_desk, fake_shopify, graph, ACTION)
    assert await no_tracking_sweep({"desk": desk}) == 1
    ticket = await Ticket.select().where(Ticket.id != chat["id"]).first()
    assert (ticket["status"], ticket["channel_type"]) == ("pending", "whatsapp")
    [notice] = await Message.select().where(Message.ticket == ticket["id"])
    assert notice["text"].startswith("Your order #1001 is delayed; we are on it. Tracking: http://wwwapps.ups.com/")
    box = await Outbox.select(Outbox.id).where(Outbox.message == notice["id"]).first()
    assert await outbound.deliver(desk, box["id"]) == "sent"
    [call] = graph.sends()
    body = call.json()
    assert body["type"] == "template" and body["template"]["name"] == "order_delayed"
    texts = [p["text"] for c in body["template"]["components"] for p in c["parameters"]]
    assert texts[0] == "#1001" and texts[1].startswith("http://wwwapps.ups.com/etracking/tracking.cgi?InquiryNumber1=1Z2345")


async def test_closed_window_without_a_template_stores_nothing(make_desk, fake_shopify, graph, frozen_clock):
    action = {"message_customer": {"text": "Your order {{ event.data.order_name }} is delayed."}}
    desk, chat = await _setup(make_desk, fake_shopify, graph, action)
    assert await no_tracking_sweep({"desk": desk}) == 1
    assert [t["id"] for t in await Ticket.select(Ticket.id)] == [chat["id"]]
    assert await Message.select().where(Message.direction == "outbound") == []
    assert graph.sends() == []
