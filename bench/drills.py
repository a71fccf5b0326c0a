"""Fault drills: does the desk lose, duplicate or 500 anything when its parts fail under load?

Starts its own PostgreSQL cluster (initdb in a temporary folder, on a free loopback port) and its own
redis-server (free loopback port) — never the shared ones on 5432/6379 — then a desk with two
`relaydesk serve` processes and two `relaydesk worker` processes, and a loopback receiver for the
replies (the API channel's callback). Then, in turn:

1. replay storm: N unique webhooks, each sent 3 times, shuffled, concurrent;
2. kill -9 of a worker while R replies are being delivered (a service manager restarts it);
3. Redis restart (stopped for a few seconds; it keeps nothing on disk) during M inbound messages;
4. PostgreSQL restart (fast shutdown, a few seconds down) during M inbound messages;
5. rolling restart: SIGTERM each web process, then each worker, one by one, during inbound
   messages and replies (each is started again once it has exited, as a service manager would).

The sender behaves like a platform: a refused connection goes to the other web process (what nginx
does, docs/deploying.md), and a 5xx or timeout is retried with backoff for up to a minute. Per drill
it prints: messages sent, acknowledged (2xx), stored, duplicates stored, acknowledged but lost;
replies delivered more than once and whether every repeat carried the same idempotency key;
5xx answers other than 503; and the seconds until the desk works again after the fault (a webhook
is acknowledged and a reply posted then reaches the receiver). The baseline for the recovery figure
is the same probe timed on the healthy desk before the drills (ratio = recovery / baseline).

    python bench/drills.py            # full: 2,000 x 3 storm, 500 replies, 1,000 + 1,000 inbound, rolling restart
    python bench/drills.py --quick    # small sizes, under 3 minutes
    python bench/drills.py --keep     # keep the temporary folder (logs of every process) for a look

Ends with one JSON line: {"acked_lost", "duplicates_stored", "server_errors",
"double_deliveries_without_same_key", "worker_recovered", "recovery_s", "drills": {...}, ...}.
Targets (issue 17): the first four 0, worker_recovered true, recovery_s <= 15.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import glob
import json
import os
import pwd
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from plugins.api_channel import signing  # noqa: E402
from relaydesk_testing import LoopbackServer  # noqa: E402

SECRET = "drill-secret"
ACCOUNT = "drill"
RETRY_FOR = 60.0  # how long the sender keeps retrying one webhook, like a platform would


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


# --- the services ---------------------------------------------------------------------------


class Postgres:
    """A private cluster: initdb in `folder`, listening on 127.0.0.1:`port` only."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "pgdata"
        self.port = free_port()
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not bins:
            raise SystemExit("PostgreSQL binaries not found under /usr/lib/postgresql/*/bin")
        self.bin = Path(bins[-1])
        # initdb and postgres refuse to run as root: run them as the postgres user then.
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            pwd.getpwnam("postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([*self.as_user, *args], check=check, capture_output=True, text=True)

    def init(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.as_user:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c max_connections=200"
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.folder / "pg.log"),
                  "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, name: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"


class Redis:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(self.folder)],
                                     stdout=(self.folder / "redis.log").open("a"), stderr=subprocess.STDOUT)
        wait_port(self.port, 10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


def wait_port(port: int, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


class Process:
    """One `relaydesk` process (serve or worker) that can be killed, stopped and started again."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], folder: Path, port: int | None = None) -> None:
        self.name, self.args, self.env, self.folder, self.port = name, args, env, folder, port
        self.proc: subprocess.Popen | None = None
        self.sigterm_seconds: list[float] = []
        self.sigterm_ignored = 0

    def start(self) -> None:
        out = (self.folder / f"{self.name}.log").open("a")
        self.proc = subprocess.Popen([sys.executable, "-m", "core.cli", *self.args], cwd=ROOT, env=self.env,
                                     stdout=out, stderr=subprocess.STDOUT)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def terminate(self, grace: float = 15.0) -> None:
        """SIGTERM and wait; what has not exited after `grace` seconds is killed (and counted)."""
        assert self.proc is not None
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(grace)
            self.sigterm_seconds.append(time.monotonic() - started)
        except subprocess.TimeoutExpired:
            self.sigterm_ignored += 1
            self.proc.kill()
            self.proc.wait()


# --- the traffic ----------------------------------------------------------------------------


@dataclass
class Tally:
    sent: int = 0  # unique messages
    attempts: int = 0
    acked: set[str] = field(default_factory=set)
    statuses: collections.Counter = field(default_factory=collections.Counter)
    server_errors: int = 0  # 5xx other than 503
    gave_up: int = 0


class Sender:
    def __init__(self, ports: list[int], token: str) -> None:
        self.ports = ports
        self.token = token
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(15.0, connect=2.0),
                                        limits=httpx.Limits(max_connections=64))
        self._next = 0

    def _port_order(self) -> list[int]:
        self._next += 1
        start = self._next % len(self.ports)
        return self.ports[start:] + self.ports[:start]

    async def request(self, method: str, path: str, tally: Tally | None, **kwargs: Any) -> httpx.Response | None:
        """One request as a platform sends it: a refused connection tries the other web process at
        once; a 5xx, a timeout or nobody listening is retried with backoff for up to RETRY_FOR s."""
        deadline = time.monotonic() + RETRY_FOR
        delay = 0.2
        while time.monotonic() < deadline:
            for port in self._port_order():
                if tally is not None:
                    tally.attempts += 1
                try:
                    response = await self.client.request(method, f"http://127.0.0.1:{port}{path}", **kwargs)
                except httpx.ConnectError:
                    continue  # nothing was sent: the other process gets it (nginx's proxy_next_upstream)
                except httpx.HTTPError:
                    if tally is not None:
                        tally.statuses["timeout/reset"] += 1
                    break
                if tally is not None:
                    tally.statuses[response.status_code] += 1
                    if response.status_code >= 500 and response.status_code != 503:
                        tally.server_errors += 1
                if response.status_code < 500:
                    return response
                retry_after = response.headers.get("retry-after")
                if retry_after and retry_after.isdigit():
                    delay = min(float(retry_after), 5.0)
                break
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
        if tally is not None:
            tally.gave_up += 1
        return None

    async def webhook(self, message: dict[str, Any], tally: Tally) -> None:
        body = json.dumps({"messages": [message]}).encode()
        # Signed at each attempt: a platform's retry carries a fresh timestamp.
        response = await self.request("POST", f"/hooks/api_channel/{ACCOUNT}", tally, content=body,
                                      headers={"content-type": "application/json",
                                               signing.HEADER: signing.sign(SECRET, body)})
        if response is not None and response.status_code == 200:
            tally.acked.add(message["id"])

    async def reply(self, ticket_id: int, text: str, tally: Tally) -> bool:
        response = await self.request("POST", f"/api/v1/tickets/{ticket_id}/reply", tally, json={"text": text},
                                      headers={"authorization": f"Bearer {self.token}"})
        return response is not None and response.status_code in (200, 201, 202)

    async def close(self) -> None:
        await self.client.aclose()


def messages(prefix: str, n: int) -> list[dict[str, Any]]:
    return [{"id": f"{prefix}-{i}", "sender": {"id": f"{prefix}-cust-{i % max(1, n // 3)}"},
             "thread_id": f"{prefix}-thread-{i % max(1, n // 3)}", "text": f"Drill {prefix} message {i}"}
            for i in range(n)]


async def paced(items: list[Any], rate: float, concurrency: int, work) -> None:
    """Start `work(item)` for each item at `rate` per second, at most `concurrency` at once."""
    limit = asyncio.Semaphore(concurrency)
    started = time.monotonic()

    async def one(i: int, item: Any) -> None:
        async with limit:
            await work(item)

    tasks = []
    for i, item in enumerate(items):
        wait = started + i / rate - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        tasks.append(asyncio.create_task(one(i, item)))
    await asyncio.gather(*tasks)


# --- the drill bench ------------------------------------------------------------------------


class Drills:
    def __init__(self, args: argparse.Namespace, folder: Path) -> None:
        self.args = args
        self.folder = folder
        self.pg = Postgres(folder / "pg")
        self.redis = Redis(folder)
        self.receiver = LoopbackServer()
        self.web: list[Process] = []
        self.workers: list[Process] = []
        self.db_url = ""
        self.results: dict[str, dict[str, Any]] = {}

    # setup

    async def setup(self) -> None:
        log("starting PostgreSQL and Redis of our own")
        self.pg.init()
        self.pg.start()
        self.redis.start()
        conn = await asyncpg.connect(self.pg.admin_url)
        await conn.execute("CREATE DATABASE relaydesk")
        await conn.close()
        self.db_url = self.pg.url("relaydesk")
        self.receiver.start()
        (self.folder / "data").mkdir()
        config = self.folder / "plugins.toml"
        config.write_text(f"""[relaydesk]
database = "{self.db_url}"
redis = "{self.redis.url}"
data_dir = "{self.folder / 'data'}"
queue_name = "drills"
delivery_lease_seconds = 10.0
sweep_interval_seconds = 1.0
outbound_allowlist = ["127.0.0.1"]  # the loopback receiver of the replies (core.urlguard refuses it otherwise)
[plugins]
enabled = ["api_channel"]
[plugins.api_channel.accounts.{ACCOUNT}]
secret = {{ env = "DRILL_SECRET" }}
callback_url = "{self.receiver.url}/replies"
""")
        self.env = {**os.environ, "DRILL_SECRET": SECRET, "RELAYDESK_CONFIG": str(config)}
        init = subprocess.run([sys.executable, "-m", "core.cli", "init", "--admin-email", "drill@example.com",
                               "--admin-password", "drill-password"], cwd=ROOT, env={**self.env, "COLUMNS": "300"},
                              capture_output=True, text=True)
        match = re.search(r"API token: (rd_\S+)", init.stdout)
        if init.returncode != 0 or not match:
            raise SystemExit(f"relaydesk init failed: {init.stdout}\n{init.stderr}")
        self.token = match.group(1)
        ports = [free_port(), free_port()]
        self.web = [Process(f"web{i + 1}", ["serve", "--port", str(port), "--no-access-log"], self.env, self.folder,
                            port) for i, port in enumerate(ports)]
        self.workers = [Process(f"worker{i + 1}", ["worker"], self.env, self.folder) for i in range(2)]
        log("starting two web processes and two workers")
        for proc in [*self.web, *self.workers]:
            proc.start()
        for proc in self.web:
            await self.wait_ready(proc)
        self.sender = Sender(ports, self.token)

    async def wait_ready(self, proc: Process, timeout: float = 120) -> None:
        end = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < end:
                if not proc.alive():
                    raise SystemExit(f"{proc.name} exited: {(self.folder / f'{proc.name}.log').read_text()[-2000:]}")
                try:
                    if (await client.get(f"http://127.0.0.1:{proc.port}/health")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
        raise SystemExit(f"{proc.name} not ready after {timeout}s")

    async def teardown(self) -> None:
        await asyncio.gather(*(asyncio.to_thread(proc.terminate, 10) for proc in [*self.web, *self.workers]
                               if proc.alive()))
        await self.sender.close()
        self.receiver.stop()
        self.redis.stop()
        self.pg.stop("immediate")

    # measuring

    async def query(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        end = time.monotonic() + 60
        while True:
            try:
                conn = await asyncpg.connect(self.db_url, timeout=5)
                try:
                    return await conn.fetch(sql, *args)
                finally:
                    await conn.close()
            except (OSError, asyncpg.PostgresError, asyncio.TimeoutError):
                if time.monotonic() > end:
                    raise
                await asyncio.sleep(0.5)

    async def inbound_figures(self, prefix: str, tally: Tally) -> dict[str, Any]:
        rows = await self.query("SELECT external_id, count(*) AS n FROM messages WHERE direction = 'inbound' "
                                "AND external_id LIKE $1 GROUP BY external_id", prefix + "-%")
        stored = {r["external_id"]: r["n"] for r in rows}
        return {"sent": tally.sent, "attempts": tally.attempts, "acknowledged": len(tally.acked),
                "stored": len(stored), "duplicates_stored": sum(n - 1 for n in stored.values()),
                "acked_lost": len(tally.acked - set(stored)), "server_errors": tally.server_errors,
                "gave_up": tally.gave_up, "statuses": {str(k): v for k, v in sorted(tally.statuses.items(), key=str)}}

    def reply_figures(self, message_ids: set[int]) -> dict[str, Any]:
        seen: dict[int, list[str]] = collections.defaultdict(list)
        for request in list(self.receiver.requests):
            try:
                body = request.json()
            except ValueError:
                continue
            if body.get("message_id") in message_ids:
                seen[body["message_id"]].append(request.headers.get("idempotency-key", ""))
        repeated = {m: keys for m, keys in seen.items() if len(keys) > 1}
        return {"replies": len(message_ids), "delivered": len(seen),
                "undelivered": len(message_ids - set(seen)),
                "delivered_more_than_once": len(repeated),
                "repeats_with_same_key": sum(1 for keys in repeated.values() if len(set(keys)) == 1),
                "double_deliveries_without_same_key": sum(1 for keys in repeated.values() if len(set(keys)) > 1)}

    async def wait_delivered(self, message_ids: set[int], timeout: float) -> float | None:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.reply_figures(message_ids)["undelivered"] == 0:
                return time.monotonic() - started
            await asyncio.sleep(0.2)
        return None

    async def tickets(self, n: int) -> list[int]:
        rows = await self.query("SELECT id FROM tickets ORDER BY id LIMIT $1", n)
        return [r["id"] for r in rows]

    async def post_replies(self, ticket_ids: list[int], label: str, n: int, rate: float, tally: Tally) -> set[int]:
        """Post n replies through the API; returns the stored message ids."""
        posted: set[int] = set()

        async def one(i: int) -> None:
            response = await self.sender.request("POST", f"/api/v1/tickets/{ticket_ids[i % len(ticket_ids)]}/reply",
                                                 tally, json={"text": f"{label} reply {i}"},
                                                 headers={"authorization": f"Bearer {self.token}"})
            if response is not None and response.status_code in (200, 201, 202):
                posted.add(response.json()["id"])

        await paced(list(range(n)), rate, 16, one)
        return posted

    async def probe(self, label: str, timeout: float) -> float | None:
        """Seconds until a new webhook is acknowledged and a reply posted then reaches the receiver."""
        started = time.monotonic()
        tally = Tally(sent=1)
        await self.sender.webhook({"id": f"probe-{label}", "sender": {"id": f"probe-{label}"},
                                   "text": "Are you there?"}, tally)
        if not tally.acked:
            return None
        rows = await self.query("SELECT ticket FROM messages WHERE external_id = $1", f"probe-{label}")
        posted = await self.post_replies([rows[0]["ticket"]], f"probe {label}", 1, 100, Tally())
        if not posted:
            return None
        left = timeout - (time.monotonic() - started)
        waited = await self.wait_delivered(posted, max(left, 0))
        return None if waited is None else time.monotonic() - started

    # drills

    async def storm(self, n: int) -> dict[str, Any]:
        log(f"drill 1: replay storm, {n} unique messages x 3, shuffled, concurrent")
        items = messages("storm", n)
        sends = [m for m in items for _ in range(3)]
        random.Random(17).shuffle(sends)
        tally = Tally(sent=n)
        limit = asyncio.Semaphore(32)

        async def one(m: dict[str, Any]) -> None:
            async with limit:
                await self.sender.webhook(m, tally)

        started = time.monotonic()
        await asyncio.gather(*(one(m) for m in sends))
        figures = await self.inbound_figures("storm", tally)
        figures["seconds"] = round(time.monotonic() - started, 1)
        figures["recovery_s"] = 0.0  # no fault to recover from
        return figures

    async def kill_worker(self, n: int) -> dict[str, Any]:
        log(f"drill 2: kill -9 of a worker during {n} replies")
        ticket_ids = await self.tickets(max(1, n // 5))
        tally = Tally()
        before = len(self.receiver.requests)
        rate = n / (6 if self.args.quick else 20)
        posting = asyncio.create_task(self.post_replies(ticket_ids, "kill", n, rate, tally))
        while len(self.receiver.requests) - before < max(3, n // 4) and not posting.done():
            await asyncio.sleep(0.05)
        victim = self.workers[0]
        victim.kill9()
        killed_at = time.monotonic()
        log("  worker1 killed with SIGKILL; started again (as systemd would)")
        victim.start()
        probe = asyncio.create_task(self.timed_probe("kill", killed_at))
        posted = await posting
        waited = await self.wait_delivered(posted, self.args.recovery_timeout)
        figures = {**self.reply_figures(posted), "server_errors": tally.server_errors, "sent": n,
                   "acknowledged": len(posted)}
        figures["all_delivered_s"] = None if waited is None else round(time.monotonic() - killed_at, 1)
        figures["recovery_s"] = await probe
        return figures

    async def timed_probe(self, label: str, since: float) -> float | None:
        took = await self.probe(label, self.args.recovery_timeout)
        return None if took is None else round(time.monotonic() - since, 1)

    async def outage(self, name: str, n: int, stop, start, down_for: float) -> dict[str, Any]:
        """Inbound messages at a steady rate; `stop` at a third of the way, `start` `down_for` s later;
        replies are posted meanwhile too, so the workers' ride through the outage shows."""
        items = messages(name, n)
        duration = 8 if self.args.quick else 30
        tally, reply_tally = Tally(sent=n), Tally()
        ticket_ids = await self.tickets(20)
        sending = asyncio.create_task(paced(items, n / duration, 32, lambda m: self.sender.webhook(m, tally)))
        replies = asyncio.create_task(self.post_replies(ticket_ids, name, max(10, n // 20), n / 20 / duration,
                                                        reply_tally))
        await asyncio.sleep(duration / 3)
        log(f"  stopping {name} for {down_for:.0f}s")
        await asyncio.to_thread(stop)
        await asyncio.sleep(down_for)
        await asyncio.to_thread(start)
        back_at = time.monotonic()
        log(f"  {name} is back")
        probe = asyncio.create_task(self.timed_probe(name, back_at))
        await sending
        posted = await replies
        waited = await self.wait_delivered(posted, self.args.recovery_timeout)
        figures = await self.inbound_figures(name, tally)
        figures.update(self.reply_figures(posted))
        figures["server_errors"] += reply_tally.server_errors
        figures["reply_server_errors"] = reply_tally.server_errors
        figures["replies_all_delivered"] = waited is not None
        figures["recovery_s"] = await probe
        figures["workers_alive_after"] = sum(w.alive() for w in self.workers)
        return figures

    async def redis_restart(self, n: int) -> dict[str, Any]:
        log(f"drill 3: Redis restart during {n} inbound messages")
        return await self.outage("redis", n, self.redis.stop, self.redis.start, 3 if self.args.quick else 5)

    async def postgres_restart(self, n: int) -> dict[str, Any]:
        log(f"drill 4: PostgreSQL restart during {n} inbound messages")
        return await self.outage("postgres", n, lambda: self.pg.stop("fast"), self.pg.start,
                                 3 if self.args.quick else 5)

    async def rolling_restart(self, n: int) -> dict[str, Any]:
        log(f"drill 5: rolling restart (SIGTERM, one by one) during {n} inbound messages and replies")
        items = messages("rolling", n)
        tally, reply_tally = Tally(sent=n), Tally()
        ticket_ids = await self.tickets(20)
        duration = 15 if self.args.quick else 60
        sending = asyncio.create_task(paced(items, n / duration, 32, lambda m: self.sender.webhook(m, tally)))
        replies = asyncio.create_task(self.post_replies(ticket_ids, "rolling", max(10, n // 5), n / 5 / duration,
                                                        reply_tally))
        found_dead = [p.name for p in self.workers if not p.alive()]
        for proc in self.workers:  # a worker an earlier drill left dead is started first, as systemd would
            if not proc.alive():
                proc.start()
        await asyncio.sleep(1 if not found_dead else 15)
        for proc in [*self.web, *self.workers]:
            await asyncio.to_thread(proc.terminate, 12.0)  # the bound is 10 s
            log(f"  {proc.name} stopped" + (" (ignored SIGTERM: killed)" if proc.sigterm_ignored else ""))
            proc.start()
            if proc.port:
                await self.wait_ready(proc)
        done_at = time.monotonic()
        probe = asyncio.create_task(self.timed_probe("rolling", done_at))
        await sending
        posted = await replies
        waited = await self.wait_delivered(posted, self.args.recovery_timeout)
        figures = await self.inbound_figures("rolling", tally)
        figures.update(self.reply_figures(posted))
        figures["server_errors"] += reply_tally.server_errors
        figures["replies_all_delivered"] = waited is not None
        figures["recovery_s"] = await probe
        figures["workers_found_dead_before"] = found_dead
        figures["sigterm_exit_s"] = {p.name: [round(s, 1) for s in p.sigterm_seconds] for p in [*self.web, *self.workers]}
        figures["sigterm_ignored"] = {p.name: p.sigterm_ignored for p in [*self.web, *self.workers]}
        return figures


def print_drill(name: str, f: dict[str, Any]) -> None:
    rows = [("sent", f.get("sent")), ("acknowledged", f.get("acknowledged")), ("stored", f.get("stored")),
            ("duplicates stored", f.get("duplicates_stored")), ("acknowledged but lost", f.get("acked_lost")),
            ("replies / delivered", f"{f.get('replies')} / {f.get('delivered')}" if "replies" in f else None),
            ("replies delivered more than once", f.get("delivered_more_than_once")),
            ("  ... every repeat with the same idempotency key",
             None if "delivered_more_than_once" not in f else f["double_deliveries_without_same_key"] == 0),
            ("5xx other than 503", f.get("server_errors")), ("answers", f.get("statuses")),
            ("seconds to recover", f.get("recovery_s"))]
    print(f"\n== {name}")
    for label, value in rows:
        if value is not None:
            print(f"  {label:<48} {value}")
    for key in ("sigterm_exit_s", "sigterm_ignored", "workers_alive_after", "workers_found_dead_before",
                "all_delivered_s"):
        if key in f:
            print(f"  {key:<48} {f[key]}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, under 3 minutes")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder with every process's log")
    parser.add_argument("--recovery-timeout", type=float, default=None,
                        help="seconds to wait for a drill's recovery (default 30 quick, 60 full)")
    args = parser.parse_args()
    args.recovery_timeout = args.recovery_timeout or (40.0 if args.quick else 60.0)
    sizes = ({"storm": 100, "kill": 40, "redis": 100, "postgres": 100, "rolling": 100} if args.quick else
             {"storm": 2000, "kill": 500, "redis": 1000, "postgres": 1000, "rolling": 1000})
    folder = Path(tempfile.mkdtemp(prefix="relaydesk-drills-"))
    folder.chmod(0o755)  # the postgres user runs the cluster inside it when we are root
    drills = Drills(args, folder)
    began = time.monotonic()
    load_before = os.getloadavg()[0]
    try:
        await drills.setup()
        baseline = await drills.probe("baseline", 30)
        log(f"healthy desk: a webhook and a reply's delivery take {baseline:.2f}s" if baseline else "probe failed")
        results = {
            "replay_storm": await drills.storm(sizes["storm"]),
            "kill_worker": await drills.kill_worker(sizes["kill"]),
            "redis_restart": await drills.redis_restart(sizes["redis"]),
            "postgres_restart": await drills.postgres_restart(sizes["postgres"]),
            "rolling_restart": await drills.rolling_restart(sizes["rolling"]),
        }
    finally:
        if drills.web:
            await drills.teardown()
        else:
            drills.redis.stop()
            drills.pg.stop("immediate")
    for name, figures in results.items():
        print_drill(name, figures)
    recoveries = [f.get("recovery_s") for f in results.values()]
    worker_recovered = all(r is not None for r in recoveries) and all(
        f.get("undelivered", 0) == 0 for f in results.values())
    # a drill the desk never recovered from makes the whole figure unknown (null), not the best of the rest
    recovery_s = max(recoveries) if all(r is not None for r in recoveries) else None
    summary = {
        "acked_lost": sum(f.get("acked_lost", 0) for f in results.values()),
        "duplicates_stored": sum(f.get("duplicates_stored", 0) for f in results.values()),
        "server_errors": sum(f.get("server_errors", 0) for f in results.values()),
        "double_deliveries_without_same_key": sum(f.get("double_deliveries_without_same_key", 0)
                                                  for f in results.values()),
        "worker_recovered": worker_recovered,
        "recovery_s": recovery_s,
        "baseline_probe_s": round(baseline, 2) if baseline else None,
        "recovery_ratio": round(recovery_s / baseline, 1) if recovery_s and baseline else None,
        "quick": args.quick, "seconds": round(time.monotonic() - began, 1),
        # the machine's 1-minute load average before and after: timings on a busy machine are pessimistic
        "load_avg": [round(load_before, 1), round(os.getloadavg()[0], 1)], "cpus": os.cpu_count(),
        "drills": results,
    }
    if args.keep:
        print(f"\nlogs kept in {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(summary))


if __name__ == "__main__":
    asyncio.run(main())
