"""The order panel's refund and cancel buttons through the inbox (session, CSRF, htmx fragments):
Shopify's calculated amount shown before anything moves, the exact refundCreate input, roles,
Shopify's refusals in the agent's language, and a lost answer that is never repeated."""

from __future__ import annotations

import re

from core.tables import Agent, AuditEntry, Ticket
from plugins.shopify import state
from plugins.shopify.backfill import backfill
from plugins.shopify.tables import ShopifyOrder
from tests.helpers import client_for, make_agent, message, post_messages
from tests.plugins.shopify.fake_shopify import make_order, money
from tests.web.inbox_helpers import csrf_from, sign_in

PANEL = "/inbox/plugins/shopify/orders"


def two_line_order() -> dict:
    order = make_order(1001, email="ann@example.com", updated_at="2026-11-22T10:00:00Z", total="64.00", customer_id=77)
    order["lineItems"]["nodes"].append({"id": "gid://shopify/LineItem/60018", "title": "Teapot", "variantTitle": None,
                                        "sku": "TEA-1", "quantity": 2, "originalUnitPriceSet": money("19.50")})
    order["lineItems"]["nodes"][0]["originalUnitPriceSet"] = money("25.00")
    order["shippingAmount"] = "5.00"
    return order


async def _ticket_with_order(desk, client, fake) -> tuple[int, int]:
    fake.add(two_line_order())
    account = desk.registry.account("shopify", "main")
    assert await backfill(account, state.client_for(account), 30) == 1
    body = message("m1", sender="ann", text="Order #1001: the teapot arrived broken")
    body["sender"]["email"] = "ann@example.com"
    await post_messages(client, [body])
    ticket = (await Ticket.select(Ticket.id).first())["id"]
    row = (await ShopifyOrder.select(ShopifyOrder.id).first())["id"]
    return ticket, row


def _htmx(page_html: str) -> dict[str, str]:
    return {"hx-request": "true", "x-csrftoken": csrf_from(page_html)}


async def test_refund_one_line_shows_shopifys_amount_then_refunds_exactly_that(shop_desk, fake):
    await make_agent("admin", email="boss@example.com")
    async with client_for(shop_desk) as client:
        ticket, row = await _ticket_with_order(shop_desk, client, fake)
        await sign_in(client, "boss@example.com")
        view = await client.get(f"/inbox/t/{ticket}")
        assert f'hx-post="{PANEL}/{row}/refund/preview"' in view.text, view.text
        assert f'hx-post="{PANEL}/{row}/cancel/preview"' in view.text
        preview = await client.post(f"{PANEL}/{row}/refund/preview", headers=_htmx(view.text), data={
            "ticket_id": str(ticket), "scope": "lines", "line": "60018", "qty_60018": "1", "restock": "1", "notify": "1"})
        assert preview.status_code == 200, preview.text
        assert "Refund 19.50 USD on order #1001?" in preview.text
        asked = [r for r in fake.requests if r["operation"] == "RelaydeskSuggestedRefund"][0]["variables"]
        assert asked["refundLineItems"] == [{"lineItemId": "gid://shopify/LineItem/60018", "quantity": 1}]
        assert not any(r["operation"] == "RelaydeskRefundCreate" for r in fake.requests)  # nothing moved yet
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', preview.text))
        done = await client.post(f"{PANEL}/{row}/refund", headers=_htmx(view.text), data=fields)
        assert done.status_code == 200, done.text
        assert "Shopify refunded 19.50 USD on order #1001." in done.text
        [created] = [r for r in fake.requests if r["operation"] == "RelaydeskRefundCreate"]
        sent = created["variables"]["input"]
        assert sent["refundLineItems"] == [{"lineItemId": "gid://shopify/LineItem/60018", "quantity": 1,
                                            "restockType": "RETURN"}]
        assert sent["notify"] is True and "shipping" not in sent
        assert sent["transactions"][0]["amount"] == "19.50"
        # the same confirmation again (a double click, a reload) is refused: the order was refunded since
        again = await client.post(f"{PANEL}/{row}/refund", headers=_htmx(view.text), data=fields)
        assert again.status_code == 409 and "was refunded since you calculated" in again.text
        assert len([r for r in fake.requests if r["operation"] == "RelaydeskRefundCreate"]) == 1
    entry = await AuditEntry.select().output(load_json=True).where(AuditEntry.action == "shopify.order_refunded").first()
    assert entry["changes"]["ticket_id"] == ticket and entry["changes"]["restock"] is True


async def test_whole_order_refund_includes_shipping_and_no_restock(shop_desk, fake):
    await make_agent("admin", email="boss@example.com")
    async with client_for(shop_desk) as client:
        ticket, row = await _ticket_with_order(shop_desk, client, fake)
        await sign_in(client, "boss@example.com")
        view = await client.get(f"/inbox/t/{ticket}")
        preview = await client.post(f"{PANEL}/{row}/refund/preview", headers=_htmx(view.text),
                                    data={"scope": "all", "notify": "1"})
        assert "Refund 69.00 USD on order #1001?" in preview.text and "Shipping: 5.00 USD" in preview.text
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', preview.text))
        lines = re.findall(r'<input type="hidden" name="line" value="([^"]*)">', preview.text)
        data = {**fields, "line": lines}
        done = await client.post(f"{PANEL}/{row}/refund", headers=_htmx(view.text), data=data)
        assert done.status_code == 200, done.text
        sent = [r for r in fake.requests if r["operation"] == "RelaydeskRefundCreate"][0]["variables"]["input"]
        assert sent["shipping"] == {"fullRefund": True}
        assert sorted((li["lineItemId"], li["quantity"], li["restockType"]) for li in sent["refundLineItems"]) == [
            ("gid://shopify/LineItem/60017", 1, "NO_RESTOCK"), ("gid://shopify/LineItem/60018", 2, "NO_RESTOCK")]
        assert sent["transactions"][0]["amount"] == "69.00"


async def test_cancel_from_the_panel(shop_desk, fake):
    await make_agent("admin", email="boss@example.com")
    async with client_for(shop_desk) as client:
        ticket, row = await _ticket_with_order(shop_desk, client, fake)
        await sign_in(client, "boss@example.com")
        view = await client.get(f"/inbox/t/{ticket}")
        preview = await client.post(f"{PANEL}/{row}/cancel/preview", headers=_htmx(view.text),
                                    data={"reason": "INVENTORY", "refund": "1", "restock": "1"})
        assert "Cancel order #1001 and refund 64.00 USD?" in preview.text
        assert not any(r["operation"] == "RelaydeskOrderCancel" for r in fake.requests)
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', preview.text))
        done = await client.post(f"{PANEL}/{row}/cancel", headers=_htmx(view.text), data=fields)
        assert done.status_code == 200, done.text
        assert "Shopify is cancelling order #1001" in done.text
        sent = [r for r in fake.requests if r["operation"] == "RelaydeskOrderCancel"][0]["variables"]
        assert sent == {"orderId": "gid://shopify/Order/6001", "reason": "INVENTORY", "refund": True, "restock": True,
                        "notifyCustomer": False, "staffNote": None}
        assert "Cancel order…" not in done.text  # the refreshed order is cancelled: no second cancel button


async def test_roles_readonly_sees_no_money_buttons_and_agents_are_refused(shop_desk, fake):
    await make_agent("readonly", email="ro@example.com")
    await make_agent("agent", email="ag@example.com")
    async with client_for(shop_desk) as client:
        ticket, row = await _ticket_with_order(shop_desk, client, fake)
        await sign_in(client, "ro@example.com")
        view = await client.get(f"/inbox/t/{ticket}")
        assert "#1001" in view.text and "/refund" not in view.text and "/cancel" not in view.text
        assert "Refunds and cancellations need" not in view.text
        denied = await client.post(f"{PANEL}/{row}/refund/preview", headers=_htmx(view.text), data={"scope": "all"})
        assert denied.status_code == 403
    async with client_for(shop_desk) as client:
        await sign_in(client, "ag@example.com")
        view = await client.get(f"/inbox/t/{ticket}")
        assert "/refund" not in view.text and "Refunds and cancellations need the admin role." in view.text
        refused = await client.post(f"{PANEL}/{row}/refund/preview", headers=_htmx(view.text), data={"scope": "all"})
        assert refused.status_code == 403 and "need the admin role" in refused.text
    assert not any(r["operation"] in ("RelaydeskSuggestedRefund", "RelaydeskRefundCreate") for r in fake.requests)


async def test_shopifys_refusal_is_shown_in_chinese_to_a_chinese_agent(shop_desk, fake):
    agent_id, _ = await make_agent("admin", email="li@example.com")
    await Agent.update({Agent.locale: "zh"}).where(Agent.id == agent_id)
    async with client_for(shop_desk) as client:
        ticket, row = await _ticket_with_order(shop_desk, client, fake)
        await sign_in(client, "li@example.com")
        view = await client.get(f"/inbox/t/{ticket}")
        assert "退款…" in view.text
        preview = await client.post(f"{PANEL}/{row}/refund/preview", headers=_htmx(view.text),
                                    data={"line": "60017", "qty_60017": "1", "notify": "1"})
        assert "为订单 #1001 退款 25.00 USD？" in preview.text, preview.text
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', preview.text))
        fields["line"] = "60017"
        fake.user_errors["refundCreate"] = [{"field": ["transactions"], "message": "Payment gateway is unavailable."}]
        refused = await client.post(f"{PANEL}/{row}/refund", headers=_htmx(view.text), data=fields)
        assert refused.status_code == 422
        assert "Shopify 拒绝了退款：Payment gateway is unavailable." in refused.text


async def test_a_lost_answer_is_not_repeated(shop_desk, fake):
    await make_agent("admin", email="boss@example.com")
    async with client_for(shop_desk) as client:
        ticket, row = await _ticket_with_order(shop_desk, client, fake)
        await sign_in(client, "boss@example.com")
        view = await client.get(f"/inbox/t/{ticket}")
        preview = await client.post(f"{PANEL}/{row}/refund/preview", headers=_htmx(view.text),
                                    data={"line": "60017", "qty_60017": "1"})
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', preview.text))
        fields["line"] = "60017"
        calls_before = len(fake.requests)
        fake.lose.add("RelaydeskRefundCreate")  # Shopify makes the refund; its answer never arrives
        lost = await client.post(f"{PANEL}/{row}/refund", headers=_htmx(view.text), data=fields)
        assert lost.status_code == 502 and "answer was lost" in lost.text, lost.text
        assert len([r for r in fake.requests[calls_before:] if r["operation"] == "RelaydeskRefundCreate"]) == 1
        again = await client.post(f"{PANEL}/{row}/refund", headers=_htmx(view.text), data=fields)
        assert again.status_code == 409  # Shopify made the refund: the same form is refused
        assert len([r for r in fake.requests if r["operation"] == "RelaydeskRefundCreate"]) == 1


async def test_a_double_click_refunds_once(shop_desk, fake):
    import asyncio

    await make_agent("admin", email="boss@example.com")
    async with client_for(shop_desk) as client:
        ticket, row = await _ticket_with_order(shop_desk, client, fake)
        await sign_in(client, "boss@example.com")
        view = await client.get(f"/inbox/t/{ticket}")
        preview = await client.post(f"{PANEL}/{row}/refund/preview", headers=_htmx(view.text),
                                    data={"line": "60018", "qty_60018": "2", "restock": "1"})
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', preview.text))
        both = await asyncio.gather(*[client.post(f"{PANEL}/{row}/refund", headers=_htmx(view.text), data=fields)
                                      for _ in range(2)])
    assert sorted(r.status_code for r in both) == [200, 409]
    assert len([r for r in fake.requests if r["operation"] == "RelaydeskRefundCreate"]) == 1
