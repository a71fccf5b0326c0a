"""The inbox's admin pages for teams/routing, calendars, SLA policies and rules (browser-free, over
ASGI with CSRF), their validation messages in English and Chinese, the claim pool's queue and
button, and notifications in the header."""

from __future__ import annotations

import re

from core import routing
from core.tables import Agent, AutomationRule, BusinessCalendar, Notification, SlaPolicy, Team, TeamRouting, Ticket
from tests.helpers import client_for, make_agent, message, post_messages
from tests.web.inbox_helpers import form_post, sign_in


def error_box(html: str) -> str:
    match = re.search(r'id="form-error">(.*?)</div>', html, re.S)
    assert match, "the page shows no validation error"
    return re.sub(r"<[^>]+>", "", match.group(1)).replace("&#39;", "'").replace("&#34;", '"').replace("&quot;", '"')


async def test_only_admins_see_the_pages(desk):
    await make_agent("agent", email="a@example.com")
    async with client_for(desk) as client:
        await sign_in(client, "a@example.com")
        assert (await client.get("/inbox/admin/teams")).status_code == 403
        assert (await client.get("/inbox/admin/rules")).status_code == 403


async def test_teams_and_routing_form_validates_and_saves(desk):
    admin, _ = await make_agent("admin", email="boss@example.com")
    async with client_for(desk) as client:
        await sign_in(client, "boss@example.com")
        page = await client.get("/inbox/admin/teams")
        assert page.status_code == 200 and "Teams and routing" in page.text
        created = await form_post(client, "/inbox/admin/teams", {"name": "Support"}, page="/inbox/admin/teams")
        assert created.status_code in (302, 303)
        team = (await Team.select().first())["id"]
        bad = await form_post(client, f"/inbox/admin/teams/{team}", {
            "strategy": "least_loaded", "claim_cap": "3", "agent_ids": str(admin), "keywords": "Lawsuit, chargeback"},
            page="/inbox/admin/teams")
        assert bad.status_code == 400
        assert "claim_cap and pool_alert_minutes apply to the claim pool" in error_box(bad.text)
        assert 'value="Lawsuit, chargeback"' in bad.text  # what the admin typed is kept
        assert 'value="3"' in bad.text  # what the admin typed is still there
        assert await TeamRouting.count() == 0
        worse = await form_post(client, f"/inbox/admin/teams/{team}", {"claim_cap": "three"}, page="/inbox/admin/teams")
        assert worse.status_code == 400 and "claim_cap: 'three' is not a whole number" in error_box(worse.text)
        good = await form_post(client, f"/inbox/admin/teams/{team}", {
            "strategy": "least_loaded", "claim_cap": "3", "pool_priorities": "low", "pool_alert_minutes": "45",
            "agent_ids": str(admin), "keywords": "Lawsuit, chargeback", "language_match": "on", "skills_match": "on"},
            page="/inbox/admin/teams")
        assert good.status_code in (302, 303)
        row = await TeamRouting.select().output(load_json=True).first()
        assert (row["strategy"], row["claim_cap"], row["pool_alert_minutes"]) == ("least_loaded", 3, 45)
        assert row["pool_priorities"] == ["low"] and row["keywords"] == ["lawsuit", "chargeback"]
        assert row["sticky"] is False and row["skills_match"] is True
        listed = await client.get(f"/inbox/admin/teams?edit={team}")
        assert 'name="claim_cap" type="number" min="1" value="3"' in listed.text


async def test_calendar_form_explains_bad_hours_and_saves(desk):
    await make_agent("admin", email="boss@example.com")
    async with client_for(desk) as client:
        await sign_in(client, "boss@example.com")
        bad = await form_post(client, "/inbox/admin/calendars", {
            "name": "Shanghai", "timezone": "Asia/Shanghai", "hours_mon": "18:00-09:00"}, page="/inbox/admin/calendars")
        assert bad.status_code == 400
        assert "hours.mon[0]: starts at 18:00 but ends at 09:00; the end must be later" in error_box(bad.text)
        assert 'value="18:00-09:00"' in bad.text
        zone = await form_post(client, "/inbox/admin/calendars", {"name": "x", "timezone": "Asia/Beijing",
                                                                  "hours_mon": "09:00-18:00"}, page="/inbox/admin/calendars")
        assert "not an IANA time zone" in error_box(zone.text)
        good = await form_post(client, "/inbox/admin/calendars", {
            "name": "Shanghai", "timezone": "Asia/Shanghai", "hours_mon": "09:00-12:00, 13:00-18:00",
            "hours_fri": "09:00-18:00", "holidays": "2026-10-01\n2026-10-02"}, page="/inbox/admin/calendars")
        assert good.status_code in (302, 303)
        row = await BusinessCalendar.select().output(load_json=True).first()
        assert row["hours"] == {"mon": [["09:00", "12:00"], ["13:00", "18:00"]], "fri": [["09:00", "18:00"]]}
        assert row["holidays"] == ["2026-10-01", "2026-10-02"]
        edited = await form_post(client, "/inbox/admin/calendars", {
            "id": str(row["id"]), "name": "Shanghai", "timezone": "Asia/Shanghai", "hours_tue": "10:00-11:00"},
            page="/inbox/admin/calendars")
        assert edited.status_code in (302, 303) and await BusinessCalendar.count() == 1
        assert (await BusinessCalendar.select().output(load_json=True).first())["hours"] == {"tue": [["10:00", "11:00"]]}


async def test_sla_policy_form_with_warning_lead_and_peak_profile(desk):
    await make_agent("admin", email="boss@example.com")
    async with client_for(desk) as client:
        await sign_in(client, "boss@example.com")
        bad = await form_post(client, "/inbox/admin/sla", {"name": "p", "first_response_minutes": "60",
                                                           "warning_minutes": "0", "active": "on"}, page="/inbox/admin/sla")
        assert bad.status_code == 400 and "warning_minutes: must be a whole number of minutes" in error_box(bad.text)
        naive = await form_post(client, "/inbox/admin/sla", {"name": "p", "first_response_minutes": "60",
                                                             "starts_at": "2026-11-10T00:00:00", "active": "on"},
                                page="/inbox/admin/sla")
        assert "give a time zone offset" in error_box(naive.text)
        good = await form_post(client, "/inbox/admin/sla", {
            "name": "双11", "first_response_minutes": "1440", "warning_minutes": "120", "priority": "normal",
            "channel": "api", "starts_at": "2026-11-10T00:00:00+08:00", "ends_at": "2026-11-13T00:00:00+08:00",
            "notice": "双11期间回复会慢一些。", "active": "on"}, page="/inbox/admin/sla")
        assert good.status_code in (302, 303)
        row = await SlaPolicy.select().output(load_json=True).first()
        assert row["warning_minutes"] == 120 and row["conditions"] == {"priority": ["normal"], "channel": ["api"]}
        assert row["notice"] == "双11期间回复会慢一些。" and row["active"] is True
        assert "双11" in (await client.get("/inbox/admin/sla")).text


async def test_rule_form_explains_json_and_rule_errors_in_chinese_too(desk):
    admin, _ = await make_agent("admin", email="boss@example.com")
    async with client_for(desk) as client:
        await sign_in(client, "boss@example.com")
        broken = await form_post(client, "/inbox/admin/rules", {"name": "r", "event": "created", "conditions": "{oops",
                                                                "actions": "[]"}, page="/inbox/admin/rules")
        assert broken.status_code == 400 and "conditions: not valid JSON" in error_box(broken.text)
        assert "{oops" in broken.text  # kept for fixing
        wrong = await form_post(client, "/inbox/admin/rules", {
            "name": "r", "event": "created", "conditions": '{"business_hours": {"calendar": "nowhere"}}',
            "actions": '[{"tag": "x"}]'}, page="/inbox/admin/rules")
        assert "there is no calendar named 'nowhere'" in error_box(wrong.text)
        await Agent.update({Agent.locale: "zh"}).where(Agent.id == admin)
        zh = await form_post(client, "/inbox/admin/rules", {"name": "r", "event": "created", "conditions": "{}",
                                                            "actions": '[{"webhook": {"url": "ftp://x"}}]'},
                             page="/inbox/admin/rules")
        assert zh.status_code == 400 and "未保存" in zh.text and "自动化规则" in zh.text
        assert "actions[0].webhook.url" in error_box(zh.text)
        good = await form_post(client, "/inbox/admin/rules", {
            "name": "升级", "event": "sla_breach", "conditions": "{}", "active": "on",
            "actions": '[{"priority": "raise"}, {"notify": {"to": "supervisors"}}]'}, page="/inbox/admin/rules")
        assert good.status_code in (302, 303)
        row = await AutomationRule.select().output(load_json=True).first()
        assert row["actions"] == [{"priority": "raise"}, {"notify": {"to": "supervisors"}}] and row["active"]


async def test_validator_messages_follow_the_admins_language(desk):
    """core validators raise core.errors.Invalid; the pages translate its template (the params, such as
    field paths and values, stay as typed) while the JSON API keeps the English text."""
    admin, _ = await make_agent("admin", email="boss@example.com")
    await Agent.update({Agent.locale: "zh"}).where(Agent.id == admin)
    async with client_for(desk) as client:
        await sign_in(client, "boss@example.com")
        rule = await form_post(client, "/inbox/admin/rules", {"name": "r", "event": "created", "conditions": "{}",
                                                              "actions": '[{"webhook": {"url": "ftp://x"}}]'},
                               page="/inbox/admin/rules")
        assert rule.status_code == 400
        assert error_box(rule.text) == "未保存： actions[0].webhook.url：'ftp://x' 不是 http(s) 网址"
        assert "is not an http(s) URL" not in rule.text
        calendar = await form_post(client, "/inbox/admin/calendars", {
            "name": "上海", "timezone": "Asia/Shanghai", "hours_mon": "18:00-09:00"}, page="/inbox/admin/calendars")
        assert calendar.status_code == 400
        assert error_box(calendar.text) == "未保存： hours.mon[0]：开始于 18:00，却结束于 09:00；结束时间必须晚于开始时间"
        assert "the end must be later" not in calendar.text
        window = await form_post(client, "/inbox/admin/calendars", {
            "name": "上海", "timezone": "Asia/Shanghai", "hours_tue": "0900"}, page="/inbox/admin/calendars")
        assert error_box(window.text) == "未保存： hours.tue：'0900' 不是 09:00-17:00 这样的时间段"
        assert await AutomationRule.count() == 0 and await BusinessCalendar.count() == 0


async def test_claim_pool_queue_button_and_cap_message(desk):
    me, _ = await make_agent("agent", email="me@example.com")
    team = (await Team.insert(Team(name="Pool")).returning(Team.id))[0]["id"]
    from core.tables import AgentTeam

    await AgentTeam.insert(AgentTeam(agent=me, team=team))
    await TeamRouting.insert(TeamRouting(team=team, pool_priorities=["normal"], claim_cap=1))
    routing.invalidate()
    async with client_for(desk) as client:
        await post_messages(client, [message("m1", sender="c1"), message("m2", sender="c2")])
        ids = [r["id"] for r in await Ticket.select(Ticket.id).order_by(Ticket.id)]
        await sign_in(client, "me@example.com")
        queue = await client.get("/inbox/q/pool")
        assert [int(i) for i in re.findall(r'data-claim="(\d+)"', queue.text)] == ids
        view = await client.get(f"/inbox/t/{ids[0]}")
        assert f'action="/inbox/t/{ids[0]}/claim"' in view.text
        claimed = await form_post(client, f"/inbox/t/{ids[0]}/claim", {}, page=f"/inbox/t/{ids[0]}")
        assert claimed.status_code in (302, 303)
        assert (await Ticket.select(Ticket.assignee).where(Ticket.id == ids[0]).first())["assignee"] == me
        refused = await form_post(client, f"/inbox/t/{ids[1]}/claim", {}, page=f"/inbox/t/{ids[1]}")
        assert refused.status_code == 409 and "claim cap reached" in refused.text
        htmx = await form_post(client, f"/inbox/t/{ids[1]}/claim", {}, page=f"/inbox/t/{ids[1]}",
                               headers={"hx-request": "true"})
        assert htmx.status_code == 409 and "claim cap reached" in htmx.text and htmx.headers["hx-retarget"] == "#flash"


async def test_claim_over_the_api(desk):
    from tests.helpers import auth

    me, token = await make_agent("agent", email="api@example.com")
    team = (await Team.insert(Team(name="Pool")).returning(Team.id))[0]["id"]
    from core.tables import AgentTeam

    await AgentTeam.insert(AgentTeam(agent=me, team=team))
    await TeamRouting.insert(TeamRouting(team=team, pool_priorities=["normal"], claim_cap=1))
    routing.invalidate()
    async with client_for(desk) as client:
        await post_messages(client, [message("m1", sender="c1"), message("m2", sender="c2")])
        pool = (await client.get("/api/v1/tickets/pool", headers=auth(token))).json()
        assert len(pool) == 2
        first = await client.post(f"/api/v1/tickets/{pool[0]['id']}/claim", headers=auth(token))
        assert first.status_code == 200 and first.json()["assignee"] == me
        again = await client.post(f"/api/v1/tickets/{pool[0]['id']}/claim", headers=auth(token))
        capped = await client.post(f"/api/v1/tickets/{pool[1]['id']}/claim", headers=auth(token))
    assert again.status_code == 409 and "not in a claim pool" in again.json()["error"]["message"]
    assert capped.status_code == 409 and "claim cap reached" in capped.json()["error"]["message"]


async def test_notifications_show_in_the_header_and_can_be_read(desk):
    me, _ = await make_agent("agent", email="n@example.com")
    await Notification.insert(Notification(agent=me, text="Ticket #1 waited too long", ticket=1),
                              Notification(agent=me, text="Breach on #2", ticket=2))
    async with client_for(desk) as client:
        await sign_in(client, "n@example.com")
        page = await client.get("/inbox/q/open")
        assert 'data-unread="2"' in page.text
        listed = await client.get("/inbox/notifications")
        assert "Breach on #2" in listed.text and 'href="/inbox/t/1"' in listed.text
        done = await form_post(client, "/inbox/notifications/read", {}, page="/inbox/notifications")
        assert done.status_code in (302, 303)
        assert 'data-unread="0"' in (await client.get("/inbox/q/open")).text


async def test_the_admin_apis_own_refusals_follow_the_admins_language(desk):
    """web/api/admin.py's refusals (duplicate names, inconsistent peak windows) reach the pages
    translated; the JSON API answers the same refusal in English, with its own status."""
    from tests.helpers import auth

    admin, token = await make_agent("admin", email="boss@example.com")
    await Agent.update({Agent.locale: "zh"}).where(Agent.id == admin)
    async with client_for(desk) as client:
        await sign_in(client, "boss@example.com")
        first = await form_post(client, "/inbox/admin/calendars", {"name": "上海", "timezone": "Asia/Shanghai",
                                                                   "hours_mon": "09:00-18:00"},
                                page="/inbox/admin/calendars")
        assert first.status_code in (302, 303)
        again = await form_post(client, "/inbox/admin/calendars", {"name": "上海", "timezone": "Asia/Shanghai",
                                                                   "hours_tue": "09:00-18:00"},
                                page="/inbox/admin/calendars")
        assert again.status_code == 400
        assert error_box(again.text) == "未保存： 名为 '上海' 的日历已存在"
        peak = await form_post(client, "/inbox/admin/sla", {
            "name": "双11", "first_response_minutes": "60", "starts_at": "2026-11-13T00:00:00+08:00",
            "ends_at": "2026-11-10T00:00:00+08:00"}, page="/inbox/admin/sla")
        assert peak.status_code == 400 and error_box(peak.text) == "未保存： ends_at：必须晚于 starts_at"
        api = await client.post("/api/v1/admin/calendars", headers=auth(token), json={
            "name": "上海", "timezone": "Asia/Shanghai", "hours": {"wed": [["09:00", "18:00"]]}})
    assert api.status_code == 409 and "a calendar named '上海' already exists" in api.text
    assert await BusinessCalendar.count() == 1 and await SlaPolicy.count() == 0
