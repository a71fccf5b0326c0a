"""The outbound URL guard: non-public addresses refused (resolved names included) unless allow-listed,
each redirect checked again; rule webhooks and API-channel callbacks go through it, and an admin who
saves a rule with such a URL gets a 400 that says why."""

from __future__ import annotations

import ipaddress

import httpx
import pytest

from core import outbound, rule_webhooks, urlguard
from core.inbound import ingest
from core.tables import AutomationRule, Message, WebhookDelivery
from core.types import InboundMessage
from tests.helpers import auth, client_for, make_agent
from tests.loopback import Scripted


@pytest.fixture
def no_allowlist():
    urlguard.configure([])
    yield
    urlguard.configure([])


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
                                     "fe80::1", "224.0.0.1", "ff02::1", "0.0.0.0", "240.0.0.1", "100.64.0.1",
                                     "::ffff:127.0.0.1", "fc00::1"])
def test_non_public_addresses_are_refused(no_allowlist, address):
    assert urlguard.refusal(ipaddress.ip_address(address)) is not None


def test_public_and_allow_listed_addresses_pass(no_allowlist):
    assert urlguard.refusal(ipaddress.ip_address("93.184.216.34")) is None
    assert urlguard.refusal(ipaddress.ip_address("2606:4700::1111")) is None
    urlguard.configure(["10.0.0.0/8", "::1"])
    assert urlguard.refusal(ipaddress.ip_address("10.9.9.9")) is None
    assert urlguard.refusal(ipaddress.ip_address("::1")) is None
    assert urlguard.refusal(ipaddress.ip_address("127.0.0.1")) is not None


async def test_names_are_resolved_before_the_check(no_allowlist):
    with pytest.raises(urlguard.UrlRefused, match="loopback"):
        await urlguard.check("http://localhost:8080/hook")
    for bad in ("ftp://example.com/x", "http://user:pw@example.com/", "javascript:alert(1)", "http:///nohost"):
        with pytest.raises(urlguard.UrlRefused):
            await urlguard.check(bad)


async def test_a_redirect_to_a_refused_address_is_not_followed(receiver):
    urlguard.configure(["127.0.0.1"])
    try:
        receiver.script = [Scripted(status=307, headers={"location": "/moved"}), Scripted(status=200)]
        async with httpx.AsyncClient(follow_redirects=False) as client:
            response = await urlguard.request(client, "POST", receiver.url + "/hook", content=b"{}")
        assert response.status_code == 200 and [r.path for r in receiver.requests] == ["/hook", "/moved"]
        assert receiver.requests[1].method == "POST"  # 307 keeps the method and body
        receiver.script = [Scripted(status=302, headers={"location": "http://[::1]:9/internal"})]
        async with httpx.AsyncClient(follow_redirects=False) as client:
            with pytest.raises(urlguard.UrlRefused, match="::1 is a loopback"):
                await urlguard.request(client, "POST", receiver.url + "/again", content=b"{}")
    finally:
        urlguard.configure([])


async def test_saving_a_rule_with_a_loopback_webhook_is_400(make_desk):
    desk = await make_desk()
    _, token = await make_agent("admin")
    async with client_for(desk) as client:
        for url in ("http://127.0.0.1:9/hook", "http://[::1]/x", "http://169.254.169.254/latest/meta-data",
                    "http://localhost/hook", "http://10.0.0.1/"):
            response = await client.post("/api/v1/admin/rules", headers=auth(token), json={
                "name": "leak", "event": "created", "actions": [{"webhook": {"url": url}}]})
            assert response.status_code == 400, (url, response.text)
            error = response.json()["error"]
            assert error["code"] == "url_refused" and "outbound_allowlist" in error["message"], error
    assert await AutomationRule.count() == 0


async def test_a_stored_rule_webhook_to_loopback_fails_with_the_reason(make_desk, receiver):
    desk = await make_desk(run_jobs=False)
    await AutomationRule.insert(AutomationRule(name="old", event="created", position=0, conditions={},
                                               actions=[{"webhook": {"url": receiver.url + "/hook"}}]))
    from core import rules

    rules.invalidate()
    account = desk.registry.account("api_channel", "main")
    await ingest(desk, account, [InboundMessage(external_id="in-1", sender_handle="c1", text="Hi")])
    row = await WebhookDelivery.select().first()
    assert await rule_webhooks.deliver(desk, row["id"]) == "failed"
    row = await WebhookDelivery.select().first()
    assert "127.0.0.1 is a loopback address" in row["last_error"] and receiver.requests == []


async def test_a_callback_url_on_loopback_is_refused_unless_allow_listed(make_desk, receiver):
    def callback(config):
        config["plugins"]["api_channel"]["accounts"]["main"]["callback_url"] = receiver.url + "/replies"

    desk = await make_desk(callback)
    account = desk.registry.account("api_channel", "main")
    res = await ingest(desk, account, [InboundMessage(external_id="in-1", sender_handle="c1", text="Hi")])
    agent_id, _ = await make_agent("agent")
    reply = await outbound.reply(desk, res[0].ticket_id, author_id=agent_id, text="Hello")
    from tests.conftest import wait_for

    async def failed():
        row = await Message.select(Message.delivery_status, Message.delivery_error).where(Message.id == reply["id"]).first()
        return row if row["delivery_status"] == "failed" else None

    row = await wait_for(failed)
    assert "callback_url refused" in row["delivery_error"] and "loopback" in row["delivery_error"]
    assert receiver.requests == []


async def test_the_setting_is_checked_at_start():
    from core.config import settings_from_dict
    from core.errors import ConfigError

    with pytest.raises(ConfigError, match="outbound_allowlist"):
        settings_from_dict({"relaydesk": {"outbound_allowlist": ["not-an-address"]}})
    settings = settings_from_dict({"relaydesk": {"outbound_allowlist": ["127.0.0.1", "10.0.0.0/8"]}})
    assert settings.outbound_allowlist == ["127.0.0.1", "10.0.0.0/8"]
