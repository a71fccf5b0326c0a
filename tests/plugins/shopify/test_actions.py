"""Order actions from the ticket: confirmation, permissions, audit entries, Shopify's userErrors."""

from __future__ import annotations

from core.tables import AuditEntry
from plugins.shopify.backfill import backfill
from plugins.shopify.tables import ShopifyOrder
from plugins.shopify import state
from tests.helpers import auth, client_for, make_agent
from tests.plugins.shopify.fake_shopify import make_order

BASE = "/api/v1/plugins/shopify/orders"


async def _cached_order(desk, fake) -> int:
    fake.add(make_order(1001, email="ann@example.com", updated_at="2026-11-22T10:00:00Z", total="40.00", customer_id=77))
    account = desk.registry.account("shopify", "main")
    assert await backfill(account, state.client_for(account), 30) == 1
    return (await ShopifyOrder.select(ShopifyOrder.id).output(load_json=True).first())["id"]


async def test_cancel_needs_confirm_and_admin_and_is_audited(shop_desk, fake):
    row_id = await _cached_order(shop_desk, fake)
    _, agent_token = await make_agent("agent")
    admin_id, admin_token = await make_agent("admin")
    async with client_for(shop_desk) as client:
        anonymous = await client.post(f"{BASE}/{row_id}/cancel", json={"confirm": True})
        as_agent = await client.post(f"{BASE}/{row_id}/cancel", json={"confirm": True}, headers=auth(agent_token))
        unconfirmed = await client.post(f"{BASE}/{row_id}/cancel", json={"reason": "CUSTOMER"}, headers=auth(admin_token))
        assert not any(r["operation"] == "RelaydeskOrderCancel" for r in fake.requests)
        done = await client.post(f"{BASE}/{row_id}/cancel", json={"confirm": True, "reason": "customer", "refund": True,
                                                                   "staff_note": "asked by mail"}, headers=auth(admin_token))
        again = await client.post(f"{BASE}/{row_id}/cancel", json={"confirm": True}, headers=auth(admin_token))
    assert anonymous.status_code == 401
    assert as_agent.status_code == 403 and "admin" in as_agent.json()["error"]["message"]
    assert unconfirmed.status_code == 400 and unconfirmed.json()["error"]["code"] == "confirmation_required"
    assert done.status_code == 200, done.text
    sent = [r for r in fake.requests if r["operation"] == "RelaydeskOrderCancel"][0]["variables"]
    assert sent == {"orderId": "gid://shopify/Order/6001", "reason": "CUSTOMER", "refund": True, "restock": True,
                    "notifyCustomer": True, "staffNote": "asked by mail"}
    row = await ShopifyOrder.select().output(load_json=True).where(ShopifyOrder.id == row_id).first()
    assert row["data"]["cancelled_at"] and row["fulfillment_status"] == "cancelled"  # refreshed from Shopify
    entry = await AuditEntry.select().output(load_json=True).where(AuditEntry.action == "shopify.order_cancelled").first()
    assert entry["actor"] == f"agent:{admin_id}" and entry["entity_id"] == row_id
    assert entry["changes"]["order"] == "#1001" and entry["changes"]["refund"] is True
    # Shopify refuses the second cancel: its words, verbatim.
    assert again.status_code == 422
    error = again.json()["error"]
    assert error["code"] == "shopify_user_errors"
    assert error["user_errors"] == [{"field": ["orderId"], "message": "Cannot cancel an order that has already been canceled.",
                                     "code": "INVALID"}]
    assert await AuditEntry.count().where(AuditEntry.action == "shopify.order_cancelled") == 1


async def test_refund_an_amount_through_the_sale_transaction(shop_desk, fake):
    row_id = await _cached_order(shop_desk, fake)
    _, token = await make_agent("admin")
    async with client_for(shop_desk) as client:
        too_much = await client.post(f"{BASE}/{row_id}/refund", json={"confirm": True, "amount": "99.00"}, headers=auth(token))
        bad = await client.post(f"{BASE}/{row_id}/refund", json={"confirm": True}, headers=auth(token))
        ok = await client.post(f"{BASE}/{row_id}/refund", json={"confirm": True, "amount": "12.50", "note": "broken handle"},
                               headers=auth(token))
        items = await client.post(f"{BASE}/{row_id}/refund", json={"confirm": True, "line_items": [
            {"line_item_id": "60017", "quantity": 1}]}, headers=auth(token))
    assert too_much.status_code == 422
    assert too_much.json()["error"]["user_errors"][0]["message"] == \
        "Refund amount must be less than or equal to the refundable amount."
    assert bad.status_code == 400
    assert ok.status_code == 200, ok.text
    refund_input = [r for r in fake.requests if r["operation"] == "RelaydeskRefundCreate"][1]["variables"]["input"]
    assert refund_input["transactions"] == [{"orderId": "gid://shopify/Order/6001", "kind": "REFUND", "amount": "12.50",
                                             "gateway": "shopify_payments", "parentId": "gid://shopify/OrderTransaction/60019"}]
    assert items.status_code == 200
    line_input = [r for r in fake.requests if r["operation"] == "RelaydeskRefundCreate"][2]["variables"]["input"]
    assert line_input["refundLineItems"] == [{"lineItemId": "gid://shopify/LineItem/60017", "quantity": 1,
                                              "restockType": "NO_RESTOCK"}]
    row = await ShopifyOrder.select().output(load_json=True).where(ShopifyOrder.id == row_id).first()
    assert row["data"]["refunds"][0]["amount"] == "12.50" and row["data"]["refunds"][0]["note"] == "broken handle"
    assert await AuditEntry.count().where(AuditEntry.action == "shopify.order_refunded") == 2


async def test_agents_add_notes_and_tags(shop_desk, fake):
    row_id = await _cached_order(shop_desk, fake)
    agent_id, token = await make_agent("agent")
    _, readonly = await make_agent("readonly")
    async with client_for(shop_desk) as client:
        denied = await client.post(f"{BASE}/{row_id}/note", json={"confirm": True, "note": "x"}, headers=auth(readonly))
        note = await client.post(f"{BASE}/{row_id}/note", json={"confirm": True, "note": "Customer called", "ticket_id": 5},
                                 headers=auth(token))
        note2 = await client.post(f"{BASE}/{row_id}/note", json={"confirm": True, "note": "Second"}, headers=auth(token))
        tags = await client.post(f"{BASE}/{row_id}/tags", json={"confirm": True, "tags": ["vip", " "]}, headers=auth(token))
        fake.user_errors["tagsAdd"] = [{"field": ["tags"], "message": "Tags is invalid"}]
        refused = await client.post(f"{BASE}/{row_id}/tags", json={"confirm": True, "tags": ["x"]}, headers=auth(token))
        shown = await client.get(f"{BASE}/{row_id}", headers=auth(readonly))
        missing = await client.get(f"{BASE}/999999", headers=auth(readonly))
    assert denied.status_code == 403
    assert note.status_code == 200 and note2.status_code == 200 and tags.status_code == 200
    assert fake.orders["gid://shopify/Order/6001"]["note"] == "Customer called\nSecond"
    assert refused.status_code == 422 and refused.json()["error"]["user_errors"] == [{"field": ["tags"], "message": "Tags is invalid"}]
    assert shown.json()["order"]["tags"] == ["vip"] and shown.json()["order"]["note"] == "Customer called\nSecond"
    assert missing.status_code == 404
    entry = await AuditEntry.select().output(load_json=True).where(AuditEntry.action == "shopify.order_note_added").first()
    assert entry["actor"] == f"agent:{agent_id}" and entry["changes"]["ticket_id"] == 5
    assert await AuditEntry.count().where(AuditEntry.action == "shopify.order_tagged") == 1


async def test_a_refund_whose_answer_is_lost_is_not_repeated(shop_desk, fake):
    """refundCreate has no idempotency key: after a lost answer or a 5xx the refund may have been made,
    so the desk never repeats it and tells the agent to check the order."""
    from tests.plugins.shopify.fake_shopify import Failure

    row_id = await _cached_order(shop_desk, fake)
    _, token = await make_agent("admin")
    async with client_for(shop_desk) as client:
        fake.failures.append(Failure(0, lost=True))
        lost = await client.post(f"{BASE}/{row_id}/refund", json={"confirm": True, "line_items": [
            {"line_item_id": "60017", "quantity": 1}]}, headers=auth(token))
        fake.failures.append(Failure(503, {"errors": "Service Unavailable"}))
        failed = await client.post(f"{BASE}/{row_id}/refund", json={"confirm": True, "line_items": [
            {"line_item_id": "60017", "quantity": 1}]}, headers=auth(token))
    assert lost.status_code == 502 and "check the order before trying again" in lost.json()["error"]["message"]
    assert lost.json()["error"]["retryable"] is False and lost.json()["error"]["platform_code"] == "answer_lost"
    assert failed.status_code == 502 and failed.json()["error"]["retryable"] is False
    attempts = [r for r in fake.requests if r["operation"] == "RelaydeskRefundCreate"]
    assert len(attempts) == 2  # one each: neither was repeated
    assert len(fake.orders["gid://shopify/Order/6001"]["refunds"]) == 1  # the lost one went through, once
