"""Strict parameters: ids beyond the database's range, control characters, tampered cursors, deep
JSON and wrong shapes get a clear 4xx (API and inbox), never a 500, and nothing is queried or stored."""

from __future__ import annotations

import base64
import json

from core.tables import Team, TeamRouting
from tests.helpers import auth, client_for, make_agent, message, post_messages, signed
from tests.web.inbox_helpers import sign_in

HUGE = "1180591620717411303424"


def _error(response) -> dict:
    body = response.json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body
    return body["error"]


async def test_path_ids_beyond_the_column_range_are_404(desk):
    _, token = await make_agent("admin")
    async with client_for(desk) as client:
        for method, url in [("GET", f"/api/v1/tickets/{HUGE}"), ("GET", f"/api/v1/customers/{HUGE}"),
                            ("GET", f"/api/v1/tickets/{HUGE}/messages"), ("DELETE", f"/api/v1/admin/calendars/{HUGE}"),
                            ("GET", f"/api/v1/agents/{HUGE}/shift"), ("DELETE", f"/api/v1/tokens/{HUGE}"),
                            ("GET", "/api/v1/tickets/2147483648")]:
            response = await client.request(method, url, headers=auth(token))
            assert response.status_code == 404, (url, response.text)
            assert _error(response)["code"] == "not_found"
        await make_agent("agent", email="ann@example.com")
        await sign_in(client, "ann@example.com")
        page = await client.get(f"/inbox/t/{HUGE}")
        assert page.status_code == 404


async def test_query_and_body_ids_beyond_the_range_are_400(desk):
    _, token = await make_agent("admin")
    async with client_for(desk) as client:
        for params in ({"team": "999999999999999"}, {"assignee": HUGE}, {"customer": "-1"}):
            response = await client.get("/api/v1/tickets", params=params, headers=auth(token))
            assert response.status_code == 400, (params, response.text)
            assert _error(response)["code"] == "invalid_request"
        response = await client.post("/api/v1/admin/teams", json={"name": "Big", "agent_ids": [int(HUGE)]},
                                     headers=auth(token))
        assert response.status_code == 400 and _error(response)
        response = await client.post("/api/v1/admin/teams", json={"name": "Big", "agent_ids": [2147483648]},
                                     headers=auth(token))
        assert response.status_code == 400
    assert await Team.count() == 0


async def test_control_characters_in_text_parameters_are_400_in_api_and_inbox(desk):
    _, token = await make_agent("agent", email="bo@example.com")
    async with client_for(desk) as client:
        for param in ("tag", "channel", "status", "sort", "cursor"):
            for bad in ("a\x00b", "\x1b[31m", "x\x7f"):
                response = await client.get("/api/v1/tickets", params={param: bad}, headers=auth(token))
                assert response.status_code == 400, (param, bad, response.text)
                assert "control character" in _error(response)["message"]
        for param in ("email", "phone"):
            response = await client.get("/api/v1/customers", params={param: "a\x00@example.com"}, headers=auth(token))
            assert response.status_code == 400 and _error(response)["code"] == "invalid_request"
        await sign_in(client, "bo@example.com")
        for param in ("tag", "channel", "q"):
            page = await client.get("/inbox/q/open", params={param: "x\x00y"})
            assert page.status_code == 400, (param, page.text[:300])
            assert "control character" in page.text


def _cursor(data) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


TAMPERED = [_cursor({"i": "x"}), _cursor({"i": int(HUGE)}), _cursor({"s": "due", "v": 5, "i": 1}),
            _cursor({"s": "-updated", "v": "not a time", "i": 1}), _cursor([1, 2]), _cursor({"i": 1.5}),
            _cursor({"i": 1, "v": {"a": 1}}), "!!!", _cursor({"i": None, "v": "2026-01-01T00:00:00+00:00"})]


async def test_tampered_cursors_are_400_in_the_api(desk):
    _, token = await make_agent("agent")
    async with client_for(desk) as client:
        ticket = (await post_messages(client, [message("m1")])).json()["messages"][0]["ticket_id"]
        for cursor in TAMPERED:
            for url, params in [("/api/v1/tickets", {}), ("/api/v1/tickets", {"sort": "due"}),
                                ("/api/v1/tickets", {"sort": "-updated"}), ("/api/v1/customers", {}),
                                (f"/api/v1/tickets/{ticket}/messages", {})]:
                response = await client.get(url, params={**params, "cursor": cursor}, headers=auth(token))
                assert response.status_code == 400, (url, params, cursor, response.text)
                assert "cursor" in _error(response)["message"]


async def test_tampered_cursors_are_400_in_the_inbox(desk):
    await make_agent("agent", email="cy@example.com")
    async with client_for(desk) as client:
        await sign_in(client, "cy@example.com")
        for cursor in TAMPERED:
            page = await client.get("/inbox/q/open", params={"cursor": cursor})
            assert page.status_code == 400, (cursor, page.text[:300])


async def test_a_deeply_nested_webhook_body_is_400(desk):
    nested = b"[" * 5000 + b"]" * 5000
    deep = (b'{"messages": [{"id": "deep-1", "sender": {"id": "c1"}, "text": "hi", "metadata": {"a": '
            + nested + b'}}], "statuses": []}')
    body, headers = signed(deep)
    async with client_for(desk) as client:
        response = await client.post("/hooks/api_channel/main", content=body, headers=headers)
        assert response.status_code == 400, response.text
        assert "deeper than" in _error(response)["message"]
        # the same route still takes a good payload
        assert (await post_messages(client, [message("ok-1")])).status_code == 200


async def test_a_deeply_nested_api_body_is_400(desk):
    _, token = await make_agent("admin")
    deep = '{"name": "T", "agent_ids": ' + "[" * 5000 + "]" * 5000 + "}"
    async with client_for(desk) as client:
        response = await client.post("/api/v1/admin/teams", content=deep,
                                     headers={**auth(token), "content-type": "application/json"})
        assert response.status_code == 400 and "deeper than" in _error(response)["message"]


async def test_routing_with_an_object_for_channels_is_400(desk):
    _, token = await make_agent("admin")
    async with client_for(desk) as client:
        team = (await client.post("/api/v1/admin/teams", json={"name": "Sales"}, headers=auth(token))).json()
        response = await client.put(f"/api/v1/admin/teams/{team['id']}/routing", json={"channels": {}},
                                    headers=auth(token))
        assert response.status_code == 400, response.text
        assert "channels" in json.dumps(_error(response))
    assert await TeamRouting.count() == 0


async def test_nul_in_a_json_body_is_400_and_nothing_is_stored(desk):
    _, token = await make_agent("admin")
    async with client_for(desk) as client:
        response = await client.post("/api/v1/admin/teams", json={"name": "Sa\x00les"}, headers=auth(token))
        assert response.status_code == 400 and "control character" in _error(response)["message"]
        # an escaped backslash before u0000 is ordinary text, not a NUL
        response = await client.post("/api/v1/admin/teams", content='{"name": "back\\\\u0000slash"}',
                                     headers={**auth(token), "content-type": "application/json"})
        assert response.status_code == 201, response.text
    assert [t["name"] for t in await Team.select(Team.name)] == ["back\\u0000slash"]


async def test_inbox_forms_with_ids_beyond_the_range_are_refused_not_500(desk):
    from core.tables import BusinessCalendar, Ticket
    from tests.web.inbox_helpers import form_post

    await make_agent("admin", email="ad@example.com")
    async with client_for(desk) as client:
        ticket = (await post_messages(client, [message("m1")])).json()["messages"][0]["ticket_id"]
        await sign_in(client, "ad@example.com")
        assert (await client.get("/inbox/q/open", params={"team": HUGE})).status_code == 400
        page = f"/inbox/t/{ticket}"
        for url, data in [(f"/inbox/t/{ticket}/update", {"assignee": HUGE}), (f"/inbox/t/{ticket}/update", {"team": "²"}),
                          ("/inbox/bulk", {"ids": str(ticket), "action": "assign", "agent": HUGE})]:
            response = await form_post(client, url, data, page=page)
            assert response.status_code == 400, (url, data, response.status_code, response.text[:300])
        response = await form_post(client, "/inbox/customers/1/merge", {"source": HUGE}, page=page)
        assert response.status_code == 400
        response = await form_post(client, "/inbox/admin/teams", {"name": "Ops", "agent_ids": HUGE}, page=page)
        assert response.status_code in (302, 303)  # an id that names no agent is no member
        response = await form_post(client, "/inbox/admin/calendars",
                                   {"id": HUGE, "name": "Cal", "timezone": "UTC", "hours_mon": "09:00-17:00"}, page=page)
        assert response.status_code in (302, 303)
        response = await form_post(client, "/inbox/admin/sla", {"name": "P", "position": HUGE,
                                                                "first_response_minutes": "60"}, page=page)
        assert response.status_code == 400 and "out of range" in response.text
        response = await form_post(client, "/inbox/notifications/read", {"id": HUGE}, page=page)
        assert response.status_code in (302, 303)
    assert (await Ticket.select(Ticket.assignee).where(Ticket.id == ticket).first())["assignee"] is None
    assert [c["name"] for c in await BusinessCalendar.select(BusinessCalendar.name)] == ["Cal"]


async def test_a_deeply_nested_rule_in_the_admin_page_is_refused_with_the_reason(desk):
    from core.tables import AutomationRule
    from tests.web.inbox_helpers import form_post

    await make_agent("admin", email="ru@example.com")
    async with client_for(desk) as client:
        await sign_in(client, "ru@example.com")
        response = await form_post(client, "/inbox/admin/rules", {
            "name": "Deep", "event": "ticket_created", "conditions": "[" * 3000 + "]" * 3000, "actions": "[]"},
            page="/inbox/admin/rules")
        assert response.status_code == 400 and "deeper than 64" in response.text
    assert await AutomationRule.count() == 0
