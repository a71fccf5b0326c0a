"""Member messages: polling through the Message API, threading to item and order, replies, tokens,
throttling and eBay's error codes, against the loopback eBay."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from core import outbound
from core.config import settings_from_dict
from core.context import customer_context, panels
from core.errors import ChannelError, ConfigError
from core.plugins import load_registry
from core.polling import poll_account
from core.tables import ChannelAccount, Customer, Identity, Message, Outbox, Ticket
from tests.conftest import base_config
from tests.plugins.ebay.conftest import ebay_config
from tests.plugins.ebay.fake_ebay import SELLER, TOO_MANY, make_order

BUYER = "anna_from_berlin"


def iso(delta: timedelta = timedelta(0)) -> str:
    when = datetime.now(timezone.utc) + delta
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def account(desk: Any) -> Any:
    return desk.registry.account("ebay", "main")


async def tickets() -> list[dict[str, Any]]:
    return await Ticket.select().order_by(Ticket.id)


async def messages_of(ticket_id: int) -> list[dict[str, Any]]:
    return await Message.select().where(Message.ticket == ticket_id).order_by(Message.id).output(load_json=True)


def seed_conversation(fake: Any) -> None:
    fake.orders.append(make_order("12-01234-56789", BUYER, "110552233", updated=iso(-timedelta(days=2))))
    fake.orders.append(make_order("12-09999-00000", "someone_else", "110552233", updated=iso(-timedelta(days=2))))
    fake.add_conversation("conv-100", BUYER, "110552233", "About: Ceramic teapot", [
        (BUYER, "Hello, my teapot has not arrived yet. Can you check?", iso(-timedelta(hours=3))),
        (SELLER, "Sorry! Let me look into it.", iso(-timedelta(hours=2))),
    ])


def test_it_loads_and_registers(tmp_path: Any, fake: Any) -> None:
    config = base_config("sqlite:///unused.db", tmp_path)
    ebay_config(fake.url)(config)
    registry = load_registry(settings_from_dict(config, "plugins.toml"))
    assert registry.channels["ebay"].plugin == "ebay"
    assert registry.account("ebay", "main").settings.marketplace_id == "EBAY_DE"
    assert ("ebay", registry.migrations[-1][1]) == registry.migrations[-1] and registry.migrations[-1][0] == "ebay"
    paths = {getattr(r, "paths", None) and sorted(r.paths)[0] for r in registry.routes}
    assert "/ebay/account-deletion" in paths


@pytest.mark.parametrize("bad, key", [({"marketplace_id": "EBAY_XX"}, "marketplace_id"),
                                      ({"page_size": 500}, "page_size"),
                                      ({"refresh_tokn": "x"}, "refresh_tokn")])
def test_bad_account_settings_stop_startup_naming_the_key(tmp_path: Any, fake: Any, bad: dict[str, Any], key: str) -> None:
    config = base_config("sqlite:///unused.db", tmp_path)
    ebay_config(fake.url, account=bad)(config)
    with pytest.raises(ConfigError) as caught:
        load_registry(settings_from_dict(config, "plugins.toml"))
    assert "plugins.ebay.accounts.main" in str(caught.value) and key in str(caught.value)


def test_a_short_verification_token_is_refused(tmp_path: Any, fake: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_EBAY_VERIFY", "short")
    config = base_config("sqlite:///unused.db", tmp_path)
    ebay_config(fake.url)(config)
    with pytest.raises(ConfigError) as caught:
        load_registry(settings_from_dict(config, "plugins.toml"))
    assert "verification_token" in str(caught.value)


async def test_poll_threads_a_conversation_to_its_item_and_order(ebay_desk: Any, fake: Any) -> None:
    seed_conversation(fake)
    assert await poll_account(ebay_desk, account(ebay_desk)) == 2
    [ticket] = await tickets()
    assert ticket["thread_key"] == "conv:conv-100" and ticket["channel_type"] == "ebay"
    stored = await messages_of(ticket["id"])
    assert [m["direction"] for m in stored] == ["inbound", "outbound"]  # the seller's own reply is an echo
    assert stored[0]["text"].startswith("Hello, my teapot")
    assert stored[0]["metadata"]["order_ids"] == ["12-01234-56789"]
    assert stored[0]["metadata"]["ebay"]["item_id"] == "110552233"
    identity = await Identity.select().where(Identity.channel_type == "ebay").first()
    assert identity["handle"] == BUYER
    # the requests carried the marketplace and a bearer token; the orders came first
    first_api = [r["path"] for r in fake.requests if not r["path"].startswith("/identity")][0]
    assert first_api == "/sell/fulfillment/v1/order"
    assert fake.calls("/commerce/message/v1/conversation")[0]["query"]["conversation_type"] == "FROM_MEMBERS"
    assert fake.calls("/commerce/message/v1/conversation")[0]["headers"]["x-ebay-c-marketplace-id"] == "EBAY_DE"

    # the buyer writes again: same ticket; a repeat poll stores nothing twice
    fake.add_message("conv-100", BUYER, "Any news?")
    assert await poll_account(ebay_desk, account(ebay_desk)) == 1
    assert await poll_account(ebay_desk, account(ebay_desk)) == 0
    assert len(await tickets()) == 1 and len(await messages_of(ticket["id"])) == 3
    cursor = json.loads((await ChannelAccount.select(ChannelAccount.poll_cursor).where(
        ChannelAccount.id == account(ebay_desk).id).first())["poll_cursor"])
    assert set(cursor) >= {"orders", "messages"}

    # a second conversation is a second ticket of the same customer
    fake.add_conversation("conv-200", BUYER, None, "Question", [(BUYER, "Do you ship to Austria?", iso())])
    await poll_account(ebay_desk, account(ebay_desk))
    rows = await tickets()
    assert [t["thread_key"] for t in rows] == ["conv:conv-100", "conv:conv-200"]
    assert rows[0]["customer"] == rows[1]["customer"]


async def test_commerce_context_and_order_panel(ebay_desk: Any, fake: Any) -> None:
    seed_conversation(fake)
    await poll_account(ebay_desk, account(ebay_desk))
    [ticket] = await tickets()
    customer = await Customer.select().where(Customer.id == ticket["customer"]).first()
    context = await customer_context(ebay_desk, customer, ticket)
    orders = [o for o in context["orders"] if o["source"] == "ebay"]
    assert [o["order_id"] for o in orders] == ["12-01234-56789"]  # never someone else's order of the same item
    assert orders[0]["mentioned"] and orders[0]["customer_match"] and orders[0]["total"] == "39.90"
    assert context["ebay"]["order_number"] == "12-01234-56789"
    assert context["ebay"]["order_value"] == 39.9 and context["ebay"]["item_id"] == "110552233"
    [panel] = [p for p in await panels(ebay_desk, ticket, customer, context) if p["plugin"] == "ebay"]
    assert panel["title"] == "eBay orders" and "12-01234-56789" in panel["html"] and "Ceramic teapot" in panel["html"]

    from web.i18n import current_language

    token = current_language.set("zh")
    try:
        [panel] = [p for p in await panels(ebay_desk, ticket, customer, context) if p["plugin"] == "ebay"]
    finally:
        current_language.reset(token)
    assert panel["title"] == "eBay 订单" and "总额" in panel["html"]


async def test_escapes_what_the_buyer_wrote_in_the_panel(ebay_desk: Any, fake: Any) -> None:
    fake.orders.append(make_order("12-00000-00666", BUYER, "110552299", updated=iso(), title="<script>x</script>"))
    fake.add_conversation("conv-300", BUYER, "110552299", "t", [(BUYER, "hi", iso())])
    await poll_account(ebay_desk, account(ebay_desk))
    [ticket] = await tickets()
    customer = await Customer.select().where(Customer.id == ticket["customer"]).first()
    context = await customer_context(ebay_desk, customer, ticket)
    [panel] = [p for p in await panels(ebay_desk, ticket, customer, context) if p["plugin"] == "ebay"]
    assert "<script>" not in panel["html"] and "&lt;script&gt;" in panel["html"]


async def test_an_expired_access_token_is_refreshed(ebay_desk: Any, fake: Any) -> None:
    seed_conversation(fake)
    await poll_account(ebay_desk, account(ebay_desk))
    minted = len(fake.token_requests)
    assert fake.token_requests[0]["grant_type"] == "refresh_token"
    assert "https://api.ebay.com/oauth/api_scope/commerce.message" in fake.token_requests[0]["scope"].split(" ")
    fake.revoke_tokens()  # eBay now answers 401 / errorId 1001 to the token we hold
    fake.add_message("conv-100", BUYER, "Still there?")
    assert await poll_account(ebay_desk, account(ebay_desk)) == 1
    assert len(fake.token_requests) == minted + 1


async def test_a_revoked_refresh_token_fails_for_good_and_names_the_fix(ebay_desk: Any, fake: Any) -> None:
    fake.refresh_token = "something-else"
    with pytest.raises(ChannelError) as caught:
        await poll_account(ebay_desk, account(ebay_desk))
    assert caught.value.retryable is False and caught.value.platform_code == "invalid_grant"
    assert "refresh token" in caught.value.message
    assert await tickets() == []


async def test_throttling_is_waited_out_and_retried(ebay_desk: Any, fake: Any) -> None:
    seed_conversation(fake)
    fake.fail("/commerce/message/v1/conversation", 429, TOO_MANY, {"Retry-After": "0"}, times=2)
    fake.fail("/sell/fulfillment/v1/order", 503, {"errors": [{"errorId": 2003, "domain": "ACCESS",
                                                               "category": "APPLICATION", "message": "Internal error"}]})
    assert await poll_account(ebay_desk, account(ebay_desk)) == 2
    assert len(fake.calls("/commerce/message/v1/conversation")) >= 3


async def test_throttling_that_outlasts_the_budget_is_a_retryable_error(ebay_desk: Any, fake: Any) -> None:
    seed_conversation(fake)
    for prefix in ("/commerce/message", "/sell/fulfillment", "/post-order"):
        fake.fail(prefix, 429, TOO_MANY, {"Retry-After": "120"}, times=3)
    with pytest.raises(ChannelError) as caught:
        await poll_account(ebay_desk, account(ebay_desk))
    assert caught.value.retryable is True and caught.value.platform_code == "2001"
    assert caught.value.retry_after == 120
    assert await tickets() == []
    # eBay lets up: the next poll gets everything (the cursor did not move)
    fake.failures.clear()
    assert await poll_account(ebay_desk, account(ebay_desk)) == 2


async def deliver(desk: Any, message_id: int) -> dict[str, Any]:
    row = await Outbox.select(Outbox.id).where(Outbox.message == message_id).first()
    await outbound.deliver(desk, row["id"])
    return await Message.select().where(Message.id == message_id).first()


async def test_a_reply_goes_into_the_conversation_and_its_echo_is_not_stored_twice(ebay_desk: Any, fake: Any) -> None:
    seed_conversation(fake)
    await poll_account(ebay_desk, account(ebay_desk))
    [ticket] = await tickets()
    message = await outbound.reply(ebay_desk, ticket["id"], author_id=None, text="It ships tomorrow with DHL.")
    row = await deliver(ebay_desk, message["id"])
    assert row["delivery_status"] == "sent" and row["external_id"].startswith("msg:")
    [sent] = fake.calls("/commerce/message/v1/send_message")
    assert json.loads(sent["body"]) == {"conversationId": "conv-100", "messageText": "It ships tomorrow with DHL."}
    assert sent["headers"]["authorization"].startswith("Bearer ")
    assert fake.conversations["conv-100"]["messages"][-1]["messageBody"] == "It ships tomorrow with DHL."
    before = len(await messages_of(ticket["id"]))
    await poll_account(ebay_desk, account(ebay_desk))  # eBay lists our reply in the conversation: a duplicate
    assert len(await messages_of(ticket["id"])) == before


async def retry_now(desk: Any, message_id: int) -> dict[str, Any]:
    """The next delivery attempt, without waiting out the backoff."""
    await Outbox.update({Outbox.next_attempt_at: datetime.now(timezone.utc) - timedelta(seconds=1)}).where(
        Outbox.message == message_id)
    return await deliver(desk, message_id)


async def test_a_reply_whose_answer_was_lost_is_not_sent_twice(ebay_desk: Any, fake: Any) -> None:
    # eBay takes the message, then the connection drops: sendMessage has no idempotency key, so the
    # retry must find the first copy instead of sending a second one to the buyer.
    seed_conversation(fake)
    await poll_account(ebay_desk, account(ebay_desk))
    [ticket] = await tickets()
    fake.fail("/commerce/message/v1/send_message", 0, lost=True)
    message = await outbound.reply(ebay_desk, ticket["id"], author_id=None, text="Refund issued today.")
    first = await deliver(ebay_desk, message["id"])
    assert first["delivery_status"] in (None, "queued") and first["external_id"] is None
    copies = [m for m in fake.conversations["conv-100"]["messages"] if m["messageBody"] == "Refund issued today."]
    assert len(copies) == 1  # eBay has it; the desk does not know yet
    second = await retry_now(ebay_desk, message["id"])
    assert second["delivery_status"] == "sent" and second["external_id"] == f"msg:{copies[0]['messageId']}"
    assert len(fake.calls("/commerce/message/v1/send_message")) == 1
    assert [m["messageBody"] for m in fake.conversations["conv-100"]["messages"]].count("Refund issued today.") == 1
    before = len(await messages_of(ticket["id"]))
    await poll_account(ebay_desk, account(ebay_desk))  # the echo matches the reply's id: stored once
    assert len(await messages_of(ticket["id"])) == before


async def test_a_retry_after_a_failure_before_sending_sends_once(ebay_desk: Any, fake: Any) -> None:
    # The same text sent earlier and known to the desk is no earlier copy of this reply.
    seed_conversation(fake)
    await poll_account(ebay_desk, account(ebay_desk))
    [ticket] = await tickets()
    earlier = await outbound.reply(ebay_desk, ticket["id"], author_id=None, text="Thanks!")
    assert (await deliver(ebay_desk, earlier["id"]))["delivery_status"] == "sent"
    fake.fail("/commerce/message/v1/send_message", 503, {"errors": [{"errorId": 2003, "domain": "ACCESS",
                                                                    "category": "APPLICATION", "message": "Internal error"}]})
    again = await outbound.reply(ebay_desk, ticket["id"], author_id=None, text="Thanks!")
    assert (await deliver(ebay_desk, again["id"]))["delivery_status"] in (None, "queued")
    row = await retry_now(ebay_desk, again["id"])
    assert row["delivery_status"] == "sent"
    assert [m["messageBody"] for m in fake.conversations["conv-100"]["messages"]].count("Thanks!") == 2
    assert len({row["external_id"], (await Message.select().where(Message.id == earlier["id"]).first())["external_id"]}) == 2


async def test_ebay_refusing_a_reply_fails_it_with_ebays_code(ebay_desk: Any, fake: Any) -> None:
    seed_conversation(fake)
    await poll_account(ebay_desk, account(ebay_desk))
    [ticket] = await tickets()
    fake.fail("/commerce/message/v1/send_message", 400, {"errors": [{
        "errorId": 355012, "domain": "API_MESSAGE", "category": "REQUEST",
        "message": "The recipient cannot receive messages from you."}]})
    message = await outbound.reply(ebay_desk, ticket["id"], author_id=None, text="Hello")
    row = await deliver(ebay_desk, message["id"])
    assert row["delivery_status"] == "failed" and "cannot receive messages" in row["delivery_error"]


async def test_a_throttled_reply_is_retried_later(ebay_desk: Any, fake: Any) -> None:
    seed_conversation(fake)
    await poll_account(ebay_desk, account(ebay_desk))
    [ticket] = await tickets()
    fake.fail("/commerce/message/v1/send_message", 429, TOO_MANY, {"Retry-After": "300"})
    message = await outbound.reply(ebay_desk, ticket["id"], author_id=None, text="Hello again")
    row = await deliver(ebay_desk, message["id"])
    assert row["delivery_status"] in (None, "queued")
    box = await Outbox.select().where(Outbox.message == message["id"]).first()
    assert box["status"] == "pending" and box["attempts"] == 1 and "(2001)" in (box["last_error"] or "")
    assert fake.conversations["conv-100"]["messages"][-1]["messageBody"] != "Hello again"


async def test_a_too_long_reply_is_refused_without_calling_ebay(ebay_desk: Any, fake: Any) -> None:
    seed_conversation(fake)
    await poll_account(ebay_desk, account(ebay_desk))
    [ticket] = await tickets()
    try:
        message = await outbound.reply(ebay_desk, ticket["id"], author_id=None, text="x" * 2500)
    except Exception as exc:  # the core may refuse it up front from the channel's limits
        assert "2000" in str(exc)
        return
    row = await deliver(ebay_desk, message["id"])
    assert row["delivery_status"] == "failed"
    assert fake.calls("/commerce/message/v1/send_message") == []
