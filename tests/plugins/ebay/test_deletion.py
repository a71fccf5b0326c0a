"""eBay's marketplace account deletion notifications: the challenge handshake, signatures checked
with the Notification API's public key (eBay's own test vectors), erasure, replays and bad input."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from core.polling import poll_account
from core.tables import Customer, Identity, Message, Ticket
from plugins.ebay.tables import EbayConversation, EbayDeletion, EbayOrder
from tests.helpers import client_for
from tests.plugins.ebay.conftest import ENDPOINT, VERIFICATION_TOKEN, ebay_config
from tests.plugins.ebay.fake_ebay import make_order
from tests.plugins.ebay.test_messages import account, iso

VECTORS = json.loads(Path("/work/shared/corpora/ebay/event-notification-test.json").read_text(encoding="utf-8"))
KID = "9936261a-7d7b-4621-a0f1-96ccb428af49"  # the kid inside every vector's signature header
PATH = "/ebay/account-deletion"


def body_of(name: str) -> bytes:
    # The JSON as eBay serialized it when signing (compact, keys in the documented order).
    return json.dumps(VECTORS[name]["message"], separators=(",", ":")).encode()


def serve_key(fake: Any, name: str) -> None:
    fake.public_keys[KID] = VECTORS[name]["response"]


async def seed_user(desk: Any, fake: Any, username: str) -> None:
    fake.orders.append(make_order("12-04444-44444", username, "110554444", updated=iso()))
    fake.add_conversation("conv-del", username, "110554444", "About: teapot", [(username, "Where is my order?", iso())])
    fake.orders.append(make_order("12-05555-55555", "another_buyer", "110555555", updated=iso()))
    fake.add_conversation("conv-keep", "another_buyer", None, "Hi", [("another_buyer", "Hello", iso())])
    await poll_account(desk, account(desk))


async def test_the_challenge_is_answered_with_the_documented_hash(ebay_desk: Any) -> None:
    async with client_for(ebay_desk) as client:
        response = await client.get(PATH, params={"challenge_code": "a8628072-3d33-45ee-9004-bee86830a22d"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    expected = hashlib.sha256(("a8628072-3d33-45ee-9004-bee86830a22d" + VERIFICATION_TOKEN + ENDPOINT).encode()).hexdigest()
    assert response.json() == {"challengeResponse": expected}
    async with client_for(ebay_desk) as client:
        assert (await client.get(PATH)).status_code == 400


async def test_without_configuration_the_endpoint_does_not_exist(make_desk: Any, fake: Any) -> None:
    def configure(config: dict[str, Any]) -> None:
        ebay_config(fake.url)(config)
        del config["plugins"]["ebay"]["verification_token"], config["plugins"]["ebay"]["deletion_endpoint"]

    desk = await make_desk(configure, run_jobs=False)
    async with client_for(desk) as client:
        assert (await client.get(PATH, params={"challenge_code": "x"})).status_code == 404


async def test_a_valid_notification_erases_the_user_and_a_replay_changes_nothing(ebay_desk: Any, fake: Any) -> None:
    await seed_user(ebay_desk, fake, "test_user")
    assert len(await Ticket.select(Ticket.id)) == 2
    serve_key(fake, "VALID")
    async with client_for(ebay_desk) as client:
        response = await client.post(PATH, content=body_of("VALID"),
                                     headers={"content-type": "application/json",
                                              "x-ebay-signature": VECTORS["VALID"]["signature"]})
    assert response.status_code == 204
    assert await Identity.select().where(Identity.handle == "test_user") == []
    assert await EbayOrder.select().where(EbayOrder.buyer_username == "test_user") == []
    assert await EbayConversation.select().where(EbayConversation.buyer_username == "test_user") == []
    remaining = await Ticket.select(Ticket.thread_key)
    assert [t["thread_key"] for t in remaining] == ["conv:conv-keep"]  # another buyer's data stays
    assert len(await EbayOrder.select(EbayOrder.id)) == 1 and len(await Message.select(Message.id)) == 1
    [receipt] = await EbayDeletion.select().output(load_json=True)
    assert receipt["summary"]["customers"] == 1 and receipt["summary"]["orders"] == 1
    assert "test_user" not in json.dumps(receipt, default=str)
    # the public key was fetched with an application token and is cached
    [key_call] = fake.calls("/commerce/notification/v1/public_key/")
    assert key_call["path"].endswith(KID)
    customers = len(await Customer.select(Customer.id))

    async with client_for(ebay_desk) as client:
        again = await client.post(PATH, content=body_of("VALID"),
                                  headers={"x-ebay-signature": VECTORS["VALID"]["signature"]})
    assert again.status_code == 204
    assert len(await EbayDeletion.select(EbayDeletion.id)) == 1 and len(await Customer.select(Customer.id)) == customers
    assert len(fake.calls("/commerce/notification/v1/public_key/")) == 1


@pytest.mark.parametrize("name", ["INVALID", "SIGNATURE_MISMATCH"])
async def test_a_signature_that_does_not_verify_is_412_and_nothing_is_erased(ebay_desk: Any, fake: Any, name: str) -> None:
    await seed_user(ebay_desk, fake, "test_user")
    serve_key(fake, name)
    async with client_for(ebay_desk) as client:
        response = await client.post(PATH, content=body_of(name), headers={"x-ebay-signature": VECTORS[name]["signature"]})
    assert response.status_code == 412 and response.json()["error"]["code"] == "signature_invalid"
    assert await Identity.select().where(Identity.handle == "test_user") != []
    assert await EbayDeletion.select() == []


async def test_a_tampered_body_is_412(ebay_desk: Any, fake: Any) -> None:
    await seed_user(ebay_desk, fake, "test_user")
    serve_key(fake, "VALID")
    tampered = body_of("VALID").replace(b'"username":"test_user"', b'"username":"another_buyer"')
    async with client_for(ebay_desk) as client:
        response = await client.post(PATH, content=tampered, headers={"x-ebay-signature": VECTORS["VALID"]["signature"]})
        missing = await client.post(PATH, content=body_of("VALID"))
        garbage = await client.post(PATH, content=body_of("VALID"), headers={"x-ebay-signature": "not base64 at all!"})
    assert (response.status_code, missing.status_code, garbage.status_code) == (412, 412, 412)
    assert await Identity.select().where(Identity.handle == "another_buyer") != []
    assert await EbayDeletion.select() == []


async def test_a_public_key_ebay_cannot_serve_is_500_so_ebay_retries(ebay_desk: Any, fake: Any) -> None:
    await seed_user(ebay_desk, fake, "test_user")
    fake.public_keys[KID] = VECTORS["ERROR"]["response"]  # None: eBay's Notification API errors
    async with client_for(ebay_desk) as client:
        response = await client.post(PATH, content=body_of("ERROR"), headers={"x-ebay-signature": VECTORS["ERROR"]["signature"]})
    assert response.status_code == 500 and response.json()["error"]["code"] == "public_key_unavailable"
    assert await Identity.select().where(Identity.handle == "test_user") != []
    # once eBay serves the key, the retry goes through
    serve_key(fake, "VALID")
    async with client_for(ebay_desk) as client:
        response = await client.post(PATH, content=body_of("ERROR"), headers={"x-ebay-signature": VECTORS["ERROR"]["signature"]})
    assert response.status_code == 204
    assert await Identity.select().where(Identity.handle == "test_user") == []


async def test_an_oversized_notification_is_413(ebay_desk: Any, fake: Any) -> None:
    async with client_for(ebay_desk) as client:
        response = await client.post(PATH, content=b"{" + b" " * (70 * 1024) + b"}",
                                     headers={"x-ebay-signature": VECTORS["VALID"]["signature"]})
    assert response.status_code == 413
    assert fake.calls("/commerce/notification/v1/public_key/") == []


async def test_the_user_id_alone_is_enough_to_erase(ebay_desk: Any, fake: Any) -> None:
    """eBay replaces user names with immutable user ids for some developers: either one matches."""
    from plugins.ebay.deletion import erase

    await seed_user(ebay_desk, fake, "ma8vp1jySJC")
    summary = await erase(ebay_desk, "n-1", None, "ma8vp1jySJC")
    assert summary and summary["customers"] == 1 and summary["orders"] == 1
    assert await erase(ebay_desk, "n-1", None, "ma8vp1jySJC") is None


async def test_a_wrong_typed_field_is_a_400_naming_it_and_nothing_is_erased(ebay_desk: Any, fake: Any) -> None:
    """Issue 16: `data` or `metadata` of the wrong type crashed the handler; now a clear 400."""
    from tests.plugins.ebay.signing import NotificationSigner

    await seed_user(ebay_desk, fake, "test_user")
    signer = NotificationSigner()
    signer.serve(fake)
    good = VECTORS["VALID"]["message"]
    cases = {
        "$.notification.data": {**good, "notification": {**good["notification"], "data": "test_user"}},
        "$.metadata": {**good, "metadata": "MARKETPLACE_ACCOUNT_DELETION"},
        "$.notification.notificationId": {**good, "notification": {**good["notification"], "notificationId": {"a": 1}}},
        "$.username": {**good, "notification": {**good["notification"], "data": {"username": ["test_user"]}}},
        "$.notification": {**good, "notification": None},
    }
    async with client_for(ebay_desk) as client:
        for where, message in cases.items():
            body = json.dumps(message).encode()
            response = await client.post(PATH, content=body, headers=signer.headers(body))
            assert response.status_code == 400, (where, response.text)
            assert where in response.json()["error"]["message"], response.json()
        assert await EbayDeletion.select() == [] and await Identity.select().where(Identity.handle == "test_user") != []
        other_topic = json.dumps({**good, "metadata": {"topic": "ITEM_SOLD"}, "notification": {
            "notificationId": "n-2", "data": [1, 2]}}).encode()
        assert (await client.post(PATH, content=other_topic, headers=signer.headers(other_topic))).status_code == 204
        body = json.dumps(good).encode()
        assert (await client.post(PATH, content=body, headers=signer.headers(body))).status_code == 204
    assert await Identity.select().where(Identity.handle == "test_user") == []
