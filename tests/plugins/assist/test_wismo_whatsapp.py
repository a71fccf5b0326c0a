""""Where is my order" on WhatsApp, against the loopback Graph API and the loopback Shopify, both
databases, clock held still: the agent merged the WhatsApp contact with the Shopify customer (the
order is theirs), so the question is answered inside the 24-hour window, with the tracking link,
and the Graph API receives exactly that text."""

from __future__ import annotations

from core import merge, outbound
from core.migrate import migrate
from core.tables import Message, Outbox, Ticket
from plugins.shopify.tables import ShopifyOrder
from tests.helpers import client_for
from tests.plugins.assist.conftest import NOW, assist_shop_config, shipped_order
from tests.plugins.shopify.conftest import post_webhook
from tests.plugins.whatsapp.conftest import _fresh_template_cache, _whatsapp_env, graph  # noqa: F401
from tests.plugins.whatsapp.wa_helpers import envelope, post, text_message, whatsapp


async def test_answered_on_whatsapp_with_the_link(make_desk, fake_shopify, graph, frozen_clock):
    shop = assist_shop_config(fake_shopify.url, wismo_answer={"whatsapp": "send"})

    def configure(config):
        shop(config)
        whatsapp(graph)(config)

    desk = await make_desk(configure, run_jobs=False)
    await migrate(desk.registry.migrations)
    ts = int(NOW.timestamp())
    async with client_for(desk) as client:
        assert (await post_webhook(client, "orders/fulfilled", shipped_order(), webhook_id="wh-1")).status_code == 200
        assert (await post(client, envelope([text_message("wamid.A1", "Hello!", ts=ts)]))).status_code == 200
        ticket = await Ticket.select().where(Ticket.channel_type == "whatsapp").first()
        owner = (await ShopifyOrder.select(ShopifyOrder.customer).first())["customer"]
        await merge.merge_customers(ticket["customer"], owner, actor="agent:1")  # the agent links them
        question = text_message("wamid.A2", "Where is my order? It's been a week.", ts=ts + 60)
        assert (await post(client, envelope([question]))).status_code == 200
    reply = await Message.select().where((Message.ticket == ticket["id"]) & (Message.direction == "outbound")).first()
    box = await Outbox.select(Outbox.id).where(Outbox.message == reply["id"]).first()
    assert await outbound.deliver(desk, box["id"]) == "sent"
    assert "UPS tracking number 1Z2345: http://wwwapps.ups.com/" in reply["text"]
    [call] = graph.sends()
    assert call.json()["to"] == "972987654321" and call.json()["text"]["body"] == reply["text"]
    assert (await Ticket.select(Ticket.status).where(Ticket.id == ticket["id"]).first())["status"] == "pending"
