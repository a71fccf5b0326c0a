"""Approved message templates against the loopback Graph API: listing page by page, approved and
fillable ones only, the per-account cache and its refresh, the customer's language first, Graph's
errors in the agent's language, and Meta refusing a template send (132001, 132000)."""

from __future__ import annotations

from datetime import timedelta

from core import outbound
from core import reply_templates as core_templates
from core.context import reply_constraints
from core.tables import Message, Ticket
from tests.conftest import wait_for
from tests.plugins.whatsapp.graph_loopback import Failure
from tests.plugins.whatsapp.wa_helpers import WABA_ID, envelope, hooks_client, post, text_message, whatsapp
from web import i18n


def template(name: str, language: str = "en_US", body: str = "Hi {{1}}, your order {{2}} has shipped.",
             status: str = "APPROVED", **extra) -> dict:
    components = [{"type": "BODY", "text": body}, *extra.pop("components", [])]
    return {"name": name, "language": language, "status": status, "category": "UTILITY", "id": name,
            "components": components, **extra}


async def closed_ticket(desk, shifted_clock, language: str | None = None) -> dict:
    async with hooks_client(desk) as client:
        res = await post(client, envelope([text_message("wamid.T1")]))
    ticket_id = res.json()["messages"][0]["ticket_id"]
    if language:
        await Ticket.update({Ticket.language: language}).where(Ticket.id == ticket_id)
    shifted_clock(timedelta(hours=26))
    return await Ticket.select().where(Ticket.id == ticket_id).first()


def listings(graph) -> list:
    return [c for c in graph.calls if c.path.endswith("/message_templates")]


async def test_listing_follows_graph_cursors_and_offers_approved_fillable_templates(make_desk, graph, shifted_clock):
    graph.template_page_size = 2
    graph.templates = [
        template("order_update"),
        template("promo", status="REJECTED"),
        template("with_image", components=[{"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["x"]}}]),
        template("pending_one", status="PENDING"),
        template("track_link", body="Track it", components=[{"type": "BUTTONS", "buttons": [
            {"type": "URL", "text": "Track", "url": "https://example.com/t/{{1}}"}]}]),
        template("welcome", body="Hello {{first_name}}!", parameter_format="NAMED", components=[
            {"type": "HEADER", "format": "TEXT", "text": "Welcome"}, {"type": "FOOTER", "text": "Reply STOP to opt out"}]),
    ]
    graph.templates[5]["components"][0]["example"] = {"body_text_named_params": [{"param_name": "first_name", "example": "Pablo"}]}
    desk = await make_desk(whatsapp(graph, business_account_id=WABA_ID))
    ticket = await closed_ticket(desk, shifted_clock)
    limits = await reply_constraints(desk, ticket)
    assert [(t["name"], t["params"]) for t in limits["templates"]] == [("order_update", ["1", "2"]),
                                                                       ("welcome", ["first_name"])]
    welcome = limits["templates"][1]
    assert welcome["header"] == "Welcome" and welcome["footer"] == "Reply STOP to opt out"
    assert welcome["examples"] == {"first_name": "Pablo"}
    calls = listings(graph)
    assert [c.query.get("after") for c in calls] == [None, ["CUR2"], ["CUR4"]]  # three pages, by cursor
    assert all(c.path == f"/v21.0/{WABA_ID}/message_templates" for c in calls)
    assert "components" in calls[0].query["fields"][0]
    assert core_templates.render(welcome, {"first_name": "Dana"}) == "Welcome\n\nHello Dana!\n\nReply STOP to opt out"


async def test_hook_refresh_reply_templates(make_desk, graph, shifted_clock):
    """Cached per account: a second look costs no Graph call; refresh fetches again and shows what changed."""
    graph.templates = [template("order_update")]
    desk = await make_desk(whatsapp(graph, business_account_id=WABA_ID))
    ticket = await closed_ticket(desk, shifted_clock)
    first = await reply_constraints(desk, ticket)
    graph.templates.append(template("delay_notice", body="Sorry {{1}}, your parcel is delayed."))
    again = await reply_constraints(desk, ticket)
    assert [t["name"] for t in again["templates"]] == [t["name"] for t in first["templates"]] == ["order_update"]
    assert len(listings(graph)) == 1
    await core_templates.refresh(desk, ticket)
    assert len(listings(graph)) == 2
    after = await reply_constraints(desk, ticket)
    assert [t["name"] for t in after["templates"]] == ["delay_notice", "order_update"]
    assert len(listings(graph)) == 2  # the refreshed list is cached again


async def test_a_failed_refresh_keeps_the_templates_and_says_why_in_the_agents_language(make_desk, graph, shifted_clock):
    graph.templates = [template("order_update")]
    desk = await make_desk(whatsapp(graph, business_account_id=WABA_ID))
    ticket = await closed_ticket(desk, shifted_clock)
    assert "templates_error" not in await reply_constraints(desk, ticket)
    graph.failures.append(Failure("/message_templates", 401, 190, "Error validating access token: Session has expired"))
    await core_templates.refresh(desk, ticket)
    english = await reply_constraints(desk, ticket)
    assert [t["name"] for t in english["templates"]] == ["order_update"]  # kept from the earlier listing
    assert english["templates_error"] == "WhatsApp refused the access token (expired or revoked): renew it, then refresh."
    token = i18n.current_language.set("zh")
    try:
        chinese = await reply_constraints(desk, ticket)
    finally:
        i18n.current_language.reset(token)
    assert chinese["templates_error"] == "WhatsApp 拒绝了访问令牌（已过期或被撤销）：请更新令牌后再刷新。"
    assert chinese["blocked_reason"].startswith("24 小时客服窗口已关闭")
    assert len(listings(graph)) == 2  # the failure is cached too: no Graph call per page view
    graph.failures.append(Failure("/message_templates", 400, 80007, "(#80007) Rate limit issues"))
    await core_templates.refresh(desk, ticket)
    token = i18n.current_language.set("zh")
    try:
        assert (await reply_constraints(desk, ticket))["templates_error"] == "WhatsApp 正在限制模板请求频率：请一分钟后再刷新。"
    finally:
        i18n.current_language.reset(token)


async def test_templates_in_the_customers_language_come_first(make_desk, graph, shifted_clock):
    graph.templates = [template("a_update", "en_US"), template("b_update", "de_DE"), template("c_update", "fr"),
                       template("d_update", "de"), template("e_update", "de_AT")]
    desk = await make_desk(whatsapp(graph, business_account_id=WABA_ID))
    ticket = await closed_ticket(desk, shifted_clock, language="de")
    offered = (await reply_constraints(desk, ticket))["templates"]
    assert [(t["name"], t["language"]) for t in offered] == [
        ("d_update", "de"), ("b_update", "de_DE"), ("e_update", "de_AT"), ("a_update", "en_US"), ("c_update", "fr")]


async def settled(message_id: int) -> dict | None:
    row = await Message.select(Message.delivery_status, Message.delivery_error).where(Message.id == message_id).first()
    return row if row["delivery_status"] in ("sent", "failed") else None


async def test_meta_refusing_a_template_is_permanent_and_said_in_the_senders_language(make_desk, graph, shifted_clock):
    """What passed the desk's checks but Meta refuses (a template deleted meanwhile, a changed body),
    worded for the agent who sent it."""
    from core.tables import Agent
    from tests.helpers import make_agent

    graph.templates = [template("order_update")]
    desk = await make_desk(whatsapp(graph, business_account_id=WABA_ID))
    ticket = await closed_ticket(desk, shifted_clock)
    li, _ = await make_agent("agent", email="li@example.com")
    await Agent.update({Agent.locale: "zh"}).where(Agent.id == li)
    gone = await outbound.reply(desk, ticket["id"], author_id=li, text="x", metadata={
        "template": {"name": "order_update", "language": "de", "params": {"1": "Dana", "2": "1042"}}})
    short = await outbound.reply(desk, ticket["id"], author_id=None, text="y", metadata={
        "template": {"name": "order_update", "language": "en_US", "params": {"1": "Dana"}}})
    gone_row = await wait_for(lambda: settled(gone["id"]))
    short_row = await wait_for(lambda: settled(short["id"]))
    assert gone_row == {"delivery_status": "failed",
                        "delivery_error": "WhatsApp 拒绝了模板 order_update：该模板没有 de 语言版本，或尚未获批。 (132001)"}
    assert short_row == {"delivery_status": "failed", "delivery_error": "WhatsApp refused template order_update: "
                         "the number of variables does not match the approved template. (132000)"}
    assert len(graph.sends()) == 2  # permanent: not retried

