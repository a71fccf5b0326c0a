"""The Redis live bus: events reach other processes' subscribers in order, and none is left
behind when the process stops (it sends them pipelined, in the background)."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from redis.asyncio import Redis

from core.events import RedisLiveBus

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_events_arrive_in_order_and_close_sends_what_is_pending(redis_url):
    channel = f"rd-test-live-{uuid.uuid4().hex[:8]}"
    listener = Redis.from_url(redis_url)
    pubsub = listener.pubsub()
    await pubsub.subscribe(channel)
    await pubsub.get_message(timeout=1)  # the subscribe confirmation
    bus = RedisLiveBus(redis_url, channel)
    local = bus.subscribe()
    try:
        for i in range(120):
            await bus.publish({"name": "created", "ticket_id": i})
        await bus.close()  # returns only once everything queued has been sent
        got, messages = [], 0
        while len(got) < 120:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5)
            assert message is not None, f"only {len(got)} of 120 events arrived"
            messages += 1
            got += [event["ticket_id"] for event in json.loads(message["data"])]
        assert got == list(range(120))
        assert messages < 120  # events published while a send was under way went together
        assert local.qsize() == 120  # this process's own subscribers heard them at once
    finally:
        await pubsub.aclose()
        await listener.aclose()


async def test_a_dead_redis_does_not_fail_the_publisher(caplog):
    bus = RedisLiveBus("redis://127.0.0.1:1/0", "nowhere")
    await bus.publish({"name": "created", "ticket_id": 1})
    await asyncio.wait_for(bus.close(), 30)
    assert "Redis (live events) is unreachable" in caplog.text
