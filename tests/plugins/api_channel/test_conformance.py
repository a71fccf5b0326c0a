"""The API channel passes the channel contract (relaydesk_testing.conformance)."""

from __future__ import annotations

from plugins.api_channel import signing
from relaydesk_testing import API_SECRET, Scripted, allow_loopback, enable
from relaydesk_testing.conformance import ChannelCase, check_channel


def api_channel_case(receiver) -> ChannelCase:
    def configure(config):
        enable(config, "api_channel", {"main": {"secret": {"env": "RELAYDESK_TEST_API_SECRET"},
                                                 "callback_url": receiver.url + "/replies"}})
        allow_loopback(config)

    return ChannelCase(
        plugin="api_channel",
        configure=configure,
        inbound=lambda mid, sender, text: {"messages": [{"id": mid, "sender": {"id": sender}, "text": text}]},
        sign=lambda body: {signing.HEADER: signing.sign(API_SECRET, body)},
        sends=lambda: [r for r in receiver.requests if r.path == "/replies"],
        fail_next_send=lambda retryable: receiver.answer(
            Scripted.error(503) if retryable else Scripted.error(422, {"error": "unknown recipient"})),
        status=lambda external_id, status, _recipient: {"statuses": [{"id": external_id, "status": status}]},
    )


async def test_api_channel_passes_the_channel_contract(make_desk, receiver):
    await check_channel(api_channel_case(receiver), make_desk)
