"""eBay's member messages pass the polled-channel contract (relaydesk_testing.conformance) against the
loopback eBay: polled through the core, replies through the Message API's sendMessage."""

from __future__ import annotations

from typing import Any

from relaydesk_testing import allow_loopback
from relaydesk_testing.conformance import PolledChannelCase, check_polled_channel
from tests.plugins.ebay.conftest import ebay_config
from tests.plugins.ebay.fake_ebay import TOO_MANY, FakeEbay

SEND = "/commerce/message/v1/send_message"
BUYER = "conformance_buyer"


def ebay_case(fake: FakeEbay) -> PolledChannelCase:
    def configure(config: dict[str, Any]) -> None:
        ebay_config(fake.url)(config)
        allow_loopback(config)

    def add_inbound(key: str, sender: str, text: str) -> dict[str, Any]:
        conversation = f"conv-{sender}"
        with fake.lock:
            if conversation not in fake.conversations:
                fake.add_conversation(conversation, sender, "110552233", "About: Ceramic teapot", [])
            return fake.add_message(conversation, sender, text)

    def fail_next_send(retryable: bool) -> None:
        if retryable:  # eBay's call limit: "Too many requests", retry later
            fake.fail(SEND, 429, TOO_MANY, {"Retry-After": "300"})  # past max_wait: left to the outbox
        else:  # documented as final: the buyer cannot be messaged
            fake.fail(SEND, 400, {"errors": [{"errorId": 355012, "domain": "API_MESSAGE", "category": "REQUEST",
                                              "message": "The recipient cannot receive messages from you."}]})

    return PolledChannelCase(
        plugin="ebay", configure=configure, sender=BUYER, add_inbound=add_inbound,
        sends=lambda: fake.calls(SEND), fail_next_send=fail_next_send,
    )


async def test_ebay_passes_the_polled_channel_contract(make_desk: Any, fake: FakeEbay) -> None:
    await check_polled_channel(ebay_case(fake), make_desk)
