"""A job taken by a worker that is then killed with kill -9 is run by another worker within
`job_handover_seconds`, not after arq's 40 s in-progress key runs out; a job whose worker is alive
is never run a second time, however long it takes (core.job_claims)."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
import uuid

import pytest

from core import outbound
from core.inbound import ingest
from core.tables import Message
from core.types import InboundMessage
from core.worker import WorkerRunner
from tests.conftest import allow_loopback, wait_for
from tests.core.test_worker_faults import start_worker
from tests.loopback import Scripted

pytestmark = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)


def handover_config(redis_url: str, receiver_url: str, handover: float, into: dict):
    queue = f"rd-test-handover-{uuid.uuid4().hex[:8]}"

    def configure(c):
        # The default 60 s delivery lease: within the test only arq's hand-over can run the job again.
        # Every desk of the test on one queue (make_desk gives each its own by default).
        c["relaydesk"].update(redis=redis_url, job_handover_seconds=handover, queue_name=queue)
        c["plugins"]["api_channel"]["accounts"]["main"].update(callback_url=receiver_url, timeout_seconds=30.0)
        allow_loopback(c)
        into.update(c)
    return configure


async def queued_reply(make_desk, configure) -> dict:
    web = await make_desk(configure)
    account = web.registry.account("api_channel", "main")
    [inbound] = await ingest(web, account, [InboundMessage(external_id="in-1", sender_handle="c-1", text="Hi")])
    return await outbound.reply(web, inbound.ticket_id, author_id=None, text="one reply, one run")


async def sent(message_id: int) -> bool:
    row = await Message.select(Message.delivery_status).where(Message.id == message_id).first()
    return row["delivery_status"] == "sent"


async def test_a_job_of_a_worker_killed_with_sigkill_runs_elsewhere_within_the_handover(
        make_desk, receiver, redis_url, tmp_path):
    release = threading.Event()
    config: dict = {}
    configure = handover_config(redis_url, receiver.url, 2.0, config)
    receiver.script = [Scripted(action=lambda _request: not release.wait(25))]  # hangs mid-send
    message = await queued_reply(make_desk, configure)
    proc, log = start_worker(config, tmp_path)
    second = running = None
    try:
        await wait_for(lambda: len(receiver.requests) == 1, timeout=30)  # the worker has taken the job
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(5)
        killed_at = time.monotonic()
        second = WorkerRunner(await make_desk(configure, run_jobs=False))
        running = asyncio.create_task(second.run(handle_signals=False))
        try:
            await wait_for(lambda: len(receiver.requests) == 2, timeout=12)
        except AssertionError:
            raise AssertionError("no other worker ran the dead worker's job within 12 s") from None
        took = time.monotonic() - killed_at
        assert took < 8, f"the job waited {took:.1f} s for another worker (handover 2 s)"
        await wait_for(lambda: sent(message["id"]), timeout=10)
        first, again = receiver.requests
        assert first.headers["idempotency-key"] == again.headers["idempotency-key"]
    finally:
        release.set()
        if second is not None:
            second.stop()
            await running
        if proc.poll() is None:
            proc.kill()


async def test_a_job_running_longer_than_the_handover_on_a_live_worker_runs_once(
        make_desk, receiver, redis_url, tmp_path):
    config: dict = {}
    configure = handover_config(redis_url, receiver.url, 1.0, config)
    # The send takes 5 s: five hand-over spans in which a second worker polls the queue.
    receiver.script = [Scripted(action=lambda _request: time.sleep(5) or False)]
    message = await queued_reply(make_desk, configure)
    proc, log = start_worker(config, tmp_path)
    second = running = None
    try:
        await wait_for(lambda: len(receiver.requests) == 1, timeout=30)
        second = WorkerRunner(await make_desk(configure, run_jobs=False))
        running = asyncio.create_task(second.run(handle_signals=False))
        await wait_for(lambda: sent(message["id"]), timeout=20)
        await asyncio.sleep(1.5)  # a second run would have reached the receiver by now
        assert len(receiver.requests) == 1, log.read_text()[-3000:]
        assert "claimed by another worker" not in log.read_text()
    finally:
        if second is not None:
            second.stop()
            await running
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(15)
