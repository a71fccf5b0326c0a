"""The WhatsApp channel passes the channel contract (relaydesk_testing.conformance) against the
loopback Graph API."""

from __future__ import annotations

import time

from relaydesk_testing import allow_loopback, hmac_sha256_signer
from relaydesk_testing.conformance import ChannelCase, check_channel
from tests.plugins.whatsapp.graph_loopback import Failure
from tests.plugins.whatsapp.wa_helpers import APP_SECRET, envelope, text_message, whatsapp

WA_ID = "972987654321"


def whatsapp_case(graph) -> ChannelCase:
    def configure(config):
        whatsapp(graph)(config)
        allow_loopback(config)

    def fail_next_send(retryable: bool) -> None:
        if retryable:  # Cloud API throughput: documented as "retry later"
            graph.failures.append(Failure("/messages", 400, 130429, "(#130429) Rate limit hit"))
        else:  # not a WhatsApp user: final
            graph.failures.append(Failure("/messages", 400, 131026, "Message undeliverable",
                                          details="Recipient is not a valid WhatsApp user"))

    def status(wamid: str, state: str, recipient: str) -> dict:
        return envelope(statuses=[{"id": wamid, "status": state, "timestamp": str(int(time.time())),
                                   "recipient_id": recipient}])

    def media(mid: str, sender: str) -> dict:
        graph.add_media("media-conformance", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image/png")
        return envelope([{"from": sender, "id": mid, "timestamp": str(int(time.time())), "type": "image",
                          "image": {"id": "media-conformance", "mime_type": "image/png"}}], wa_id=sender)

    return ChannelCase(
        plugin="whatsapp",
        configure=configure,
        sender=WA_ID,
        inbound=lambda mid, sender, text: envelope([text_message(mid, text, wa_id=sender, ts=int(time.time()))],
                                                   wa_id=sender),
        sign=hmac_sha256_signer(APP_SECRET),
        sends=graph.sends,
        fail_next_send=fail_next_send,
        status=status,
        media=media,
    )


async def test_whatsapp_passes_the_channel_contract(make_desk, graph):
    await check_channel(whatsapp_case(graph), make_desk)
