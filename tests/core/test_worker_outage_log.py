"""A PostgreSQL outage in the log of a real `relaydesk worker`: a few lines that say what is down and
when it is back — not a traceback per sweeper run (arq's "! sweep_outbox failed") and per pool
reconnection attempt (asyncpg's "Failed to restore the pool connection floor")."""

from __future__ import annotations

import asyncio
import signal

import pytest

from core.tables import WorkerHeartbeat
from tests.conftest import PG_ADMIN_URL, allow_loopback, wait_for
from tests.core.test_worker_faults import start_worker
from tests.services import TcpProxy

pytestmark = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)


async def test_a_database_outage_is_logged_in_a_few_lines_without_tracebacks(make_desk, redis_url, db_url, tmp_path):
    host, port = PG_ADMIN_URL.split("@", 1)[1].split("/", 1)[0].split(":")
    proxy = TcpProxy(host, int(port)).start()
    config: dict = {}

    def configure(c):
        # sweepers every second and a heartbeat every half second: many chances to flood the log
        c["relaydesk"].update(redis=redis_url, database=proxy.url_for(db_url), sweep_interval_seconds=1.0,
                              worker_heartbeat_timeout_seconds=2.0)
        allow_loopback(c)
        config.update(c)

    await make_desk(configure)
    proc, log = start_worker(config, tmp_path)
    try:
        async def running():
            try:
                return await WorkerHeartbeat.select().where(WorkerHeartbeat.state == "running").first()
            except Exception:  # noqa: BLE001 - the worker may still be starting
                return None

        await wait_for(running, timeout=30)
        await asyncio.sleep(1.5)
        proxy.cut()
        await asyncio.sleep(6)
        proxy.resume()
        await asyncio.sleep(4)
        assert proc.poll() is None, log.read_text()[-3000:]
        proc.send_signal(signal.SIGTERM)
        await wait_for(lambda: proc.poll() is not None, timeout=15)
        text = log.read_text()
        assert "Traceback" not in text, text[-4000:]
        assert " failed, " not in text, text[-4000:]  # arq's line for a failed job
        outage_lines = [line for line in text.splitlines() if "unreachable" in line or "pool connection" in line]
        assert 1 <= len(outage_lines) <= 6, "\n".join(outage_lines)
        assert "reachable again" in text
    finally:
        if proc.poll() is None:
            proc.kill()
        proxy.cut()
