"""A worker killed between sending and recording the status: the reply is not lost, and the far end
sees the same idempotency key twice rather than two different messages."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from core import outbound
from core.inbound import ingest
from core.jobs import worker_settings
from core.tables import Message, Outbox
from core.types import InboundMessage
from tests.conftest import API_SECRET, allow_loopback, wait_for
from tests.loopback import Scripted

ROOT = Path(__file__).resolve().parents[2]


def toml_value(value) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


def write_config(path: Path, config: dict) -> None:
    lines = ["[relaydesk]"] + [f"{k} = {toml_value(v)}" for k, v in config["relaydesk"].items()]
    lines += ["[plugins]", f"enabled = {json.dumps(config['plugins']['enabled'])}"]
    for name, account in config["plugins"]["api_channel"]["accounts"].items():
        lines.append(f"[plugins.api_channel.accounts.{name}]")
        lines += [f"{k} = {toml_value(v)}" for k, v in account.items()]
    path.write_text("\n".join(lines) + "\n")


async def test_worker_killed_after_sending_loses_nothing(make_desk, receiver, redis_url, tmp_path):
    captured: dict = {}

    def configure(config):
        config["relaydesk"].update(redis=redis_url, delivery_lease_seconds=2.0, sweep_interval_seconds=1.0)
        config["plugins"]["api_channel"]["accounts"]["main"]["callback_url"] = receiver.url
        allow_loopback(config)
        captured.update(config)

    web = await make_desk(configure)
    account = web.registry.account("api_channel", "main")
    res = await ingest(web, account, [InboundMessage(external_id="in-1", sender_handle="cust-1", text="Hi")])
    message = await outbound.reply(web, res[0].ticket_id, author_id=None, text="Exactly once, please")

    config_path = tmp_path / "plugins.toml"
    write_config(config_path, captured)
    Path(captured["relaydesk"]["data_dir"]).mkdir(parents=True, exist_ok=True)  # `relaydesk worker` checks it
    proc = subprocess.Popen([sys.executable, "-m", "core.cli", "worker", "-c", str(config_path)], cwd=ROOT,
                            env={**os.environ, "RELAYDESK_TEST_API_SECRET": API_SECRET},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def kill_worker(_request) -> bool:
        os.kill(proc.pid, signal.SIGKILL)  # the message has arrived; the worker never hears back
        return True

    receiver.script = [Scripted(action=kill_worker)]
    try:
        await wait_for(lambda: proc.poll() is not None, timeout=30)
    except AssertionError:
        proc.kill()
        raise AssertionError("the worker never sent: " + proc.communicate()[0].decode()[-3000:]) from None
    assert proc.returncode == -signal.SIGKILL
    assert len(receiver.requests) == 1
    assert (await Message.select(Message.delivery_status).where(Message.id == message["id"]).first())[
        "delivery_status"] == "queued"

    # A fresh worker: the lease runs out, the sweeper re-enqueues the row, the reply goes out again.
    from arq.worker import Worker

    worker_desk = await make_desk(configure, run_jobs=False)
    worker = Worker(**worker_settings(worker_desk))
    task = asyncio.create_task(worker.main())
    try:
        async def sent():
            row = await Message.select(Message.delivery_status).where(Message.id == message["id"]).first()
            return row["delivery_status"] == "sent"
        await wait_for(sent, timeout=30)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await worker.close()
    assert worker.jobs_failed == 0
    assert len(receiver.requests) == 2
    first, second = receiver.requests
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"] == f"relaydesk-{web.desk_id}-msg-{message['id']}"
    assert first.json()["text"] == second.json()["text"] == "Exactly once, please"
    outbox = await Outbox.select(Outbox.status, Outbox.attempts).first()
    assert outbox == {"status": "done", "attempts": 2}
