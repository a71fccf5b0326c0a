"""The newcomer's path, with real processes: init, start, post a message through the API channel,
see the ticket through the API, reply, and see the reply arrive at the other end — embedded (SQLite,
jobs in-process) and scaled (PostgreSQL, arq worker on Redis)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from plugins.api_channel import signing
from tests.conftest import _create_pg_database, _drop_pg_database
from tests.conftest import REDIS_URL
from tests.loopback import LoopbackServer

ROOT = Path(__file__).resolve().parents[2]
RELAYDESK = [sys.executable, "-m", "core.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(RELAYDESK + args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def wait_http(url: str, timeout: float = 30) -> None:
    end = time.time() + timeout
    while time.time() < end:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not come up")


def newcomer_flow(tmp_path: Path, receiver, database: str, redis: str | None) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAYDESK_")}
    env.update({"RELAYDESK_CONFIG": str(tmp_path / "plugins.toml"), "COLUMNS": "200"})
    out = run(["init", "--database", database, "--admin-password", "pw-123456"], tmp_path, env)
    token = re.search(r"API token: (rd_\S+)", out).group(1)
    config = (tmp_path / "plugins.toml").read_text()
    config = config.replace('# callback_url = "https://your-system.example/relaydesk-replies"',
                            f'callback_url = "{receiver.url}/replies"')
    config = config.replace("[relaydesk]\n", '[relaydesk]\noutbound_allowlist = ["127.0.0.1"]\n', 1)
    if redis:
        config = config.replace('# redis = "redis://127.0.0.1:6379/0"', f'redis = "{redis}"\nqueue_name = "e2e-{os.getpid()}"')
    (tmp_path / "plugins.toml").write_text(config)
    secret = dict(line.split("=", 1) for line in (tmp_path / "relaydesk.env").read_text().split())[
        "RELAYDESK_API_CHANNEL_SECRET"]

    port = free_port()
    procs = [subprocess.Popen(RELAYDESK + ["serve", "--port", str(port)], cwd=tmp_path, env=env,
                              stdout=open(tmp_path / "serve.log", "w"), stderr=subprocess.STDOUT)]
    if redis:
        procs.append(subprocess.Popen(RELAYDESK + ["worker"], cwd=tmp_path, env=env,
                                      stdout=open(tmp_path / "worker.log", "w"), stderr=subprocess.STDOUT))
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/ready")
        body = json.dumps({"messages": [{"id": "ext-1", "sender": {"id": "buyer-9", "name": "Anna"},
                                         "text": "Wo ist meine Bestellung?"}]}).encode()
        posted = httpx.post(f"{base}/hooks/api_channel/default", content=body,
                            headers={"x-relaydesk-signature": signing.sign(secret, body)})
        assert posted.status_code == 200, posted.text
        headers = {"authorization": f"Bearer {token}"}
        tickets = httpx.get(f"{base}/api/v1/tickets", headers=headers).json()["items"]
        assert [t["subject"] for t in tickets] == ["Wo ist meine Bestellung?"]
        reply = httpx.post(f"{base}/api/v1/tickets/{tickets[0]['id']}/reply", json={"text": "Sie ist unterwegs."},
                           headers=headers)
        assert reply.status_code == 202
        end = time.time() + 30
        while not receiver.requests and time.time() < end:
            time.sleep(0.1)
        [arrived] = receiver.requests
        assert arrived.path == "/replies" and arrived.json()["text"] == "Sie ist unterwegs."
        problem = signing.verify(secret, arrived.body, arrived.headers["x-relaydesk-signature"])
        assert problem is None, problem
        end = time.time() + 10
        while time.time() < end:
            messages = httpx.get(f"{base}/api/v1/tickets/{tickets[0]['id']}/messages", headers=headers).json()["items"]
            if messages[-1]["delivery_status"] == "sent":
                break
            time.sleep(0.1)
        assert messages[-1]["delivery_status"] == "sent"
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def far_end():
    """This test's own far end (tests/e2e's `receiver` is shared by a whole module)."""
    server = LoopbackServer()
    server.start()
    yield server
    server.stop()


def test_newcomer_embedded_sqlite(tmp_path, far_end):
    newcomer_flow(tmp_path, far_end, f"sqlite:///{tmp_path / 'desk.db'}", None)


@pytest.mark.asyncio(loop_scope="session")
async def test_newcomer_postgres_with_arq_worker(tmp_path, far_end, redis_url):
    url = await _create_pg_database()
    try:
        newcomer_flow(tmp_path, far_end, url, REDIS_URL)
    finally:
        await _drop_pg_database(url)
