"""`relaydesk demo` shows the product: reply templates in English and Chinese, customers on more than
one channel type, and their orders in the ticket view's side panel and in the templates."""

from __future__ import annotations

import os

from core.config import load_settings
from core.desk import Desk
from core.tables import Customer, Macro, Message, Ticket
from tests.helpers import client_for
from tests.web.inbox_helpers import sign_in
from plugins.demo.orders import orders_for


async def test_the_demo_desk_has_templates_channels_and_orders(tmp_path, monkeypatch):
    from plugins.demo.setup import prepare_demo

    for name in ("RELAYDESK_CONFIG", "RELAYDESK_SECRET", "RELAYDESK_API_CHANNEL_SECRET"):
        monkeypatch.setenv(name, os.environ.get(name, ""))  # prepare_demo sets them; restored afterwards
    config, token = await prepare_demo(tmp_path / "demo")
    assert token
    desk = Desk(load_settings(config))
    await desk.start(run_jobs=False)
    try:
        macros = {(m["shortcut"], m["language"]) for m in await Macro.select(Macro.shortcut, Macro.language)}
        assert {("where", "en"), ("where", "zh"), ("return", "en"), ("return", "zh")} <= macros
        channels = {t["channel_type"] for t in await Ticket.select(Ticket.channel_type)}
        assert {"demo", "api"} <= channels
        ticket = await Ticket.select(Ticket.id, Ticket.customer).where(Ticket.channel_type == "demo").first()
        customer = await Customer.select(Customer.email).where(Customer.id == ticket["customer"]).first()
        orders = orders_for(customer["email"])
        assert orders and orders == orders_for(customer["email"])  # the same customer, the same orders
        async with client_for(desk) as client:
            assert (await sign_in(client, "li.na@demo.relaydesk", "demo")).status_code in (302, 303)
            page = await client.get(f"/inbox/t/{ticket['id']}")
            assert page.status_code == 200
            assert "订单（演示店铺）" in page.text and orders[0]["number"] in page.text  # li.na reads Chinese
            where_zh = await Macro.select(Macro.id).where((Macro.shortcut == "where") & (Macro.language == "zh")).first()
            preview = await client.get(f"/inbox/t/{ticket['id']}/macros/{where_zh['id']}")
            assert preview.status_code == 200 and orders[0]["number"] in preview.text and "您好" in preview.text
            translated = await Message.select(Message.ticket).where(Message.external_id == "demo-translated-1").first()
            page = await client.get(f"/inbox/t/{translated['ticket']}")
            assert "beschädigt" in page.text and "arrived damaged" in page.text and "译文" in page.text
    finally:
        await desk.stop()
