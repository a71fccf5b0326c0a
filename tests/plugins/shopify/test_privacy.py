"""The mandatory privacy webhooks really export and erase, Relaydesk's own copies included."""

from __future__ import annotations

import json
from pathlib import Path

from core.tables import Attachment, AuditEntry, Customer, Identity, Message, Ticket
from plugins.shopify.tables import ShopifyOrder, ShopifyPrivacyRequest, ShopifyTicketOrder
from tests.helpers import client_for, message as _message, post_messages
from tests.plugins.shopify.conftest import SHOP, corpus, post_webhook


def msg(external_id, sender="cust-1", text="Hello", *, sender_fields=None, **extra):
    """An API-channel message whose sender also carries contact details."""
    body = _message(external_id, sender=sender, text=text, **extra)
    body["sender"].update(sender_fields or {})
    return body


async def _customer_with_history(desk, client) -> int:
    """Bob orders in the store, then writes to support from his (verified) address with an attachment."""
    assert (await post_webhook(client, "orders/create", corpus("order.json", "order"), webhook_id="wh-o")).status_code == 200
    other = corpus("order.json", "order")
    other.update(id=999, name="#2002", email="someone.else@example.com", customer=None)
    assert (await post_webhook(client, "orders/create", other, webhook_id="wh-o2")).status_code == 200
    import base64

    response = await post_messages(client, [msg(
        "m-1", sender="bob-api", text="Where is order #1001?",
        sender_fields={"email": "bob.norman@hostmail.com", "name": "Bob"},
        attachments=[{"filename": "receipt.txt", "content_type": "text/plain",
                      "data": base64.b64encode(b"bob's receipt").decode()}])])
    assert response.status_code == 200, response.text
    return response.json()["messages"][0]["ticket_id"]


def _trust_api_contacts(config):
    config["plugins"]["api_channel"]["accounts"]["main"]["trust_contact_details"] = True


async def _desk(make_desk, fake):
    from core.migrate import migrate
    from tests.plugins.shopify.conftest import shopify_config

    configure = shopify_config(fake.url)

    def both(config):
        configure(config)
        _trust_api_contacts(config)

    desk = await make_desk(both, run_jobs=False)
    await migrate(desk.registry.migrations)
    return desk


async def test_data_request_writes_an_export_of_everything_we_hold(make_desk, fake):
    desk = await _desk(make_desk, fake)
    async with client_for(desk) as client:
        ticket_id = await _customer_with_history(desk, client)
        payload = {"shop_id": 954889, "shop_domain": SHOP, "orders_requested": [450789469],
                   "customer": {"id": 207119551, "email": "bob.norman@hostmail.com", "phone": "555-625-1199"},
                   "data_request": {"id": 9999}}
        response = await post_webhook(client, "customers/data_request", payload, webhook_id="wh-dr")
    assert response.status_code == 200, response.text
    request = await ShopifyPrivacyRequest.select().output(load_json=True).where(ShopifyPrivacyRequest.topic == "customers/data_request").first()
    export = json.loads((Path(desk.data_dir) / request["export_path"]).read_text(encoding="utf-8"))
    assert [o["name"] for o in export["shopify_orders"]] == ["#1001"]  # not the other customer's order
    relaydesk = export["relaydesk"]
    assert [t["id"] for t in relaydesk["tickets"]] == [ticket_id]
    assert relaydesk["messages"][0]["text"] == "Where is order #1001?"
    assert {i["channel_type"] for i in relaydesk["identities"]} == {"shopify", "api"}
    assert relaydesk["attachments"][0]["filename"] == "receipt.txt"
    assert await AuditEntry.exists().where(AuditEntry.action == "shopify.data_request_exported")


async def test_customer_redact_erases_orders_and_relaydesk_copies(make_desk, fake):
    desk = await _desk(make_desk, fake)
    async with client_for(desk) as client:
        ticket_id = await _customer_with_history(desk, client)
        attachment = await Attachment.select().first()
        stored_file = Path(desk.data_dir) / attachment["storage_path"]
        assert stored_file.exists()
        assert await ShopifyTicketOrder.count() == 1  # "#1001" in the message linked the ticket
        payload = {"shop_id": 954889, "shop_domain": SHOP,
                   "customer": {"id": 207119551, "email": "bob.norman@hostmail.com", "phone": "555-625-1199"},
                   "orders_to_redact": [450789469]}
        response = await post_webhook(client, "customers/redact", payload, webhook_id="wh-redact")
        replay = await post_webhook(client, "customers/redact", payload, webhook_id="wh-redact")
    assert response.status_code == 200 and replay.status_code == 200
    assert [r["name"] for r in await ShopifyOrder.select(ShopifyOrder.name).output(load_json=True)] == ["#2002"]  # only the other's order
    assert await ShopifyTicketOrder.count() == 0
    assert not await Ticket.exists().where(Ticket.id == ticket_id)
    assert await Message.count() == 0 and await Attachment.count() == 0
    assert not await Identity.exists().where(Identity.email == "bob.norman@hostmail.com")
    assert not await Customer.exists().where(Customer.email == "bob.norman@hostmail.com")
    assert not stored_file.exists()
    erased = await AuditEntry.select().output(load_json=True).where(AuditEntry.action == "customer.erased")
    assert erased and "bob" not in json.dumps(erased[0]["changes"]).lower()
    summary = (await ShopifyPrivacyRequest.select().output(load_json=True).where(ShopifyPrivacyRequest.topic == "customers/redact").first())["summary"]
    assert summary["orders"] == 1 and summary["messages"] == 1 and summary["files"] == 1


async def test_redact_keeps_a_file_another_customer_still_uses(make_desk, fake):
    desk = await _desk(make_desk, fake)
    import base64

    async with client_for(desk) as client:
        await _customer_with_history(desk, client)
        same_bytes = base64.b64encode(b"bob's receipt").decode()
        await post_messages(client, [msg("m-x", sender="alice", text="same file",
                                             attachments=[{"filename": "r.txt", "content_type": "text/plain",
                                                           "data": same_bytes}])])
        payload = {"shop_id": 1, "shop_domain": SHOP, "customer": {"id": 207119551, "email": "bob.norman@hostmail.com"},
                   "orders_to_redact": []}
        assert (await post_webhook(client, "customers/redact", payload, webhook_id="wh-r2")).status_code == 200
    rows = await Attachment.select()
    assert len(rows) == 1 and (Path(desk.data_dir) / rows[0]["storage_path"]).exists()


async def test_shop_redact_erases_that_shops_cache_customers_and_identities(make_desk, fake):
    """shop/redact: the store's orders, its customers' Shopify identities and the customers built from
    its data alone go (with its data-request exports); a customer who also wrote in keeps their record
    without that store's identity; another store's data stays."""
    desk = await _desk(make_desk, fake)
    async with client_for(desk) as client:
        # Carol wrote to support first (verified address), then ordered in the store.
        assert (await post_messages(client, [msg("c-1", sender="carol-api", text="Do you ship to Oslo?",
                                                 sender_fields={"email": "carol@example.com"})])).status_code == 200
        carol_order = corpus("order.json", "order")
        carol_order.update(id=777, name="#3003", email="carol@example.com",
                           customer={"id": 555, "email": "carol@example.com", "verified_email": True})
        dan_order = corpus("order.json", "order")
        dan_order.update(id=888, name="#4004", email="dan@example.com",
                         customer={"id": 888, "email": "dan@example.com", "first_name": "Dan", "verified_email": True})
        await post_webhook(client, "orders/create", corpus("order.json", "order"), webhook_id="wh-1")
        await post_webhook(client, "orders/create", carol_order, webhook_id="wh-2")
        await post_webhook(client, "orders/create", dan_order, webhook_id="wh-1", account="second",
                           shop="second-store.myshopify.com")
        request = {"shop_id": 954889, "shop_domain": SHOP, "customer": {"id": 207119551, "email": "bob.norman@hostmail.com"},
                   "orders_requested": [450789469], "data_request": {"id": 1}}
        assert (await post_webhook(client, "customers/data_request", request, webhook_id="wh-dr")).status_code == 200
        export = await ShopifyPrivacyRequest.select().where(ShopifyPrivacyRequest.topic == "customers/data_request").first()
        export_file = Path(desk.data_dir) / export["export_path"]
        assert export_file.exists()
        assert await Customer.count() == 3
        response = await post_webhook(client, "shop/redact", {"shop_id": 954889, "shop_domain": SHOP}, webhook_id="wh-sr")
        replay = await post_webhook(client, "shop/redact", {"shop_id": 954889, "shop_domain": SHOP}, webhook_id="wh-sr")
    assert response.status_code == 200 and replay.status_code == 200
    assert await ShopifyPrivacyRequest.count().where(ShopifyPrivacyRequest.topic == "shop/redact") == 1
    main = desk.registry.account("shopify", "main")
    assert not await ShopifyOrder.exists().where(ShopifyOrder.account == main.id)
    assert await ShopifyOrder.count() == 1
    identities = sorted((r["channel_type"], r["handle"]) for r in await Identity.select(Identity.channel_type, Identity.handle))
    assert identities == [("api", "carol-api"), ("shopify", "second-store.myshopify.com#888")]
    names = sorted(r["email"] for r in await Customer.select(Customer.email))
    assert names == ["carol@example.com", "dan@example.com"]  # Bob was built from the store's data alone
    assert not export_file.exists()
    summary = (await ShopifyPrivacyRequest.select().output(load_json=True).where(ShopifyPrivacyRequest.topic == "shop/redact").first())["summary"]
    assert summary["orders"] == 2 and summary["shop_identities"] == 2 and summary["customers"] == 1 and summary["customers_kept"] == 1
    assert await AuditEntry.exists().where(AuditEntry.action == "shopify.shop_redacted")


async def test_core_erase_follows_merges_and_unlinks_follow_ups(make_desk, fake):
    """core.privacy, as any channel uses it: a customer merged into the erased one goes too; another
    customer's ticket that links to an erased ticket survives without the link."""
    from core import clock, privacy
    from core.tables import Ticket as T

    desk = await _desk(make_desk, fake)
    now = clock.now()
    keep = (await Customer.insert(Customer(name="Keep", created_at=now, updated_at=now)).returning(Customer.id))[0]["id"]
    main = (await Customer.insert(Customer(name="Main", created_at=now, updated_at=now)).returning(Customer.id))[0]["id"]
    merged = (await Customer.insert(Customer(name="Old", merged_into=main, created_at=now,
                                             updated_at=now)).returning(Customer.id))[0]["id"]
    old_ticket = (await T.insert(T(subject="old", customer=merged, channel_type="api")).returning(T.id))[0]["id"]
    other = (await T.insert(T(subject="other", customer=keep, channel_type="api",
                              linked_ticket=old_ticket)).returning(T.id))[0]["id"]
    exported = await privacy.export_customers([main])
    assert {c["id"] for c in exported["customers"]} == {main, merged}
    assert [t["id"] for t in exported["tickets"]] == [old_ticket]
    plan = await privacy.erase_customers(desk, [main], actor="test", reason="gdpr")
    assert sorted(plan.customers) == sorted([main, merged]) and plan.tickets == 1
    assert [r["id"] for r in await Customer.select(Customer.id)] == [keep]
    row = await T.select().where(T.id == other).first()
    assert row["linked_ticket"] is None
    assert (await privacy.erase_customers(desk, [main], actor="test", reason="again")).customers == []  # idempotent
    assert await AuditEntry.count().where(AuditEntry.action == "customer.erased") == 2
