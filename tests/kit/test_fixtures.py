"""The packaged test kit (relaydesk_testing) does what its docs say: desks on both databases,
agents and clients, webhooks, scripted loopback answers, clocks and job draining."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import pytest

from core import clock, db, outbound
from core.tables import Message, Ticket
from plugins.api_channel import signing
from relaydesk_testing import (
    T0,
    Scripted,
    allow_loopback,
    client_for,
    drain_jobs,
    enable,
    hmac_sha256_signer,
    post_webhook,
    wait_for,
)


def api_signer(secret: str):
    return lambda body: {"x-relaydesk-signature": signing.sign(secret, body)}


def with_callback(url: str, **relaydesk):
    def configure(config):
        enable(config, "api_channel", {"main": {"secret": {"env": "RELAYDESK_TEST_API_SECRET"}, "callback_url": url}})
        config["relaydesk"].update(relaydesk)
        allow_loopback(config)
    return configure


async def test_desk_runs_on_each_database(desk, db_url):
    assert desk.settings.database == db_url
    assert db.is_sqlite() == db_url.startswith("sqlite")
    assert await Ticket.count() == 0  # emptied for this test


async def test_post_webhook_stores_a_signed_message_and_refuses_a_forged_one(desk, api_client, relaydesk_api_secret):
    payload = {"messages": [{"id": "kit-1", "sender": {"id": "c1"}, "text": "Hi kit"}]}
    forged = await post_webhook(api_client, "api_channel", "main", payload, signer=api_signer("wrong"))
    assert forged.status_code == 401
    stored = await post_webhook(api_client, "api_channel", "main", payload, signer=api_signer(relaydesk_api_secret))
    assert stored.status_code == 200, stored.text
    assert [m["text"] for m in await Message.select(Message.text)] == ["Hi kit"]


async def test_agent_api_and_signed_in_agent(desk, agent_api, signed_in_agent):
    listed = await agent_api.get("/api/v1/tickets")
    assert listed.status_code == 200
    anonymous = await client_for(desk).get("/api/v1/tickets")
    assert anonymous.status_code == 401
    inbox = await signed_in_agent.get("/inbox/q/open")
    assert inbox.status_code == 200 and "_csrf_token" in inbox.text


def test_hmac_signer_matches_meta_and_shopify_formats():
    body = b'{"a":1}'
    meta = hmac_sha256_signer("s")(body)
    assert list(meta) == ["x-hub-signature-256"] and meta["x-hub-signature-256"].startswith("sha256=")
    shop = hmac_sha256_signer("s", header="x-shopify-hmac-sha256", prefix="", encoding="base64")(body)
    assert shop["x-shopify-hmac-sha256"].endswith("=")


def test_receiver_answers_from_its_script(receiver):
    receiver.answer(Scripted.error(400, {"error": "bad"}), Scripted.throttled(7), Scripted.dropped())
    with httpx.Client(base_url=receiver.url) as http:
        first = http.post("/x", json={"n": 1})
        assert (first.status_code, first.json()) == (400, {"error": "bad"})
        second = http.post("/x", json={"n": 2})
        assert second.status_code == 429 and second.headers["retry-after"] == "7"
        with pytest.raises(httpx.TransportError):
            http.post("/x", json={"n": 3})
        assert http.post("/x", json={"n": 4}).status_code == 200
    assert [r.json()["n"] for r in receiver.requests] == [1, 2, 3, 4]


def test_controlled_clock_stands_still_until_moved(controlled_clock):
    assert clock.now() == T0
    controlled_clock.advance(minutes=5)
    assert clock.now() == T0 + timedelta(minutes=5)
    controlled_clock(datetime(2027, 1, 1, tzinfo=timezone.utc))
    assert clock.now().year == 2027
    with pytest.raises(ValueError):
        controlled_clock.set(datetime(2027, 1, 1))


def test_shifted_clock_runs_ahead(shifted_clock):
    shifted_clock(timedelta(days=2))
    ahead = clock.now() - datetime.now(timezone.utc)
    assert timedelta(days=2) - timedelta(seconds=5) < ahead <= timedelta(days=2)


async def _reply(desk, receiver):
    from core.inbound import ingest
    from core.types import InboundMessage

    account = desk.registry.account("api_channel", "main")
    result = await ingest(desk, account, [InboundMessage(external_id="in-1", sender_handle="c1", text="Hello")])
    return await outbound.reply(desk, result[0].ticket_id, author_id=None, text="Answer")


async def test_drain_jobs_in_process(make_desk, receiver):
    desk = await make_desk(with_callback(receiver.url))
    await _reply(desk, receiver)
    assert await drain_jobs(desk) == 0
    await wait_for(lambda: receiver.requests)
    assert receiver.requests[0].json()["text"] == "Answer"


async def test_drain_jobs_runs_an_arq_worker_on_real_redis(make_desk, receiver, redis_url):
    desk = await make_desk(with_callback(receiver.url, redis=redis_url))
    message = await _reply(desk, receiver)
    receiver.answer(Scripted.error(400, {"error": "refused"}))  # a final error: the job completes, not retried
    assert await drain_jobs(desk) == 0
    row = await Message.select(Message.delivery_status).where(Message.id == message["id"]).first()
    assert row["delivery_status"] == "failed"
    assert len(receiver.requests) == 1


async def test_the_conformance_suite_names_the_clause_a_channel_breaks(make_desk, receiver):
    from tests.plugins.api_channel.test_conformance import api_channel_case

    case = api_channel_case(receiver)
    case.fail_next_send = lambda retryable: None  # the fake never fails: the error clauses cannot hold
    with pytest.raises(AssertionError) as raised:
        from relaydesk_testing.conformance import check_channel

        await check_channel(case, make_desk)
    text = str(raised.value)
    assert "a retryable error leaves the reply queued" in text and "a final error marks the reply failed" in text
    assert "a forged signature is refused" not in text


async def test_the_polled_suite_names_the_clause_a_polled_channel_breaks(make_desk, monkeypatch):
    from relaydesk_testing.conformance import check_polled_channel
    from tests.plugins.ebay.conftest import VERIFICATION_TOKEN
    from tests.plugins.ebay.fake_ebay import CLIENT_SECRET, REFRESH_TOKEN, FakeEbay
    from tests.plugins.ebay.test_conformance import ebay_case

    for name, value in (("TEST_EBAY_SECRET", CLIENT_SECRET), ("TEST_EBAY_REFRESH", REFRESH_TOKEN),
                        ("TEST_EBAY_VERIFY", VERIFICATION_TOKEN)):
        monkeypatch.setenv(name, value)
    fake = FakeEbay().start()
    try:
        case = ebay_case(fake)
        case.fail_next_send = lambda retryable: None  # the fake never fails: the error clauses cannot hold
        with pytest.raises(AssertionError) as raised:
            await check_polled_channel(case, make_desk)
    finally:
        fake.stop()
    text = str(raised.value)
    assert "polled channel 'ebay'" in text and "a retryable error leaves the reply queued" in text
    assert "a poll stores the new messages" not in text and "stores nothing twice" not in text
