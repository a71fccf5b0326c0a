"""People (issue 19 item 1): invitation and reset links, changing your own password, roles with a
supervisor, deactivation that ends sessions and tokens at once and hands the tickets on; the same
through the API, the admin page and the CLI."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from core import people
from core.tables import Agent, Ticket
from tests.helpers import auth, client_for, make_agent, message, post_messages
from tests.web.inbox_helpers import csrf_from, form_post, sign_in

SECRET = "people-test-secret-0123456789"


def _with_secret(config: dict[str, Any]) -> None:
    config["relaydesk"]["secret"] = {"env": "RELAYDESK_PEOPLE_TEST_SECRET"}


async def _desk(make_desk):
    os.environ["RELAYDESK_PEOPLE_TEST_SECRET"] = SECRET
    return await make_desk(_with_secret)


def _link_path(url: str) -> str:
    return "/password/" + url.rsplit("/password/", 1)[1]


async def _set_by_link(client, path: str, password: str, repeat: str | None = None):
    page = await client.get(path)
    return await client.post(path, data={"password": password, "repeat": repeat if repeat is not None else password,
                                         "_csrf_token": csrf_from(page.text)}, follow_redirects=False)


async def test_an_invited_agent_sets_a_password_by_link_once_and_is_signed_in(make_desk):
    desk = await _desk(make_desk)
    await make_agent("admin", email="boss@example.com")
    async with client_for(desk) as admin:
        await sign_in(admin, "boss@example.com")
        made = await form_post(admin, "/inbox/admin/agents", {"name": "Li Na", "email": "Li.Na@Example.com",
                                                               "role": "agent"}, page="/inbox/admin/agents")
        assert made.status_code == 201
        url = re.search(r'value="(http[^"]+/password/[^"]+)"', made.text).group(1)
    path = _link_path(url)
    async with client_for(desk) as newcomer:
        form = await newcomer.get(path)
        assert form.status_code == 200 and "Li Na" in form.text
        short = await _set_by_link(newcomer, path, "short")
        assert short.status_code == 400 and "at least 10 characters" in short.text
        differ = await _set_by_link(newcomer, path, "long enough one", "long enough two")
        assert differ.status_code == 400 and "not the same" in differ.text
        done = await _set_by_link(newcomer, path, "a long passphrase")
        assert done.status_code in (302, 303) and done.headers["location"] == "/inbox"
        assert (await newcomer.get("/inbox/q/open")).status_code == 200, "signed in by the link"
        again = await newcomer.get(path)
        assert again.status_code == 410 and "already used" in again.text
    async with client_for(desk) as later:
        assert (await sign_in(later, "li.na@example.com", "a long passphrase")).status_code in (302, 303)


async def test_a_forged_damaged_or_expired_link_sets_nothing(make_desk):
    desk = await _desk(make_desk)
    agent_id, _ = await make_agent("agent", email="ella@example.com")
    agent = await Agent.select().where(Agent.id == agent_id).first()
    good = people.make_link_token(SECRET, agent, "reset")
    forged = people.make_link_token("another desk's secret 0123456789", agent, "reset")

    class EightDaysAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 8 * 24 * 3600

    class OldLinks(URLSafeTimedSerializer):
        default_signer = EightDaysAgo

    expired = OldLinks(SECRET, salt="relaydesk-password-link").dumps(
        {"a": agent_id, "p": "invite", "f": people._fingerprint(agent)})
    async with client_for(desk) as client:
        for token, status in ((forged, 400), (good[:-3] + "abc", 400), (expired, 410), ("x" * 5000, 400)):
            page = await client.get(f"/password/{token}")
            assert page.status_code == status, token[:20]
        assert (await client.get(f"/password/{good}")).status_code == 200
    after = await Agent.select(Agent.password_hash).where(Agent.id == agent_id).first()
    assert after["password_hash"] == agent["password_hash"]


async def test_changing_your_own_password_ends_your_other_sessions_only(make_desk):
    desk = await _desk(make_desk)
    await make_agent("agent", email="fay@example.com")
    async with client_for(desk) as laptop, client_for(desk) as phone:
        await sign_in(laptop, "fay@example.com")
        await sign_in(phone, "fay@example.com")
        wrong = await form_post(laptop, "/settings/password", {"current": "nope", "password": "a new passphrase",
                                                                "repeat": "a new passphrase"}, page="/settings")
        assert wrong.status_code == 400 and "current password is not right" in wrong.text
        changed = await form_post(laptop, "/settings/password", {"current": "pw", "password": "a new passphrase",
                                                                  "repeat": "a new passphrase"}, page="/settings")
        assert changed.status_code in (302, 303)
        assert (await laptop.get("/inbox/q/open", follow_redirects=False)).status_code == 200
        assert (await phone.get("/inbox/q/open", follow_redirects=False)).status_code in (302, 303)
    async with client_for(desk) as client:
        assert (await sign_in(client, "fay@example.com", "pw")).status_code == 401
        assert (await sign_in(client, "fay@example.com", "a new passphrase")).status_code in (302, 303)


async def test_a_supervisor_runs_the_team_but_not_the_people_or_tokens(make_desk):
    desk = await _desk(make_desk)
    _, token = await make_agent("supervisor", email="sue@example.com")
    async with client_for(desk) as client:
        await sign_in(client, "sue@example.com")
        for path in ("/inbox/admin/teams", "/inbox/admin/macros", "/inbox/admin/rules", "/inbox/admin/sla"):
            assert (await client.get(path)).status_code == 200, path
        assert (await client.get("/inbox/admin/agents")).status_code == 403
        assert (await client.get("/api/v1/admin/teams", headers=auth(token))).status_code == 200
        made = await client.post("/api/v1/agents", json={"name": "X", "email": "x@example.com"}, headers=auth(token))
        assert made.status_code == 403
    _, agent_token = await make_agent("agent", email="al@example.com")
    async with client_for(desk) as client:
        await sign_in(client, "al@example.com")
        assert (await client.get("/inbox/admin/teams")).status_code == 403
        assert (await client.get("/api/v1/admin/teams", headers=auth(agent_token))).status_code == 403


async def test_deactivating_ends_sessions_and_tokens_at_once_and_hands_the_tickets_back(make_desk):
    desk = await _desk(make_desk)
    _, admin_token = await make_agent("admin", email="root@example.com")
    gone_id, gone_token = await make_agent("agent", email="gone@example.com")
    async with client_for(desk) as api, client_for(desk) as browser:
        await post_messages(api, [message("p-1", text="where is my parcel")])
        ticket = (await api.get("/api/v1/tickets", headers=auth(admin_token))).json()["items"][0]["id"]
        await Ticket.update({Ticket.assignee: gone_id, Ticket.status: "open"}).where(Ticket.id == ticket)
        await sign_in(browser, "gone@example.com")
        assert (await browser.get("/inbox/q/open")).status_code == 200
        changed = await api.patch(f"/api/v1/agents/{gone_id}", json={"active": False}, headers=auth(admin_token))
        assert changed.status_code == 200 and changed.json()["active"] is False
        assert (await browser.get("/inbox/q/open", follow_redirects=False)).status_code in (302, 303)
        assert (await api.get("/api/v1/tickets", headers=auth(gone_token))).status_code == 401
        assert (await sign_in(browser, "gone@example.com")).status_code == 401
        row = await Ticket.select(Ticket.assignee, Ticket.route_reason).where(Ticket.id == ticket).first()
        assert row["assignee"] is None and "deactivated" in row["route_reason"]
        # the last admin can neither leave nor be demoted
        me = (await api.get("/api/v1/agents/me", headers=auth(admin_token))).json()["id"]
        for body in ({"active": False}, {"role": "agent"}):
            refused = await api.patch(f"/api/v1/agents/{me}", json=body, headers=auth(admin_token))
            assert refused.status_code == 409 and "last active admin" in refused.json()["error"]["message"]
        link = await api.post(f"/api/v1/agents/{gone_id}/password-link", headers=auth(admin_token))
        assert link.status_code == 404


async def test_the_api_hands_out_a_reset_link_that_works_once(make_desk):
    desk = await _desk(make_desk)
    _, admin_token = await make_agent("admin", email="root2@example.com")
    agent_id, _ = await make_agent("agent", email="reset@example.com")
    async with client_for(desk) as api:
        made = await api.post(f"/api/v1/agents/{agent_id}/password-link", headers=auth(admin_token))
        assert made.status_code == 201 and made.json()["purpose"] == "reset"
        assert made.json()["expires_in"] == 2 * 3600
        path = _link_path(made.json()["url"])
        assert (await _set_by_link(api, path, "reset passphrase 1")).status_code in (302, 303)
    async with client_for(desk) as other:
        assert (await other.get(path)).status_code == 410


async def test_the_chinese_page_says_the_link_expired_in_chinese(make_desk):
    desk = await _desk(make_desk)
    async with client_for(desk) as client:
        page = await client.get("/password/not-a-token", headers={"accept-language": "zh-CN,zh;q=0.9"})
        assert page.status_code == 400 and "此链接已损坏" in page.text


def test_the_cli_adds_invites_changes_roles_and_deactivates(tmp_path: Path):
    env = {**os.environ, "RELAYDESK_CONFIG": str(tmp_path / "plugins.toml")}

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "core.cli", *args], cwd=tmp_path, env=env, input=stdin,
                              capture_output=True, text=True, timeout=120)

    assert run("init", "--database", f"sqlite:///{tmp_path / 'desk.db'}", "--admin-password",
               "the admin passphrase").returncode == 0
    added = run("agents", "add", "wu@example.com", "--name", "Wu", "--role", "supervisor")
    assert added.returncode == 0, added.stderr
    assert re.search(r"http://127\.0\.0\.1:8000/password/\S+", added.stdout)
    twice = run("agents", "add", "wu@example.com")
    assert twice.returncode == 1 and "already exists" in twice.stderr and "Traceback" not in twice.stderr
    assert run("agents", "set-role", "wu@example.com", "agent").returncode == 0
    demote = run("agents", "set-role", "admin@example.com", "agent")
    assert demote.returncode == 1 and "last active admin" in demote.stderr
    assert run("agents", "set-password", "wu@example.com", stdin="wu's passphrase\nwu's passphrase\n").returncode == 0
    assert run("agents", "deactivate", "wu@example.com").returncode == 0
    listed = run("agents", "list").stdout
    assert re.search(r"wu@example\.com\s+│\s+agent\s+│\s+deactivated", listed), listed
    missing = run("agents", "deactivate", "nobody@example.com")
    assert missing.returncode == 1 and "No agent has the email" in missing.stderr
