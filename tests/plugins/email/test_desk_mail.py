"""The desk mails its own agents through the email plugin's SMTP account (issue 19 item 1):
invitations from the agents page and the API, and "forgot your password?" from the sign-in page,
in the agent's language, against a real SMTP server; without outgoing mail, or when the server
refuses, the admin gets the link to pass on."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re

import pytest

from core.tables import Agent, AuditEntry
from tests.helpers import auth, client_for, make_agent
from tests.plugins.email.mailhelpers import FROM_ADDRESS, email_config, email_env
from tests.web.inbox_helpers import csrf_from, form_post, sign_in


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    email_env(monkeypatch)
    monkeypatch.setenv("RELAYDESK_DESK_MAIL_TEST_SECRET", "desk-mail-test-secret-0123456789")


def _mailing_desk(**account):
    """A desk that signs links (it has a secret) with one email account."""
    with_account = email_config(**account)

    def configure(config):
        with_account(config)
        config["relaydesk"]["secret"] = {"env": "RELAYDESK_DESK_MAIL_TEST_SECRET"}

    return configure


def _parsed(envelope) -> email.message.EmailMessage:
    return email.message_from_bytes(envelope.data, policy=email.policy.default)


def _link_in(mail: email.message.EmailMessage) -> str:
    return "/password/" + re.search(r"/password/(\S+)", mail.get_content()).group(1)


async def _until_mail(smtp_server, count: int) -> None:
    for _ in range(100):
        if len(smtp_server.received) >= count:
            return
        await asyncio.sleep(0.05)


async def test_an_invitation_is_mailed_in_the_agents_language_and_its_link_signs_them_in(make_desk, smtp_server):
    desk = await make_desk(_mailing_desk(smtp_url=smtp_server.url))
    await make_agent("admin", email="boss@example.com")
    async with client_for(desk) as admin:
        await sign_in(admin, "boss@example.com")
        made = await form_post(admin, "/inbox/admin/agents", {"name": "李娜", "email": "li.na@example.com",
                                                               "role": "agent", "locale": "zh"}, page="/inbox/admin/agents")
    assert made.status_code == 201, made.text[-3000:]
    assert 'data-mailed="1"' in made.text and "li.na@example.com" in made.text
    assert len(smtp_server.received) == 1
    envelope = smtp_server.received[0]
    assert envelope.rcpt_tos == ["li.na@example.com"] and envelope.mail_from == FROM_ADDRESS
    mail = _parsed(envelope)
    assert mail["Auto-Submitted"] == "auto-generated"
    assert "受邀" in mail["Subject"] and "李娜" in mail.get_content()
    path = _link_in(mail)
    async with client_for(desk) as newcomer:
        form = await newcomer.get(path)
        assert form.status_code == 200 and "李娜" in form.text
        done = await newcomer.post(path, data={"password": "a long passphrase", "repeat": "a long passphrase",
                                               "_csrf_token": csrf_from(form.text)}, follow_redirects=False)
        assert done.status_code in (302, 303)
        assert (await newcomer.get("/inbox/q/open")).status_code == 200


async def test_the_api_mails_the_link_and_says_so(make_desk, smtp_server):
    desk = await make_desk(_mailing_desk(smtp_url=smtp_server.url))
    _, token = await make_agent("admin", email="boss@example.com")
    agent_id, _ = await make_agent("agent", email="ella@example.com")
    async with client_for(desk) as client:
        answer = await client.post(f"/api/v1/agents/{agent_id}/password-link", headers=auth(token))
    assert answer.status_code == 201
    body = answer.json()
    assert body["mailed"] is True and body["mail_error"] is None and body["purpose"] == "reset"
    assert smtp_server.received[0].rcpt_tos == ["ella@example.com"]
    assert body["url"].split("/password/")[1] in _parsed(smtp_server.received[0]).get_content()


async def test_a_refusing_server_leaves_the_link_on_the_page(make_desk, smtp_server):
    smtp_server.rcpt_replies.append("550 5.1.1 no such user")
    desk = await make_desk(_mailing_desk(smtp_url=smtp_server.url))
    await make_agent("admin", email="boss@example.com")
    async with client_for(desk) as admin:
        await sign_in(admin, "boss@example.com")
        made = await form_post(admin, "/inbox/admin/agents", {"name": "Ella", "email": "ella@example.com",
                                                               "role": "agent"}, page="/inbox/admin/agents")
    assert made.status_code == 201
    assert "Mailing the link failed" in made.text and "550" in made.text
    assert re.search(r'value="http[^"]+/password/[^"]+"', made.text), "the admin can pass the link on"
    assert 'data-mailed="1"' not in made.text


async def test_forgot_password_mails_a_reset_link_and_tells_nobody_who_works_here(make_desk, smtp_server):
    desk = await make_desk(_mailing_desk(smtp_url=smtp_server.url))
    await make_agent("agent", email="ella@example.com")
    gone_id, _ = await make_agent("agent", email="gone@example.com")
    await Agent.update({Agent.active: False}).where(Agent.id == gone_id)
    async with client_for(desk) as visitor:
        login = await visitor.get("/login")
        assert 'href="/forgot-password"' in login.text
        answers = {}
        for address in ("ella@example.com", "nobody@example.com", "gone@example.com"):
            form = await visitor.get("/forgot-password")
            answer = await visitor.post("/forgot-password", data={"email": address, "_csrf_token": csrf_from(form.text)})
            answers[address] = (answer.status_code, answer.text.replace(address, "ADDRESS"))
        assert len(set(answers.values())) == 1, "the same page whoever asks"
        await _until_mail(smtp_server, 1)
        await asyncio.sleep(0.3)
        assert [e.rcpt_tos for e in smtp_server.received] == [["ella@example.com"]]
        path = _link_in(_parsed(smtp_server.received[0]))
        form = await visitor.get(path)
        done = await visitor.post(path, data={"password": "a new long passphrase", "repeat": "a new long passphrase",
                                              "_csrf_token": csrf_from(form.text)}, follow_redirects=False)
        assert done.status_code in (302, 303)
    async with client_for(desk) as later:
        assert (await sign_in(later, "ella@example.com", "a new long passphrase")).status_code in (302, 303)
    assert await AuditEntry.exists().where(AuditEntry.action == "password_link")


async def test_forgot_password_is_throttled_per_account(make_desk, smtp_server):
    desk = await make_desk(_mailing_desk(smtp_url=smtp_server.url))
    await make_agent("agent", email="ella@example.com")
    async with client_for(desk) as visitor:
        for _ in range(6):
            form = await visitor.get("/forgot-password")
            answer = await visitor.post("/forgot-password", data={"email": "Ella@Example.com",
                                                                  "_csrf_token": csrf_from(form.text)})
            assert answer.status_code == 200
    await _until_mail(smtp_server, 3)
    await asyncio.sleep(0.5)
    assert len(smtp_server.received) == 3, "three links per account per window, not six"


async def test_a_desk_without_outgoing_mail_says_to_ask_an_admin(make_desk):
    desk = await make_desk(_mailing_desk())  # an email account that only receives
    await make_agent("admin", email="boss@example.com")
    async with client_for(desk) as visitor:
        page = await visitor.get("/forgot-password")
        assert page.status_code == 200 and "cannot send mail" in page.text
        token = csrf_from((await visitor.get("/login")).text)
        answer = await visitor.post("/forgot-password", data={"email": "boss@example.com", "_csrf_token": token})
        assert answer.status_code == 200 and "cannot send mail" in answer.text
    async with client_for(desk) as admin:
        await sign_in(admin, "boss@example.com")
        made = await form_post(admin, "/inbox/admin/agents", {"name": "Ella", "email": "ella@example.com",
                                                               "role": "agent"}, page="/inbox/admin/agents")
        assert made.status_code == 201 and "Send this link to ella@example.com" in made.text
        assert "Mailing the link failed" not in made.text
