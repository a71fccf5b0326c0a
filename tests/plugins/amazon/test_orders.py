"""Orders polled from the loopback Orders API into the cache, linked to the buyer's conversation,
and served as commerce context (order panel, template variables)."""

from __future__ import annotations

from core import context as core_context
from core.tables import Customer, Ticket
from plugins.amazon import state
from plugins.amazon.orders import poll_account, poll_job
from plugins.amazon.tables import AmazonOrder, AmazonPollState, AmazonTicketOrder
from tests.helpers import client_for
from tests.plugins.amazon.conftest import DE, US, amazon_config, amazon_desk, post_mail, relay_mail
from tests.plugins.amazon.fake_spapi import make_items, make_order

BUYER = "qz8lwz3k7fk1xyz@marketplace.amazon.de"


def seed(fake) -> None:
    fake.add_order(make_order("302-1234567-7654321", updated="2026-11-22T08:00:00Z", buyer_email=BUYER, buyer_name="Jana"))
    fake.add_order(make_order("302-1111111-2222222", updated="2026-11-21T08:00:00Z", buyer_email=BUYER, total="9.50"),
                   items=make_items("302-1111111-2222222", asin="B0AAAAAAAA", title="Cable ties"))
    fake.add_order(make_order("113-5550123-4567890", updated="2026-11-23T08:00:00Z", marketplace_id=US,
                              buyer_email="7h2k9xq4mz0plr1@marketplace.amazon.com", currency="USD"))
    fake.add_order(make_order("404-0000000-0000000", updated="2026-11-23T08:00:00Z", marketplace_id="A13V1IB3VIYZZH"))


async def test_orders_poll_into_the_cache_with_paging_and_a_cursor(make_desk, fake):
    seed(fake)
    fake.page_size = 2
    desk = await amazon_desk(make_desk, amazon_config(fake.url))
    account = desk.registry.account("amazon", "eu")
    assert await poll_account(account, state.client_for(account)) == 3  # the French order is not ours
    rows = {r["order_id"]: r for r in await AmazonOrder.select().output(load_json=True)}
    assert set(rows) == {"302-1234567-7654321", "302-1111111-2222222", "113-5550123-4567890"}
    stand = rows["302-1234567-7654321"]
    assert stand["buyer_email"] == BUYER and stand["status"] == "Unshipped" and str(stand["total"]) == "25.99"
    assert stand["data"]["marketplace"] == "amazon.de" and stand["data"]["items"][0]["asin"] == "B0CX23V2ZK"
    assert rows["302-1111111-2222222"]["data"]["items"][0]["title"] == "Cable ties"
    calls = fake.calls("/orders/v0/orders")
    page_calls = [c for c in calls if c.path == "/orders/v0/orders"]
    assert len(page_calls) == 2 and "NextToken" in page_calls[1].query
    assert page_calls[0].query["MarketplaceIds"] == [f"{DE},{US}"]
    assert all(c.headers["x-amz-access-token"].startswith("Atz.sprdt|") for c in page_calls)
    cursor = await AmazonPollState.select().where(AmazonPollState.account == account.id).first()
    assert cursor["last_updated_after"] == "2026-11-23T08:00:00Z" and cursor["last_error"] is None

    # The next poll asks from the cursor and fetches items only for orders that changed.
    fake.orders["302-1234567-7654321"]["OrderStatus"] = "Shipped"
    fake.orders["302-1234567-7654321"]["LastUpdateDate"] = "2026-11-24T09:00:00Z"
    before = len(fake.calls("/orders/v0/orders/"))
    assert await poll_account(account, state.client_for(account)) == 2
    assert [c for c in fake.calls("/orders/v0/orders") if c.path == "/orders/v0/orders"][-1].query["LastUpdatedAfter"] \
        == ["2026-11-23T08:00:00Z"]
    item_calls = [c.path for c in fake.calls("/orders/v0/orders/")][before:]
    assert item_calls == ["/orders/v0/orders/302-1234567-7654321/orderItems"]
    shipped = await AmazonOrder.select().where(AmazonOrder.order_id == "302-1234567-7654321").output(load_json=True).first()
    assert shipped["status"] == "Shipped" and shipped["data"]["items"]  # items kept


async def test_without_the_pii_role_orders_still_poll(make_desk, fake):
    seed(fake)
    desk = await amazon_desk(make_desk, amazon_config(fake.url))
    account = desk.registry.account("amazon", "eu")
    denied = (403, {"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied.",
                                "details": ""}]})
    fake.failures += [denied, denied]  # Amazon's 403 reads like an expired token: one retry, then do without
    assert await poll_account(account, state.client_for(account)) == 3
    assert [c.status for c in fake.calls("/tokens/")] == [403, 403]
    assert all(c.headers["x-amz-access-token"].startswith("Atza|") for c in fake.calls("/orders/v0/orders"))
    assert await AmazonOrder.count().where(AmazonOrder.buyer_email.is_not_null()) == 0


async def test_conversation_order_panel_and_template_variables(make_desk, fake):
    seed(fake)
    desk = await amazon_desk(make_desk, amazon_config(fake.url))
    account = desk.registry.account("amazon", "eu")
    async with client_for(desk) as client:
        await post_mail(client, relay_mail("inquiry-amazon-de.eml"))  # the buyer writes before the poll
    ticket = await Ticket.select().first()
    link = await AmazonTicketOrder.select().where(AmazonTicketOrder.ticket == ticket["id"]).first()
    assert link["order_row"] is None
    assert await poll_job({"desk": desk}) == 3
    link = await AmazonTicketOrder.select().where(AmazonTicketOrder.ticket == ticket["id"]).first()
    assert link["order_row"] is not None  # linked once the order arrived
    mine = await AmazonOrder.select(AmazonOrder.order_id, AmazonOrder.customer).where(AmazonOrder.buyer_email == BUYER)
    assert {r["customer"] for r in mine} == {ticket["customer"]}  # the buyer's relay address names the customer
    assert await poll_job({"desk": desk}) == 0  # not due again before poll_interval_seconds

    customer = await Customer.select().where(Customer.id == ticket["customer"]).first()
    merged = await core_context.customer_context(desk, customer, ticket)
    amazon = merged["amazon"]
    assert amazon["conversation"] and amazon["marketplace"] == "amazon.de" and amazon["asin"] == "B0CX23V2ZK"
    assert amazon["order_number"] == "302-1234567-7654321" and amazon["order_status"] == "Unshipped"
    assert amazon["order_value"] == 25.99 and amazon["latest_delivery_date"] == "2026-11-28T23:59:59Z"
    assert [o["order_id"] for o in merged["orders"]] == ["302-1234567-7654321", "302-1111111-2222222"]
    assert merged["orders"][0]["mentioned"] and merged["orders"][0]["customer_match"]
    panels = await core_context.panels(desk, ticket, customer, merged)
    html = next(p for p in panels if p["plugin"] == "amazon")["html"]
    assert "Amazon conversation on amazon.de" in html and "302-1234567-7654321" in html
    assert "seller-de@shop.example" in html and "Aluminium Laptop Stand" in html and "Cable ties" in html

    # A template reads the same variables.
    from core.macros import render

    text = render("Order {{ amazon.order_number }} is {{ amazon.order_status }} on {{ amazon.marketplace }}.",
                  ticket=ticket, customer=customer, agent={"name": "A"}, context=merged)
    assert text == "Order 302-1234567-7654321 is Unshipped on amazon.de."


async def test_context_of_a_customer_without_amazon_orders(make_desk, fake):
    desk = await amazon_desk(make_desk, amazon_config(fake.url))
    rows = await Customer.insert(Customer(name="Nobody")).returning(Customer.id)
    merged = await core_context.customer_context(desk, {"id": rows[0]["id"]}, None)
    assert merged["orders"] == [] and merged["amazon"]["conversation"] is False and merged["amazon"]["order"] is None
    assert [p for p in await core_context.panels(desk, {"id": 0}, {"id": rows[0]["id"]}, merged) if p["plugin"] == "amazon"] == []
