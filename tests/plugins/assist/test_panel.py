"""The Assist panel and its suggested reply through the inbox: intent and sentiment shown in the
agent's language, the tracking answer or the intent's template offered (never sent), a suggestion
that breaks the channel's rules withheld, read-only agents offered nothing."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po

from core import macros
from core.tables import Agent, Message, Ticket
from tests.helpers import client_for, make_agent, message, post_messages
from tests.plugins.assist.conftest import shipped_order
from tests.plugins.shopify.conftest import post_webhook
from tests.web.inbox_helpers import sign_in

SUGGEST = "/inbox/plugins/assist/t/{}/suggestion"


async def _bob_asks(client, text, external_id="m-1", sender="bob"):
    body = message(external_id, sender=sender, text=text)
    body["sender"]["email"] = f"{sender}.norman@hostmail.com"
    await post_messages(client, [body])
    return (await Ticket.select(Ticket.id).order_by(Ticket.id, ascending=False).first())["id"]


async def test_panel_and_tracking_suggestion_never_sent(make_assist_desk, frozen_clock):
    desk = await make_assist_desk()
    await make_agent("agent", email="ann@example.com")
    async with client_for(desk) as client:
        await post_webhook(client, "orders/fulfilled", shipped_order(), webhook_id="wh-1")
        ticket_id = await _bob_asks(client, "Hi, where is my package? Ordered last week.")
        await sign_in(client, "ann@example.com")
        view = await client.get(f"/inbox/t/{ticket_id}")
        assert "Where is my order" in view.text and "neutral" in view.text
        assert f'hx-get="{SUGGEST.format(ticket_id)}"' in view.text
        assert "this channel leaves it to an agent" in view.text  # the default mode: a draft
        suggestion = await client.get(SUGGEST.format(ticket_id))
        assert suggestion.status_code == 200
        assert "UPS tracking number 1Z2345" in suggestion.text and "data-insert" in suggestion.text
        assert await Message.select().where(Message.direction == "outbound") == []
        await Agent.update({Agent.locale: "zh"}).where(Agent.email == "ann@example.com")
        chinese = await client.get(f"/inbox/t/{ticket_id}")
        assert "查询订单物流" in chinese.text and "建议回复" in chinese.text
        assert (await client.get(SUGGEST.format(999999))).status_code == 404


async def test_template_for_the_intent_and_read_only(make_assist_desk, frozen_clock):
    desk = await make_assist_desk()
    await make_agent("agent", email="ann@example.com")
    await make_agent("readonly", email="ro@example.com")
    await macros.save("test", macro_id=None, name="Return or refund", shortcut="return_refund",
                      body="Hello {{ customer.name or 'there' }}, returns for order {{ shopify.order_number }} are free.")
    async with client_for(desk) as client:
        await post_webhook(client, "orders/fulfilled", shipped_order(), webhook_id="wh-1")
        ticket_id = await _bob_asks(client, "I would like to return the iPod and get my money back.")
        await sign_in(client, "ann@example.com")
        suggestion = await client.get(SUGGEST.format(ticket_id))
        assert "returns for order #1001 are free." in suggestion.text and "Return or refund" in suggestion.text
        other = await _bob_asks(client, "Do you have a shop in Berlin?", "m-2", sender="carl")
        assert "No suggestion for this ticket" in (await client.get(SUGGEST.format(other))).text
    async with client_for(desk) as client:
        await sign_in(client, "ro@example.com")
        view = await client.get(f"/inbox/t/{ticket_id}")
        assert "Return or refund" in view.text and "Suggest a reply" not in view.text
        assert (await client.get(SUGGEST.format(ticket_id))).status_code == 403


def test_catalogs_carry_every_string_in_both_languages():
    folder = Path(__file__).resolve().parents[3] / "plugins" / "assist" / "translations"
    with (folder / "zh_Hans" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        zh = read_po(handle, locale="zh_Hans")
    with (folder / "en" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        en = read_po(handle, locale="en")
    from plugins.assist.inbox import ANSWER_TEXTS
    from plugins.assist.labels import INTENT_LABELS, SENTIMENT_LABELS

    wanted = set(INTENT_LABELS.values()) | set(SENTIMENT_LABELS.values()) | set(ANSWER_TEXTS.values())
    assert wanted <= {m.id for m in zh if m.id}
    assert {m.id for m in en if m.id} == {m.id for m in zh if m.id}
    assert all(m.string and m.string.strip() for m in zh if m.id)
