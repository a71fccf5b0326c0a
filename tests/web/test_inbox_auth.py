"""Sign-in, sessions, CSRF, throttling, sign-out everywhere and roles in the inbox."""

from __future__ import annotations

from core.tables import Agent, LoginThrottle
from tests.helpers import client_for, make_agent, message, post_messages
from tests.web.inbox_helpers import csrf_from, form_post, sign_in


async def test_sign_in_with_password_and_see_inbox(desk):
    await make_agent("agent", email="ann@example.com")
    async with client_for(desk) as client:
        assert (await client.get("/inbox/q/open", follow_redirects=False)).status_code in (302, 303)
        response = await sign_in(client, "ann@example.com")
        assert response.status_code in (302, 303) and response.headers["location"] == "/inbox"
        page = await client.get("/inbox/q/open")
        assert page.status_code == 200
        assert "Ann" not in page.text or "Agent Agent" in page.text  # the page renders the signed-in agent
        assert "All open" in page.text


async def test_wrong_password_refused(desk):
    await make_agent("agent", email="bob@example.com")
    async with client_for(desk) as client:
        response = await sign_in(client, "bob@example.com", "nope")
        assert response.status_code == 401
        assert "The email or password is not right." in response.text
        assert (await client.get("/inbox/q/open", follow_redirects=False)).status_code in (302, 303)


async def test_form_without_csrf_token_is_refused(desk):
    await make_agent("agent", email="cat@example.com")
    async with client_for(desk) as client:
        await client.get("/login")
        response = await client.post("/login", data={"email": "cat@example.com", "password": "pw"})
        assert response.status_code == 403
        assert (await client.get("/inbox/q/open", follow_redirects=False)).status_code in (302, 303)


async def test_api_is_not_subject_to_csrf(desk):
    _, token = await make_agent("agent")
    async with client_for(desk) as client:
        await post_messages(client, [message("m1", text="hi")])
        tickets = (await client.get("/api/v1/tickets", headers={"authorization": f"Bearer {token}"})).json()["items"]
        response = await client.post(f"/api/v1/tickets/{tickets[0]['id']}/notes", json={"text": "api note"},
                                     headers={"authorization": f"Bearer {token}"})
        assert response.status_code == 201


async def test_failed_sign_ins_are_throttled_per_account_and_ip(desk):
    await make_agent("agent", email="dan@example.com")
    async with client_for(desk) as client:
        for _ in range(5):
            assert (await sign_in(client, "dan@example.com", "wrong")).status_code == 401
        # locked now: even the right password is refused until the lock expires
        response = await sign_in(client, "dan@example.com", "pw")
        assert response.status_code == 429
        assert "Too many failed sign-ins" in response.text
    row = await LoginThrottle.select().where(LoginThrottle.key == "account:dan@example.com").first()
    assert row["failures"] == 5 and row["locked_until"] is not None


async def test_sign_out_everywhere_ends_other_sessions(desk):
    await make_agent("agent", email="eve@example.com")
    async with client_for(desk) as first, client_for(desk) as second:
        await sign_in(first, "eve@example.com")
        await sign_in(second, "eve@example.com")
        assert (await second.get("/inbox/q/open")).status_code == 200
        response = await form_post(first, "/logout/everywhere", {}, page="/settings")
        assert response.status_code in (302, 303)
        assert (await second.get("/inbox/q/open", follow_redirects=False)).status_code in (302, 303)
        assert (await first.get("/inbox/q/open", follow_redirects=False)).status_code in (302, 303)
    assert (await Agent.select(Agent.session_generation).where(Agent.email == "eve@example.com").first())[
        "session_generation"] == 1


async def test_readonly_agent_cannot_reply_or_edit(desk):
    await make_agent("readonly", email="ro@example.com")
    async with client_for(desk) as client:
        await post_messages(client, [message("m1", text="where is my parcel")])
        await sign_in(client, "ro@example.com")
        queue = await client.get("/inbox/q/open")
        assert "where is my parcel" in queue.text
        ticket_id = int(queue.text.split('data-ticket="')[1].split('"')[0])
        view = await client.get(f"/inbox/t/{ticket_id}")
        assert view.status_code == 200 and 'id="reply"' not in view.text
        refused = await form_post(client, f"/inbox/t/{ticket_id}/reply", {"text": "hello"}, page=f"/inbox/t/{ticket_id}")
        assert refused.status_code == 403
        refused = await form_post(client, f"/inbox/t/{ticket_id}/update", {"status": "solved"}, page=f"/inbox/t/{ticket_id}")
        assert refused.status_code == 403
        assert (await client.get("/inbox/admin/macros")).status_code == 403


async def test_agent_is_refused_admin_pages_admin_is_not(desk):
    await make_agent("agent", email="ag@example.com")
    await make_agent("admin", email="ad@example.com")
    async with client_for(desk) as client:
        await sign_in(client, "ag@example.com")
        assert (await client.get("/inbox/admin/macros")).status_code == 403
    async with client_for(desk) as client:
        await sign_in(client, "ad@example.com")
        assert (await client.get("/inbox/admin/macros")).status_code == 200


async def test_settings_change_language_timezone_and_availability(desk):
    agent_id, _ = await make_agent("agent", email="zh@example.com")
    async with client_for(desk) as client:
        await sign_in(client, "zh@example.com")
        response = await form_post(client, "/settings", {"locale": "zh", "timezone": "Asia/Shanghai",
                                                         "availability": "away"}, page="/settings")
        assert response.status_code in (302, 303)
        page = await client.get("/inbox/q/open")
        assert "全部未解决" in page.text and "All open" not in page.text
        assert 'lang="zh-Hans"' in page.text
    row = await Agent.select().where(Agent.id == agent_id).first()
    assert (row["locale"], row["timezone"], row["availability"]) == ("zh", "Asia/Shanghai", "away")


async def test_redirect_after_sign_in_stays_on_this_site(desk):
    await make_agent("agent", email="nx@example.com")
    async with client_for(desk) as client:
        page = await client.get("/login?next=//evil.example/x")
        assert 'value="/inbox"' in page.text
        token = csrf_from(page.text)
        response = await client.post("/login", data={"email": "nx@example.com", "password": "pw", "_csrf_token": token,
                                                     "next": "https://evil.example/"}, follow_redirects=False)
        assert response.headers["location"] == "/inbox"


async def test_sign_in_issues_a_fresh_session_id(desk):
    """Session fixation: an id planted in the browser before sign-in is dropped, not promoted."""
    await make_agent("agent", email="fay@example.com")
    async with client_for(desk) as victim, client_for(desk) as attacker:
        await attacker.get("/login")
        planted = attacker.cookies.get("relaydesk_session")
        assert planted
        for cookie in attacker.cookies.jar:  # the attacker's cookies, planted in the victim's browser
            victim.cookies.jar.set_cookie(cookie)
        await sign_in(victim, "fay@example.com")
        assert (await victim.get("/inbox/q/open")).status_code == 200
        assert victim.cookies.get("relaydesk_session") != planted
        # the attacker, still holding the planted id, is not signed in as the victim
        assert (await attacker.get("/inbox/q/open", follow_redirects=False)).status_code in (302, 303)
