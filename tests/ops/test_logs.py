"""Logs an operator can use: an outage is one line with a count, not a line per event; the worker
says when it starts and stops and which job failed, as JSON when asked."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import socket
import subprocess
import sys
import tomllib
import uuid
from pathlib import Path

import pytest

from core.events import RedisLiveBus
from tests.ops.test_startup_errors import REDIS, ROOT, write_desk

pytestmark = pytest.mark.asyncio(loop_scope="session")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_a_redis_outage_is_logged_once_with_a_count(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="relaydesk.events")
    port = free_port()
    bus = RedisLiveBus(f"redis://127.0.0.1:{port}/0", "ops-live")
    for i in range(200):  # Redis is not there: the events go out in several failing batches
        await bus.publish({"name": "created", "ticket_id": i})
        if i % 20 == 0:
            await asyncio.sleep(0.05)
    await bus.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "relaydesk.events"]
    assert len(lines) == 1, lines  # one line for the whole outage so far, not one per event or batch
    assert lines[0].startswith("Redis (live events) is unreachable (live updates wait; the database has every "
                               "change): ConnectionError")

    redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                await asyncio.sleep(0.05)
        await bus.publish({"name": "created", "ticket_id": 200})
        await bus.close()
    finally:
        redis.terminate()
        redis.wait()
    lines = [r.getMessage() for r in caplog.records if r.name == "relaydesk.events"]
    assert len(lines) == 2, lines
    back = re.fullmatch(r"Redis \(live events\) is reachable again after [\d.]+ s \((\d+) failed attempt\(s\) "
                        r"while it was down\)", lines[1])
    assert back and int(back.group(1)) > 1  # several sends failed, and were counted rather than logged


async def test_the_worker_logs_start_failed_jobs_and_stop_as_json(tmp_path):
    from arq import create_pool

    from core.jobs import redis_settings

    config = write_desk(tmp_path / "desk", redis=REDIS)
    queue = tomllib.loads(config.read_text())["relaydesk"]["queue_name"]  # this test's own queue
    env = {**os.environ, "OPS_TEST_SECRET": "s3cret"}
    migrate = subprocess.run([sys.executable, "-m", "core.cli", "migrate", "-c", str(config)], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
    assert migrate.returncode == 0, migrate.stderr
    pool = await create_pool(redis_settings(REDIS), default_queue_name=queue)
    try:
        job_id = f"{queue}:broken-{uuid.uuid4().hex[:6]}"
        await pool.enqueue_job("deliver", _job_id=job_id)  # no outbox id: the job raises TypeError
    finally:
        await pool.aclose()
    worker = subprocess.run([sys.executable, "-m", "core.cli", "worker", "--burst", "--log-format", "json",
                             "-c", str(config)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert worker.returncode == 0, worker.stderr
    lines = [json.loads(line) for line in worker.stderr.splitlines() if line.strip()]  # every line is JSON
    messages = [line["message"] for line in lines]
    assert re.match(r"worker .*started.* queue '?" + queue, messages[0]), messages[:3]
    failed = [line for line in lines if "failed" in line["message"] and job_id in line["message"]]
    assert len(failed) == 1 and failed[0]["level"] == "error" and "TypeError" in failed[0]["error"]
    assert "Traceback" in failed[0]["traceback"]
    stops = [m for m in messages if re.match(r"worker .*stopped: \d+ job\(s\) done, \d+ failed$", m)]
    assert stops and messages.index(stops[0]) > messages.index(failed[0]["message"]), messages
    # the count is every job that raised: ours, and any periodic job arq reported as failed
    raised = [line for line in lines if line["logger"] == "arq.worker" and " failed, " in line["message"]]
    assert all(stop.endswith(f", {len(raised)} failed") for stop in stops), messages
