"""Proactive messages from the Amazon panel in the inbox: only the messages Amazon lists for the
order now are offered, each reviewed before it goes, and what the loopback SP-API received."""

from __future__ import annotations

import re

from core.tables import Agent, Ticket
from plugins.amazon.orders import poll_job
from tests.helpers import client_for, make_agent
from tests.plugins.amazon.conftest import amazon_config, amazon_desk, post_mail, relay_mail
from tests.plugins.amazon.fake_spapi import make_order
from tests.web.inbox_helpers import csrf_from, sign_in

ORDER = "302-1234567-7654321"
PANEL = f"/inbox/plugins/amazon/orders/{ORDER}"


async def _desk_with_conversation(make_desk, fake, actions: list[str]):
    fake.add_order(make_order(ORDER, updated="2026-11-22T08:00:00Z"), actions=actions)
    desk = await amazon_desk(make_desk, amazon_config(fake.url))
    async with client_for(desk) as client:
        await post_mail(client, relay_mail("inquiry-amazon-de.eml"))
    await poll_job({"desk": desk})
    return desk, (await Ticket.select(Ticket.id).first())["id"]


def _htmx(page_html: str) -> dict[str, str]:
    return {"hx-request": "true", "x-csrftoken": csrf_from(page_html)}


async def test_only_listed_messages_are_offered_and_the_chosen_one_reaches_amazon(make_desk, fake):
    desk, ticket = await _desk_with_conversation(
        make_desk, fake, ["confirmDeliveryDetails", "negativeFeedbackRemoval", "legalDisclosure"])
    await make_agent("agent", email="ag@example.com")
    async with client_for(desk) as client:
        await sign_in(client, "ag@example.com")
        view = await client.get(f"/inbox/t/{ticket}")
        assert f'hx-get="{PANEL}/actions?ticket_id={ticket}"' in view.text, view.text
        listed = await client.get(f"{PANEL}/actions?ticket_id={ticket}", headers=_htmx(view.text))
        assert listed.status_code == 200
        offered = re.findall(r'name="action" value="([^"]+)"', listed.text)
        assert offered == ["confirmDeliveryDetails", "negativeFeedbackRemoval"]  # what Amazon lists, and we can send
        assert "legalDisclosure" in listed.text and "Seller Central" in listed.text  # needs attachments
        assert "unexpectedProblem" not in listed.text and "confirmOrderDetails" not in listed.text
        preview = await client.post(f"{PANEL}/messages/preview", headers=_htmx(view.text), data={
            "action": "confirmDeliveryDetails", "text": "Your parcel arrives on Friday between 8 and 12.",
            "ticket_id": str(ticket)})
        assert preview.status_code == 200 and "Send “Confirm delivery details” to the buyer" in preview.text
        assert fake.sent == []  # reviewed, not sent
        with_link = await client.post(f"{PANEL}/messages/preview", headers=_htmx(view.text), data={
            "action": "confirmDeliveryDetails", "text": "Pick a slot at https://slots.example"})
        assert with_link.status_code == 400 and "Remove the link" in with_link.text
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', preview.text))
        sent = await client.post(f"{PANEL}/messages", headers=_htmx(view.text), data=fields)
        assert sent.status_code == 200, sent.text
        assert "Amazon accepted “Confirm delivery details”" in sent.text
        plain = await client.post(f"{PANEL}/messages", headers=_htmx(view.text),
                                  data={"action": "negativeFeedbackRemoval", "ticket_id": str(ticket)})
        assert plain.status_code == 200, plain.text
    assert fake.sent == [
        {"order_id": ORDER, "action": "confirmDeliveryDetails", "text": "Your parcel arrives on Friday between 8 and 12."},
        {"order_id": ORDER, "action": "negativeFeedbackRemoval", "text": None}]
    posts = [c for c in fake.calls("/messaging/") if c.method == "POST"]
    assert posts[1].path == f"/messaging/v1/orders/{ORDER}/messages/negativeFeedbackRemoval" and posts[1].body == b""


async def test_an_action_amazon_stopped_listing_is_refused_in_chinese(make_desk, fake):
    desk, ticket = await _desk_with_conversation(make_desk, fake, ["confirmDeliveryDetails"])
    agent_id, _ = await make_agent("agent", email="li@example.com")
    await Agent.update({Agent.locale: "zh"}).where(Agent.id == agent_id)
    async with client_for(desk) as client:
        await sign_in(client, "li@example.com")
        view = await client.get(f"/inbox/t/{ticket}")
        assert "给买家发消息…" in view.text
        fake.actions[ORDER] = []  # the delivery window passed meanwhile
        refused = await client.post(f"{PANEL}/messages", headers=_htmx(view.text), data={
            "action": "confirmDeliveryDetails", "text": "Your parcel arrives on Friday."})
        assert refused.status_code == 409
        assert "亚马逊目前不允许" in refused.text and "目前亚马逊不允许为此订单发送主动消息。" in refused.text
        fake.actions[ORDER] = ["confirmDeliveryDetails"]
        fake.failures.append((400, {"errors": [{"code": "InvalidInput", "message": "Delivery date is in the past",
                                                "details": ""}]}))
        failed = await client.get(f"{PANEL}/actions", headers=_htmx(view.text))
        assert failed.status_code == 502 and "亚马逊拒绝：Delivery date is in the past" in failed.text
    assert fake.sent == []


async def test_read_only_sees_no_message_button(make_desk, fake):
    desk, ticket = await _desk_with_conversation(make_desk, fake, ["confirmDeliveryDetails"])
    await make_agent("readonly", email="ro@example.com")
    async with client_for(desk) as client:
        await sign_in(client, "ro@example.com")
        view = await client.get(f"/inbox/t/{ticket}")
        assert ORDER in view.text and "/inbox/plugins/amazon/" not in view.text
        denied = await client.post(f"{PANEL}/messages", headers=_htmx(view.text), data={
            "action": "confirmDeliveryDetails", "text": "Your parcel arrives on Friday."})
        assert denied.status_code == 403
    assert fake.sent == []
