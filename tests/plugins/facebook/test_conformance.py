"""Messenger and Instagram pass the channel contract (relaydesk_testing.conformance) against the
loopback Graph API."""

from __future__ import annotations

import time

import pytest

from relaydesk_testing import allow_loopback, hmac_sha256_signer
from relaydesk_testing.conformance import ChannelCase, check_channel
from tests.plugins.facebook.fb_helpers import APP_SECRET, IG_ID, IGSID, PAGE_ID, PSID, facebook, incoming, page_payload
from tests.plugins.whatsapp.graph_loopback import Failure


def meta_case(graph, account: str, node: str, obj: str, sender: str) -> ChannelCase:
    def configure(config):
        facebook(graph)(config)
        allow_loopback(config)

    def fail_next_send(retryable: bool) -> None:
        if retryable:  # application rate limit: retry later
            graph.failures.append(Failure("/messages", 400, 613, "Calls to this api have exceeded the rate limit."))
        else:  # the person cannot be reached: final
            graph.failures.append(Failure("/messages", 400, 551, "This person isn't available right now."))

    def status(mid: str, state: str, recipient: str) -> dict:
        now = int(time.time() * 1000)
        receipt = {"read": {"watermark": now}} if state == "read" else {"delivery": {"mids": [mid], "watermark": now}}
        return page_payload([{"sender": {"id": recipient}, "recipient": {"id": node}, "timestamp": now, **receipt}],
                            node=node, obj=obj)

    return ChannelCase(
        plugin="facebook",
        account=account,
        configure=configure,
        sender=sender,
        inbound=lambda mid, who, text: page_payload(
            [incoming(mid, text, sender=who, node=node, ts=int(time.time() * 1000))], node=node, obj=obj),
        sign=hmac_sha256_signer(APP_SECRET),
        sends=graph.sends,
        fail_next_send=fail_next_send,
        status=status if obj == "page" else None,  # receipts: checked on the Messenger account
    )


@pytest.mark.parametrize("account, node, obj, sender", [("shop", PAGE_ID, "page", PSID),
                                                        ("insta", IG_ID, "instagram", IGSID)],
                         ids=["messenger", "instagram"])
async def test_messenger_and_instagram_pass_the_channel_contract(make_desk, graph, account, node, obj, sender):
    await check_channel(meta_case(graph, account, node, obj, sender), make_desk)
