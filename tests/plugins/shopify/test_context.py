"""The commerce context, the order panel, template variables, rule fields and order mentions."""

from __future__ import annotations

from datetime import timedelta

from core import clock
from core.context import customer_context, panels
from core.tables import Customer, Ticket
from plugins.shopify.tables import ShopifyTicketOrder
from tests.helpers import client_for, message as _message, post_messages
from tests.plugins.shopify.conftest import corpus, post_webhook, shopify_config


def msg(external_id, sender="cust-1", text="Hello", *, sender_fields=None, **extra):
    """An API-channel message whose sender also carries contact details."""
    body = _message(external_id, sender=sender, text=text, **extra)
    body["sender"].update(sender_fields or {})
    return body


async def _desk(make_desk, fake):
    from core.migrate import migrate

    configure = shopify_config(fake.url)

    def both(config):
        configure(config)
        config["plugins"]["api_channel"]["accounts"]["main"]["trust_contact_details"] = True

    desk = await make_desk(both, run_jobs=False)
    await migrate(desk.registry.migrations)
    return desk


def _order(**changes):
    order = corpus("order.json", "order")
    order["fulfillments"][0].update(status="success", tracking_company="UPS", created_at=(
        clock.now() - timedelta(days=3)).isoformat(), estimated_delivery_at="2026-11-28T12:00:00Z")
    order.update(fulfillment_status="fulfilled", financial_status="paid")  # as orders/fulfilled sends it
    order.update(changes)
    return order


async def test_context_panel_variables_and_fields(make_desk, fake):
    desk = await _desk(make_desk, fake)
    async with client_for(desk) as client:
        assert (await post_webhook(client, "orders/fulfilled", _order(note='<script>alert("x")</script>'),
                                   webhook_id="wh-1")).status_code == 200
        response = await post_messages(client, [msg("m-1", sender="bob", text="Hi, any news on order #1001?",
                                                         sender_fields={"email": "bob.norman@hostmail.com"})])
    ticket_id = response.json()["messages"][0]["ticket_id"]
    ticket = await Ticket.select().where(Ticket.id == ticket_id).first()
    customer = await Customer.select().where(Customer.id == ticket["customer"]).first()
    context = await customer_context(desk, customer, ticket)
    [order] = context["orders"]
    assert order["name"] == "#1001" and order["mentioned"] and order["customer_match"]
    assert order["status"] == "shipped" and order["total"] == "409.94" and order["currency"] == "USD"
    assert order["items"][0]["title"] == "IPod Nano - 8gb"
    assert order["fulfillments"][0]["tracking"][0]["url"].startswith("http://wwwapps.ups.com/")
    variables = context["shopify"]
    assert variables["order_number"] == "#1001"
    assert variables["tracking_url"].startswith("http://wwwapps.ups.com/")
    assert variables["delivery_estimate"] == "2026-11-28T12:00:00Z"
    assert variables["order_status"] == "shipped" and variables["order_value"] == 409.94
    assert variables["days_since_fulfillment"] == 3
    from core.macros import render

    text = render("Order {{ shopify.order_number }} is {{ shopify.order_status }}: {{ shopify.tracking_url }}"
                  " (expected {{ shopify.delivery_estimate[:10] }})", ticket=ticket, customer=customer,
                  agent={"name": "A"}, context=context)
    assert text.startswith("Order #1001 is shipped: http://wwwapps.ups.com/") and text.endswith("(expected 2026-11-28)")
    [panel] = [p for p in await panels(desk, ticket, customer, context) if p["plugin"] == "shopify"]
    assert panel["title"] == "Shopify orders"
    assert "&lt;script&gt;" in panel["html"] and "<script>" not in panel["html"]
    assert 'href="http://wwwapps.ups.com/etracking/tracking.cgi?InquiryNumber1=1Z2345&amp;' in panel["html"]


async def test_mention_before_the_order_arrives_links_when_it_does(make_desk, fake):
    desk = await _desk(make_desk, fake)
    async with client_for(desk) as client:
        response = await post_messages(client, [msg("m-1", sender="eve", text="Cancel order 1001 please",
                                                         sender_fields={"email": "eve@example.com"})])
        ticket_id = response.json()["messages"][0]["ticket_id"]
        link = await ShopifyTicketOrder.select().output(load_json=True).first()
        assert link["ticket"] == ticket_id and link["order_name"] == "#1001" and link["order_row"] is None
        await post_webhook(client, "orders/create", _order(), webhook_id="wh-1")
    link = await ShopifyTicketOrder.select().output(load_json=True).first()
    assert link["order_row"] is not None
    # Eve is not the buyer: the panel shows the order, flagged, but variables never quote it.
    ticket = await Ticket.select().where(Ticket.id == ticket_id).first()
    customer = await Customer.select().where(Customer.id == ticket["customer"]).first()
    context = await customer_context(desk, customer, ticket)
    assert context["orders"][0]["mentioned"] and not context["orders"][0]["customer_match"]
    assert context["shopify"]["order_number"] is None and context["shopify"]["tracking_url"] is None
    [panel] = [p for p in await panels(desk, ticket, customer, context) if p["plugin"] == "shopify"]
    assert "belongs to another customer" in panel["html"]


async def test_channel_order_ids_link_the_ticket(make_desk, fake):
    desk = await _desk(make_desk, fake)
    async with client_for(desk) as client:
        await post_webhook(client, "orders/create", _order(), webhook_id="wh-1")
        response = await post_messages(client, [msg("m-1", sender="x", text="hello", order_ids=["450789469"])])
    ticket_id = response.json()["messages"][0]["ticket_id"]
    link = await ShopifyTicketOrder.select().output(load_json=True).where(ShopifyTicketOrder.ticket == ticket_id).first()
    assert link is not None and link["order_row"] is not None


def test_order_names_in_text():
    from plugins.shopify.context import order_names_in

    assert order_names_in("Order #1001 and order no. 1002, not &#123; nor abc#999x") == ["#1001", "#1002"]
    assert order_names_in("Bestellung order number #20001") == ["#20001"]
    assert order_names_in("no numbers here") == []


async def test_days_since_fulfillment_uses_the_clock(make_desk, fake):
    desk = await _desk(make_desk, fake)
    async with client_for(desk) as client:
        await post_webhook(client, "orders/create", _order(), webhook_id="wh-1")
    customer = await Customer.select().first()
    later = clock.now() + timedelta(days=10)
    clock.set_clock(lambda: later)
    try:
        context = await customer_context(desk, customer, None)
    finally:
        clock.set_clock(None)
    assert context["shopify"]["days_since_fulfillment"] == 13
