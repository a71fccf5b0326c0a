"""The scaled desk as real processes: `relaydesk serve --workers 2` and `relaydesk worker`.

/metrics is the desk's total whichever web process answers (the web processes share a
multiprocess folder; the worker's deliveries arrive with its heartbeat), /ready sees the worker,
and SIGTERM stops `serve` within 10 s even with a live (SSE) stream open, closing the stream."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import httpx

from core import db
from core.auth import create_token, hash_password
from core.migrate import migrate
from core.tables import Agent
from tests.conftest import API_SECRET, LOOPBACK, wait_for
from tests.core.test_worker_crash import write_config
from tests.helpers import message, signed
from tests.services import free_port
from tests.web.inbox_helpers import csrf_from

ROOT = Path(__file__).resolve().parents[2]


def metric(text: str, name: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


async def _prepare(url: str) -> str:
    await db.connect(url)
    try:
        await migrate()
        rows = await Agent.insert(Agent(name="Eve", email="eve@example.com", role="agent", languages=["en"],
                                        password_hash=hash_password("pw"), availability="online")).returning(Agent.id)
        return await create_token(rows[0]["id"], "test")
    finally:
        await db.disconnect()


def _start(args: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "core.cli", *args], cwd=ROOT, stdout=log.open("wb"),
                            stderr=subprocess.STDOUT, env={**os.environ, "RELAYDESK_TEST_API_SECRET": API_SECRET})


async def test_two_web_processes_and_a_worker_report_desk_totals_and_stop_in_time(tmp_path, receiver, redis_url):
    database = f"sqlite:///{tmp_path / 'desk.db'}"
    token = await _prepare(database)
    config_path = tmp_path / "plugins.toml"
    write_config(config_path, {
        "relaydesk": {"database": database, "redis": redis_url, "data_dir": str(tmp_path / "data"),
                      "queue_name": f"rd-test-{uuid.uuid4().hex[:8]}", "worker_heartbeat_timeout_seconds": 20.0,
                      "outbound_allowlist": LOOPBACK},
        "plugins": {"enabled": ["api_channel"], "api_channel": {"accounts": {"main": {
            "secret": {"env": "RELAYDESK_TEST_API_SECRET"}, "callback_url": receiver.url}}}},
    })
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve = _start(["serve", "-c", str(config_path), "--port", str(port), "--workers", "2", "--no-access-log"],
                   tmp_path / "serve.log")
    worker = _start(["worker", "-c", str(config_path)], tmp_path / "worker.log")
    try:
        async def ready():
            try:
                async with httpx.AsyncClient(timeout=3) as client:
                    response = await client.get(base + "/ready")
            except httpx.HTTPError:
                return None
            return response if response.status_code == 200 else None

        try:
            answer = await wait_for(ready, timeout=60, interval=0.3)
        except AssertionError:
            raise AssertionError((tmp_path / "serve.log").read_text()[-2000:]
                                 + (tmp_path / "worker.log").read_text()[-2000:]) from None
        assert answer.json()["checks"] == {"database": "ok", "redis": "ok", "worker": "ok"}

        # Six webhooks and six scrapes, each on a new connection, so both web processes take some.
        ticket_id = None
        for i in range(6):
            body, headers = signed({"messages": [message(f"m{i}", sender=f"c{i}")], "statuses": []})
            async with httpx.AsyncClient(base_url=base, timeout=10) as client:
                response = await client.post("/hooks/api_channel/main", content=body, headers=headers)
            assert response.status_code == 200, response.text
            ticket_id = response.json()["messages"][0]["ticket_id"]
        totals = []
        for _ in range(6):
            async with httpx.AsyncClient(base_url=base, timeout=10) as client:
                scrape = (await client.get("/metrics")).text
            totals.append(metric(scrape, 'relaydesk_messages_ingested_total{plugin="api_channel"}'))
        assert totals == [6.0] * 6

        # A reply goes out through the worker; its delivery shows on every web process's /metrics.
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            reply = await client.post(f"/api/v1/tickets/{ticket_id}/reply", json={"text": "On its way"},
                                      headers={"authorization": f"Bearer {token}"})
        assert reply.status_code == 202, reply.text

        async def delivered_on_metrics():
            async with httpx.AsyncClient(base_url=base, timeout=10) as client:
                scrape = (await client.get("/metrics")).text
            return scrape if metric(scrape, 'relaydesk_deliveries_total{outcome="sent"}') == 1.0 else None

        scrape = await wait_for(delivered_on_metrics, timeout=20, interval=0.5)
        assert [r.json()["text"] for r in receiver.requests] == ["On its way"]
        assert metric(scrape, "relaydesk_workers_alive") == 1.0
        assert metric(scrape, "relaydesk_outbox_pending") == 0.0
        assert metric(scrape, 'relaydesk_job_seconds_count{job="deliver",outcome="ok"}') == 1.0

        # A signed-in agent's live stream is open when serve is told to stop.
        async with httpx.AsyncClient(base_url=base, timeout=30) as browser:
            login = await browser.get("/login")
            signed_in = await browser.post("/login", data={"email": "eve@example.com", "password": "pw",
                                                           "_csrf_token": csrf_from(login.text), "next": "/inbox"})
            assert signed_in.status_code in (200, 302, 303)
            async with browser.stream("GET", "/inbox/live") as stream:
                lines = stream.aiter_lines()
                assert (await asyncio.wait_for(lines.__anext__(), 10)).startswith(":")
                serve.send_signal(signal.SIGTERM)
                stop_sent = asyncio.get_running_loop().time()
                try:  # serve closes the stream (the browser's EventSource then reconnects elsewhere)
                    async for _ in lines:
                        pass
                except httpx.RemoteProtocolError:
                    pass
        left = 10 - (asyncio.get_running_loop().time() - stop_sent)
        await wait_for(lambda: serve.poll() is not None, timeout=left)  # within 10 s of SIGTERM
        assert serve.returncode == 0, (tmp_path / "serve.log").read_text()[-2000:]
        worker.send_signal(signal.SIGTERM)
        await wait_for(lambda: worker.poll() is not None, timeout=10)
        assert worker.returncode == 0
    finally:
        for process in (serve, worker):
            if process.poll() is None:
                process.kill()
