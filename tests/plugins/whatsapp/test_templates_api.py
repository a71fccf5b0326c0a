"""WhatsApp templates through the REST API and the inbox's template panel: listing (with refresh),
sending a filled template (what reaches the loopback Graph API and what the timeline shows), and
hostile input (unknown template, wrong variable count, empty or huge values...) answered 4xx,
never 5xx, with nothing queued."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.tables import Message, Outbox, Ticket
from tests.conftest import wait_for
from tests.helpers import auth, client_for, make_agent
from tests.plugins.whatsapp.test_templates import closed_ticket, settled, template
from tests.plugins.whatsapp.wa_helpers import WABA_ID, whatsapp
from tests.web.inbox_helpers import csrf_from, sign_in

BODY = "Hi {{1}}, your order {{2}} has shipped."


@pytest.fixture
def templates(graph):
    graph.templates = [template("order_update", "en_US", BODY),
                       template("order_update", "de", "Hallo {{1}}, Ihre Bestellung {{2}} ist unterwegs."),
                       template("welcome", "en_US", "Hello {{first_name}}!", parameter_format="NAMED")]
    return graph.templates


async def test_list_and_send_a_template_through_the_api(make_desk, graph, templates, shifted_clock):
    desk = await make_desk(whatsapp(graph, business_account_id=WABA_ID))
    ticket = await closed_ticket(desk, shifted_clock, language="de")
    _, token = await make_agent("agent")
    async with client_for(desk) as client:
        listed = await client.get(f"/api/v1/tickets/{ticket['id']}/templates", headers=auth(token))
        assert listed.status_code == 200
        body = listed.json()
        assert "24-hour" in body["blocked_reason"] and body["templates_error"] is None
        assert [(t["name"], t["language"]) for t in body["templates"]] == [
            ("order_update", "de"), ("order_update", "en_US"), ("welcome", "en_US")]
        assert body["templates"][0]["params"] == ["1", "2"]
        templates.append(template("delay_notice", "en_US", "Sorry {{1}}"))
        refreshed = await client.get(f"/api/v1/tickets/{ticket['id']}/templates", params={"refresh": "true"},
                                     headers=auth(token))
        assert "delay_notice" in [t["name"] for t in refreshed.json()["templates"]]
        sent = await client.post(f"/api/v1/tickets/{ticket['id']}/reply", headers=auth(token), json={
            "template": {"name": "order_update", "language": "en_US", "params": ["Dana", "A-1042"]}})
        assert sent.status_code == 202, sent.text
        assert sent.json()["text"] == "Hi Dana, your order A-1042 has shipped."
        named = await client.post(f"/api/v1/tickets/{ticket['id']}/reply", headers=auth(token), json={
            "template": {"name": "welcome", "language": "en_US", "params": {"first_name": "Dana"}}})
        assert named.status_code == 202
    for row in (sent.json(), named.json()):
        assert (await wait_for(lambda: settled(row["id"])))["delivery_status"] == "sent"
    positional, by_name = (c.json() for c in graph.sends())
    assert positional == {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "972987654321",
                          "type": "template", "template": {"name": "order_update", "language": {"code": "en_US"},
                                                           "components": [{"type": "body", "parameters": [
                                                               {"type": "text", "text": "Dana"},
                                                               {"type": "text", "text": "A-1042"}]}]}}
    assert by_name["template"]["components"] == [{"type": "body", "parameters": [
        {"type": "text", "parameter_name": "first_name", "text": "Dana"}]}]


HOSTILE = [
    ({"name": "no_such_template", "language": "en_US", "params": ["a", "b"]}, 400, "no approved template"),
    ({"name": "order_update", "language": "fr", "params": ["a", "b"]}, 400, "no approved template"),
    ({"name": "order_update", "language": "en_US", "params": ["only one"]}, 400, "takes 2 values, not 1"),
    ({"name": "order_update", "language": "en_US", "params": ["a", "b", "c"]}, 400, "takes 2 values, not 3"),
    ({"name": "order_update", "language": "en_US", "params": {"1": "a"}}, 400, "fill in variable {{2}}"),
    ({"name": "order_update", "language": "en_US", "params": {"1": "a", "2": "b", "9": "c"}}, 400, "has no variable 9"),
    ({"name": "order_update", "language": "en_US", "params": ["a", "   "]}, 400, "fill in variable {{2}}"),
    ({"name": "order_update", "language": "en_US", "params": ["a", "two\nlines"]}, 400, "one line"),
    ({"name": "order_update", "language": "en_US", "params": ["a", "x" * 1025]}, 400, None),  # the schema says 1024
    ({"name": "order_update", "language": "en_US", "params": ["a", "x" * 200_000]}, 400, None),
    ({"name": "order_update", "language": "en_US", "params": [str(i) for i in range(5000)]}, 400, None),
    ({"name": "x" * 10_000, "language": "en_US", "params": []}, 400, None),
    ({"name": "order_update", "language": "en_US", "params": "Dana"}, 400, None),
    ({"name": "order_update", "language": "en_US", "params": [1, 2]}, 400, None),
    ({"name": ["order_update"], "language": "en_US"}, 400, None),
    ({"language": "en_US"}, 400, None),
]


@pytest.mark.parametrize("choice,status,says", HOSTILE)
async def test_hostile_template_choices_get_4xx_and_queue_nothing(make_desk, graph, templates, shifted_clock,
                                                                  choice, status, says):
    desk = await make_desk(whatsapp(graph, business_account_id=WABA_ID))
    ticket = await closed_ticket(desk, shifted_clock)
    _, token = await make_agent("agent")
    async with client_for(desk) as client:
        res = await client.post(f"/api/v1/tickets/{ticket['id']}/reply", headers=auth(token), json={"template": choice})
        both = await client.post(f"/api/v1/tickets/{ticket['id']}/reply", headers=auth(token), json={
            "text": "and some text", "template": {"name": "order_update", "language": "en_US", "params": ["a", "b"]}})
    assert res.status_code == status, res.text
    assert res.json()["error"]["message"]
    if says:
        assert says in res.json()["error"]["message"]
    assert both.status_code == 400 and "either text or a template" in both.json()["error"]["message"]
    assert await Message.count().where(Message.direction == "outbound") == 0
    assert await Outbox.count() == 0 and graph.sends() == []


async def test_a_ticket_without_templates_refuses_a_template_reply(make_desk, graph, templates):
    desk = await make_desk(whatsapp(graph, business_account_id=WABA_ID))
    ticket = await closed_ticket(desk, lambda delta: None)  # the window is still open: nothing is offered
    _, token = await make_agent("agent")
    async with client_for(desk) as client:
        listed = await client.get(f"/api/v1/tickets/{ticket['id']}/templates", headers=auth(token))
        res = await client.post(f"/api/v1/tickets/{ticket['id']}/reply", headers=auth(token), json={
            "template": {"name": "order_update", "language": "en_US", "params": ["a", "b"]}})
        missing = await client.get("/api/v1/tickets/999999/templates", headers=auth(token))
    assert listed.json() == {"templates": [], "blocked_reason": None, "window_closes_at": listed.json()["window_closes_at"],
                             "templates_error": None}
    assert res.status_code == 400 and "offers no message templates" in res.json()["error"]["message"]
    assert missing.status_code == 404


async def test_the_inbox_panel_previews_refuses_an_empty_variable_in_chinese_and_sends(make_desk, graph, templates,
                                                                                        shifted_clock):
    desk = await make_desk(whatsapp(graph, business_account_id=WABA_ID))
    ticket = await closed_ticket(desk, shifted_clock)
    from core.tables import Agent

    agent_id, _ = await make_agent("agent", email="wa@example.com")
    await Agent.update({Agent.locale: "zh"}).where(Agent.id == agent_id)
    htmx = {"hx-request": "true"}
    async with client_for(desk) as client:
        await sign_in(client, "wa@example.com")
        page = await client.get(f"/inbox/t/{ticket['id']}")
        assert page.status_code == 200
        panel = page.text.split('id="channel-templates"')[1].split("</form>")[0]
        assert "发送已批准的模板" in panel and "24 小时客服窗口已关闭" in page.text
        assert panel.index('value="order_update:en_US"') < panel.index('value="welcome:en_US"')
        csrf = csrf_from(page.text)
        base = f"/inbox/t/{ticket['id']}/channel-templates"
        fields = await client.post(f"{base}/fields", data={"_csrf_token": csrf, "template": "order_update:en_US"}, headers=htmx)
        assert 'name="var_1"' in fields.text and 'name="var_2"' in fields.text
        assert "Hi {{1}}, your order {{2}} has shipped." in fields.text
        preview = await client.post(f"{base}/preview", headers=htmx, data={
            "_csrf_token": csrf, "template": "order_update:en_US", "var_1": "Dana <b>", "var_2": ""})
        assert "Hi Dana &lt;b&gt;, your order {{2}} has shipped." in preview.text
        empty = await client.post(f"{base}/send", headers=htmx, data={
            "_csrf_token": csrf, "template": "order_update:en_US", "var_1": "Dana", "var_2": " "})
        assert empty.status_code == 422 and empty.headers["hx-retarget"] == "#tpl-problems"
        assert "请填写模板 order_update 的变量 {{2}}" in empty.text
        huge = await client.post(f"{base}/send", headers=htmx, data={
            "_csrf_token": csrf, "template": "order_update:en_US", "var_1": "Dana", "var_2": "9" * 50_000})
        unknown = await client.post(f"{base}/send", headers=htmx, data={
            "_csrf_token": csrf, "template": "nope:en_US", "var_1": "Dana"})
        none = await client.post(f"{base}/send", headers=htmx, data={"_csrf_token": csrf, "template": ""})
        assert huge.status_code == 422 and unknown.status_code == 422
        assert none.status_code == 422 and "请选择要发送的模板" in none.text
        assert "此工单没有语言为 en_US 的已批准模板 nope" in unknown.text
        assert await Outbox.count() == 0
        sent = await client.post(f"{base}/send", headers=htmx, data={
            "_csrf_token": csrf, "template": "order_update:en_US", "var_1": "Dana", "var_2": "A-1042"})
        assert sent.status_code == 200
        assert "Hi Dana, your order A-1042 has shipped." in sent.text  # the timeline shows the filled text
        refreshed = await client.post(f"{base}/refresh", data={"_csrf_token": csrf}, headers=htmx)
        assert refreshed.status_code == 200 and 'id="channel-templates"' in refreshed.text
    [call] = await wait_for(graph.sends)  # delivered by the outbox job, after the answer
    assert call.json()["template"]["components"][0]["parameters"] == [{"type": "text", "text": "Dana"},
                                                                      {"type": "text", "text": "A-1042"}]
    row = await Message.select(Message.text, Message.author).where(Message.direction == "outbound").first()
    assert row == {"text": "Hi Dana, your order A-1042 has shipped.", "author": agent_id}
    assert (await Ticket.select(Ticket.status).where(Ticket.id == ticket["id"]).first())["status"] == "open"


async def test_openapi_documents_the_template_endpoints(make_desk, graph):
    desk = await make_desk(whatsapp(graph, business_account_id=WABA_ID))
    async with client_for(desk) as client:
        schema = (await client.get("/api/v1/schema/openapi.json")).json()
    listing = schema["paths"]["/api/v1/tickets/{ticket_id}/templates"]["get"]
    assert [p["name"] for p in listing["parameters"] if p["in"] == "query"] == ["refresh"]
    assert {"200", "400", "401", "403", "404"} <= set(listing["responses"])
    components = schema["components"]["schemas"]
    out = next(v for k, v in components.items() if k.endswith("TemplatesOut"))
    assert set(out["properties"]) == {"templates", "blocked_reason", "window_closes_at", "templates_error"}
    reply_in = next(v for k, v in components.items() if k.endswith("ReplyIn"))
    assert "template" in reply_in["properties"] and "text" not in reply_in.get("required", [])
    template_in = next(v for k, v in components.items() if k.endswith("TemplateIn"))
    assert set(template_in["required"]) == {"name", "language"}


async def test_read_only_agents_see_no_panel_and_cannot_send_or_refresh(make_desk, graph, templates, shifted_clock):
    desk = await make_desk(whatsapp(graph, business_account_id=WABA_ID))
    ticket = await closed_ticket(desk, shifted_clock)
    _, token = await make_agent("readonly", email="ro@example.com")
    async with client_for(desk) as client:
        api = await client.get(f"/api/v1/tickets/{ticket['id']}/templates", headers=auth(token))
        api_send = await client.post(f"/api/v1/tickets/{ticket['id']}/reply", headers=auth(token), json={
            "template": {"name": "order_update", "language": "en_US", "params": ["a", "b"]}})
        await sign_in(client, "ro@example.com")
        page = await client.get(f"/inbox/t/{ticket['id']}")
        csrf = csrf_from(page.text)
        base = f"/inbox/t/{ticket['id']}/channel-templates"
        send = await client.post(f"{base}/send", data={"_csrf_token": csrf, "template": "order_update:en_US",
                                                       "var_1": "a", "var_2": "b"}, headers={"hx-request": "true"})
        refresh = await client.post(f"{base}/refresh", data={"_csrf_token": csrf}, headers={"hx-request": "true"})
    assert api.status_code == 403 and api_send.status_code == 403
    assert 'id="channel-templates"' not in page.text
    assert send.status_code == 403 and refresh.status_code == 403
    assert await Outbox.count() == 0 and graph.sends() == []
