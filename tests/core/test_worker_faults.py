"""The worker as a real process: it rides out a Redis restart by itself (replies queued before and
during the outage go out once Redis is back, no manual step) and stops gracefully on SIGTERM,
handing back a delivery still in flight so another worker sends it at once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading

import pytest
from pathlib import Path

from core import outbound
from core.inbound import ingest
from core.tables import Message, Outbox, WorkerHeartbeat
from core.types import InboundMessage
from core.worker import WorkerRunner
from tests.conftest import API_SECRET, allow_loopback, wait_for
from tests.core.test_worker_crash import write_config
from tests.loopback import Scripted
from tests.services import PrivateRedis

ROOT = Path(__file__).resolve().parents[2]
# The faults are Redis's and the process's, not the database's: run once, on the scaled
# deployment's PostgreSQL.
pytestmark = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)


def start_worker(config: dict, folder: Path, name: str = "worker") -> tuple[subprocess.Popen, Path]:
    path = folder / f"{name}.toml"
    write_config(path, config)
    log = folder / f"{name}.log"
    proc = subprocess.Popen([sys.executable, "-m", "core.cli", "worker", "-c", str(path)], cwd=ROOT,
                            env={**os.environ, "RELAYDESK_TEST_API_SECRET": API_SECRET},
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)
    return proc, log


async def stopped_within(proc: subprocess.Popen, seconds: float) -> int:
    await wait_for(lambda: proc.poll() is not None, timeout=seconds)
    return proc.returncode


async def status(message_id: int) -> str:
    row = await Message.select(Message.delivery_status).where(Message.id == message_id).first()
    return row["delivery_status"]


async def test_worker_rides_out_a_redis_restart_then_stops_on_sigterm(make_desk, receiver, tmp_path):
    redis = PrivateRedis(tmp_path).start()
    config: dict = {}

    def configure(c):
        c["relaydesk"].update(redis=redis.url)
        c["plugins"]["api_channel"]["accounts"]["main"]["callback_url"] = receiver.url
        allow_loopback(c)
        config.update(c)

    web = await make_desk(configure)
    account = web.registry.account("api_channel", "main")
    [inbound] = await ingest(web, account, [InboundMessage(external_id="in-1", sender_handle="c-1", text="Hi")])
    proc, log = start_worker(config, tmp_path)
    try:
        first = await outbound.reply(web, inbound.ticket_id, author_id=None, text="before the outage")
        await wait_for(lambda: _is(status(first["id"]), "sent"), timeout=20)
        # Queued before the outage and still waiting: the receiver is busy and asks for 3 s.
        receiver.script = [Scripted(status=503, body={"error": "busy"}, headers={"retry-after": "3"})]
        waiting = await outbound.reply(web, inbound.ticket_id, author_id=None, text="queued before")
        await wait_for(lambda: len(receiver.requests) == 2)

        redis.kill()  # Redis keeps nothing on disk: the queued retry is gone with it
        during = await outbound.reply(web, inbound.ticket_id, author_id=None, text="queued during")
        assert during["delivery_status"] == "queued"  # the agent's reply is taken, not refused
        heartbeat = await wait_for(lambda: _worker_state("waiting for redis"), timeout=10)
        await asyncio.sleep(5)
        assert proc.poll() is None, log.read_text()[-3000:]

        redis.start()
        try:
            await wait_for(lambda: _all_sent([waiting["id"], during["id"]]), timeout=10)
        except AssertionError:
            raise AssertionError("not delivered within 10 s of Redis returning:\n" + log.read_text()[-3000:]) from None
        texts = [r.json()["text"] for r in receiver.requests]
        assert texts.count("queued before") == 2 and texts.count("queued during") == 1
        assert proc.poll() is None
        await wait_for(lambda: _worker_state("running"), timeout=10)

        proc.send_signal(signal.SIGTERM)
        assert await stopped_within(proc, 10) == 0, log.read_text()[-3000:]
        row = await WorkerHeartbeat.select().where(WorkerHeartbeat.name == heartbeat["name"]).first()
        assert row["state"] == "stopped"
        text = log.read_text()
        assert text.count("Redis is unreachable") == 1 and "Redis is reachable again" in text
    finally:
        if proc.poll() is None:
            proc.kill()
        redis.kill()


async def test_sigterm_hands_back_a_delivery_in_flight(make_desk, receiver, redis_url, tmp_path):
    release = threading.Event()
    config: dict = {}

    def configure(c):
        # The default 60 s lease: only a handed-back row can go out again within the test.
        c["relaydesk"].update(redis=redis_url, worker_stop_grace_seconds=1.0)
        c["plugins"]["api_channel"]["accounts"]["main"]["callback_url"] = receiver.url
        allow_loopback(c)
        config.update(c)

    receiver.script = [Scripted(action=lambda _request: not release.wait(20))]  # hangs, then drops
    web = await make_desk(configure)
    account = web.registry.account("api_channel", "main")
    [inbound] = await ingest(web, account, [InboundMessage(external_id="in-1", sender_handle="c-1", text="Hi")])
    message = await outbound.reply(web, inbound.ticket_id, author_id=None, text="in flight")
    proc, log = start_worker(config, tmp_path)
    second = None
    try:
        await wait_for(lambda: len(receiver.requests) == 1, timeout=20)  # the worker is mid-send
        proc.send_signal(signal.SIGTERM)
        assert await stopped_within(proc, 10) == 0, log.read_text()[-3000:]
        row = await Outbox.select(Outbox.status, Outbox.lease_until).where(Outbox.message == message["id"]).first()
        assert row == {"status": "pending", "lease_until": None}  # handed back, not held for 60 s

        # Another worker (in this process) takes it at once.
        second = WorkerRunner(await make_desk(configure, run_jobs=False))
        running = asyncio.create_task(second.run(handle_signals=False))
        await wait_for(lambda: _is(status(message["id"]), "sent"), timeout=20)
        first, again = receiver.requests
        assert first.headers["idempotency-key"] == again.headers["idempotency-key"]
    finally:
        release.set()
        if second is not None:
            second.stop()
            await running
        if proc.poll() is None:
            proc.kill()


async def _is(value, expected) -> bool:
    return (await value) == expected


async def _sent_once_reachable(message_id: int) -> bool:
    """The test's own reads share the pool: one may meet a connection the outage broke (the desk's
    requests answer 503 then, its jobs retry); such a read counts as "not yet"."""
    try:
        return await status(message_id) == "sent"
    except Exception as exc:  # noqa: BLE001
        from core.outage import unavailable_dependency

        if unavailable_dependency(exc):
            return False
        raise


async def _all_sent(ids: list[int]) -> bool:
    rows = await Message.select(Message.delivery_status).where(Message.id.is_in(ids))
    return len(rows) == len(ids) and all(r["delivery_status"] == "sent" for r in rows)


async def _worker_state(state: str) -> dict | None:
    return await WorkerHeartbeat.select().where(WorkerHeartbeat.state == state).first()


async def test_a_delivery_due_during_a_database_outage_goes_out_after_it(make_desk, receiver, redis_url, db_url):
    from tests.conftest import PG_ADMIN_URL
    from tests.services import TcpProxy

    host, port = PG_ADMIN_URL.split("@", 1)[1].split("/", 1)[0].split(":")
    proxy = TcpProxy(host, int(port)).start()

    def configure(c):
        c["relaydesk"].update(redis=redis_url, database=proxy.url_for(db_url))
        c["plugins"]["api_channel"]["accounts"]["main"]["callback_url"] = receiver.url
        allow_loopback(c)

    web = await make_desk(configure)
    runner = WorkerRunner(await make_desk(configure, run_jobs=False))
    running = asyncio.create_task(runner.run(handle_signals=False))
    try:
        account = web.registry.account("api_channel", "main")
        [inbound] = await ingest(web, account, [InboundMessage(external_id="in-1", sender_handle="c-1", text="Hi")])
        # The receiver asks for 2 s; the retry falls due while PostgreSQL is away.
        receiver.script = [Scripted(status=503, body={"error": "busy"}, headers={"retry-after": "2"})]
        message = await outbound.reply(web, inbound.ticket_id, author_id=None, text="due during the outage")
        await wait_for(lambda: len(receiver.requests) == 1, timeout=20)
        proxy.cut()
        await asyncio.sleep(3)
        assert not running.done()  # the worker is still there
        proxy.resume()
        await wait_for(lambda: _sent_once_reachable(message["id"]), timeout=15)
        assert [r.json()["text"] for r in receiver.requests] == ["due during the outage"] * 2
    finally:
        runner.stop()
        await running
