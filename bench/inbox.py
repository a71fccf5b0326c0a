"""Benchmark the agent inbox as the agent's browser gets it, on PostgreSQL, over real HTTP.

Fills a fresh PostgreSQL database (COPY through asyncpg, row triggers off, counts rebuilt after)
with tickets and messages, most of them in Chinese, and the search index; starts the desk with
`relaydesk serve` in its own process; then, from this process, one signed-in client times full
pages while a third process posts a live stream of inbound messages (--rate per second, through
the signed webhook) and listens on the inbox's SSE stream:

  baseline   GET /health: the same HTTP round trip with no work behind it
  queue      the whole queue page (list, navigation counts, header)
  filtered   the whole queue page narrowed to a tag
  ticket     the ticket view
  search_*   the queue page searched by: a customer name, an order number, a Chinese phrase, a rare
             Latin word, a common word, and a 500-character pasted query after a message with a
             60,000-character word was stored (search_long)
  view       a saved view's page (three conditions and a date range: unsolved, high priority,
             unassigned, created in the last 30 days), its capped count in the navigation included
  search_filtered  a search narrowed by two filters (unsolved, high priority), as the filter bar sends it
  reply      an agent's reply POST
  live       from an inbound message's commit (its created_at, stamped in the transaction) to its
             event reaching the SSE client; live_post counts from posting the webhook instead

Also db_bytes_per_message: the database's size (search index included) per stored message. Every
figure is a p50/p95 in ms with its p95 as a ratio to the baseline's p50, and the serve process's CPU
per request of each kind (Linux; the inbound stream's share included), which a busy machine barely
moves: compare two versions by it on a shared machine. The machine is shared, so
figures are noisy. The last line is one JSON object.

  python bench/inbox.py --quick    # 5k tickets, 50k messages (about two minutes)
  python bench/inbox.py            # 100k tickets, 1M messages
  python bench/inbox.py --large    # 450k tickets, 2.25M messages
  python bench/inbox.py --team-only  # tickets in four teams, one team-only: the pages as an outsider

RELAYDESK_BENCH_PG names the server's admin database (default postgresql://postgres@127.0.0.1:5432/test);
the bench creates its own database there and drops it afterwards (--keep keeps it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from core import counts, db, search  # noqa: E402
from core.sla import WARNING_LEAD as SWEEP_LEAD  # noqa: E402
from core.auth import hash_password  # noqa: E402
from core.migrate import migrate  # noqa: E402
from plugins.api_channel import signing  # noqa: E402

ADMIN_URL = os.environ.get("RELAYDESK_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
API_SECRET = "bench-api-secret"
RARE_WORD = "quixotically"
RARE_TICKETS = 5
COMMON_WORD = "hello"
SIZES = {"quick": (5_000, 50_000), "default": (100_000, 1_000_000), "large": (450_000, 2_250_000)}
KINDS = ("baseline", "queue", "filtered", "view", "ticket", "search_name", "search_order", "search_phrase",
         "search_rare", "search_common", "search_long", "search_filtered", "reply")
VIEW_DAYS = 30  # the saved view's date range: tickets created in the last 30 days

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞晓雪梅琳宇浩然欣怡子轩"
LATIN_NAMES = ["Emily Carter", "Tom Becker", "Sofia Rossi", "Lucas Martin", "Mia Schmidt", "Noah Dubois",
               "Olivia Brown", "Liam Wilson", "Emma Garcia", "Ava Müller"]
PRODUCTS = ["蓝牙耳机", "保温杯", "双肩包", "羽绒服", "运动鞋", "机械键盘", "手机壳", "充电宝", "台灯", "雨伞",
            "jacket", "backpack", "headphones", "sneakers", "keyboard", "charger", "lamp", "umbrella"]
OPENERS = ["您好", "你好", "麻烦问一下", "请问", "Hi", "Hello", "客服您好"]
ISSUES = ["我的订单还没有收到，物流信息三天没有更新了", "收到的商品有破损，想申请退货退款", "尺码不合适，可以换货吗",
          "发票什么时候可以开", "能不能寄到加拿大，运费多少", "颜色和图片不一样", "包裹显示已签收但是我没有收到",
          "the item arrived damaged, can I get a refund", "when will my parcel arrive", "I was charged twice",
          "优惠券无法使用", "想修改收货地址", "质量有问题，用了两天就坏了"]
TAGS = ["物流", "退货", "换货", "发票", "vip", "refund", "shipping", "pre-sale", "投诉", "wholesale"]


def sentence(rng: random.Random, order: str) -> str:
    return f"{rng.choice(OPENERS)}，{rng.choice(ISSUES)}。{rng.choice(PRODUCTS)} 订单号 {order}。"


def customer_name(rng: random.Random) -> str:
    if rng.random() < 0.2:
        return rng.choice(LATIN_NAMES) + f" {rng.randint(1, 999)}"
    return rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")


async def fill(url: str, tickets: int, messages: int, seed: int = 7, team_only: bool = False) -> dict:
    """COPY customers, tickets, messages, tags and search terms; returns names to search for."""
    rng = random.Random(seed)
    customers = max(1, tickets // 2)
    now = datetime.now(timezone.utc)
    conn = await asyncpg.connect(url)
    started = time.perf_counter()
    # a bulk load as a restore would do it: row triggers off (the kept counts are rebuilt after)
    await conn.execute("SET session_replication_role = replica")
    rare_tickets = set(rng.sample(range(1, tickets + 1), min(RARE_TICKETS, tickets)))
    try:
        account = await conn.fetchval("INSERT INTO channel_accounts (plugin, name, channel_type, created_at) "
                                      "VALUES ('api_channel', 'main', 'api', now()) RETURNING id")
        agent_ids = []
        for i in range(10):
            agent_ids.append(await conn.fetchval(
                "INSERT INTO agents (name, email, password_hash, role, languages, skills, capacity, availability, "
                "timezone, locale, active, created_at, session_generation) VALUES ($1, $2, $3, 'agent', '[]', '[]', 20, "
                "'online', 'Asia/Shanghai', 'zh', true, now(), 0) RETURNING id",
                f"Agent {i}", f"agent{i}@bench.example", hash_password("pw")))
        team_ids: list[int | None] = [None]
        if team_only:  # four teams, each ticket in one; the first is team-only and agent0 is outside it
            team_ids = []
            for i in range(4):
                team_ids.append(await conn.fetchval(
                    "INSERT INTO teams (name, created_at, visibility) VALUES ($1, now(), $2) RETURNING id",
                    f"Team {i}", "members" if i == 0 else "everyone"))
            for n, agent_id in enumerate(agent_ids):
                await conn.execute("INSERT INTO agent_teams (agent, team) VALUES ($1, $2)", agent_id,
                                   team_ids[1 + n % 3] if n == 0 else team_ids[n % 4])
        names = [customer_name(rng) for _ in range(customers)]
        await conn.copy_records_to_table("customers", columns=["id", "name", "email", "phone", "tags", "notes",
                                                               "created_at", "updated_at"], records=[
            (i + 1, names[i], f"c{i + 1}@bench.example", f"+86138{i + 1:08d}", "[]", "", now, now)
            for i in range(customers)])
        await conn.copy_records_to_table("customer_identities", columns=[
            "customer", "channel_type", "handle", "display_name", "email", "phone", "email_verified", "phone_verified",
            "created_at"], records=[(i + 1, "api", f"h{i + 1}", names[i], None, None, False, False, now)
                                    for i in range(customers)])
        statuses = ["new", "open", "pending", "solved", "closed", "solved", "closed", "solved", "open", "closed"]
        ticket_rows, tag_rows = [], []
        hidden: set[int] = set()
        per_ticket = [1] * tickets
        for _ in range(messages - tickets):
            per_ticket[rng.randrange(tickets)] += 1
        order_of: dict[int, str] = {}
        for t in range(1, tickets + 1):
            customer = rng.randint(1, customers)
            status = rng.choice(statuses)
            # SLA columns as the desk keeps them (core/sla.py), so the sweeper has no backlog to
            # rewrite while the bench measures: a pending ticket's clock is stopped; a first response
            # past due is already breached and the ticket runs on its resolution target.
            is_running = status in ("new", "open")
            first_due = now + timedelta(minutes=rng.randint(-600, 3000)) if is_running and rng.random() < 0.9 else None
            resolution_due = first_due + timedelta(days=1) if first_due else None
            breached = bool(first_due and first_due <= now)
            due = resolution_due if breached else first_due
            warned = now if due and due <= now + SWEEP_LEAD else None
            order = f"{rng.choice('ABCDE')}-{rng.randint(10000, 99999)}{t}"
            order_of[t] = order
            created = now - timedelta(minutes=rng.randint(1, 60 * 24 * 90))
            subject = sentence(rng, order)[:60]
            assignee = rng.choice(agent_ids) if rng.random() < 0.6 else None
            team = rng.choice(team_ids) if team_only else None
            if team is not None and team == team_ids[0] and assignee != agent_ids[0]:
                hidden.add(t)  # agent0 may not open it (core.visibility)
            ticket_rows.append((t, subject, status, rng.choice(["normal", "normal", "high", "low", "urgent"]), customer,
                                account, "api", assignee, created, created, created, due, first_due, resolution_due,
                                breached, warned, team))
            for tag in rng.sample(TAGS, rng.choice([0, 0, 1, 1, 2])):
                tag_rows.append((t, tag))
        await conn.copy_records_to_table("tickets", columns=[
            "id", "subject", "status", "priority", "customer", "account", "channel_type", "assignee", "created_at",
            "updated_at", "last_message_at", "sla_due_at", "first_response_due_at", "resolution_due_at",
            "first_response_breached", "sla_warned_at", "team"], records=ticket_rows)
        await conn.copy_records_to_table("ticket_tags", columns=["ticket", "tag"], records=tag_rows)
        message_rows: list[tuple] = []
        doc_rows: list[tuple] = []  # the search index as core.search keeps it on PostgreSQL
        vocab: set[str] = set()
        term_count = 0
        mid = 0
        for row in ticket_rows:
            t, subject, customer, created = row[0], row[1], row[4], row[8]
            order = order_of[t]
            terms: set[str] = search.terms(subject) | search.terms(names[customer - 1])
            terms |= search.terms(f"c{customer}@bench.example +86138{customer:08d}")
            for n in range(per_ticket[t - 1]):
                mid += 1
                text = sentence(rng, order) if n == 0 else sentence(rng, order if rng.random() < 0.3 else "")
                if n == 0 and t in rare_tickets:
                    text += f" {RARE_WORD}"
                direction = "inbound" if n % 2 == 0 else "outbound"
                message_rows.append((mid, t, account, direction, customer if direction == "inbound" else None, text,
                                     f"bench-{mid}", "delivered" if direction == "outbound" else None,
                                     '{"order_ids": ["%s"]}' % order if n == 0 else "{}",
                                     created + timedelta(minutes=n)))
                terms |= search.terms(text)
            doc_rows.append((t, sorted(terms)))
            vocab.update(term for term in terms if search._CJK_TERM.match(term))
            term_count += len(terms)
            if len(message_rows) >= 100_000:
                await _copy_messages(conn, message_rows)
                message_rows = []
            if len(doc_rows) >= 20_000:
                await conn.copy_records_to_table("search_docs", columns=["ticket", "terms"], records=doc_rows)
                doc_rows = []
        await _copy_messages(conn, message_rows)
        await conn.copy_records_to_table("search_docs", columns=["ticket", "terms"], records=doc_rows)
        await conn.copy_records_to_table("search_vocab", columns=["term"], records=[(v,) for v in sorted(vocab)])
        for table, column in (("customers", "id"), ("tickets", "id"), ("messages", "id")):
            await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), (SELECT max(id) FROM {table}))")
        await conn.execute("INSERT INTO search_state (name, last_id) VALUES ('tickets', $1), ('messages', $2)", tickets, mid)
        await conn.execute("SET session_replication_role = DEFAULT")
        await conn.execute("VACUUM ANALYZE")  # what autovacuum does after a bulk load
    finally:
        await conn.close()
    return {"seconds": time.perf_counter() - started, "orders": [order_of[rng.randint(1, tickets)] for _ in range(20)],
            "names": [names[rng.randrange(customers)] for _ in range(20)], "terms": term_count,
            "customers": customers, "hidden": hidden}


async def _copy_messages(conn: asyncpg.Connection, rows: list[tuple]) -> None:
    if rows:
        await conn.copy_records_to_table("messages", columns=[
            "id", "ticket", "account", "direction", "customer", "text", "external_id", "delivery_status", "metadata",
            "created_at"], records=rows)



def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(folder: Path, url: str) -> Path:
    config = folder / "plugins.toml"
    config.write_text(f"""[relaydesk]
database = "{url}"
secret = {{ env = "RELAYDESK_BENCH_SECRET" }}
data_dir = "{folder / 'data'}"
queue_name = "bench-{uuid.uuid4().hex[:6]}"

[plugins]
enabled = ["api_channel"]

[plugins.api_channel.accounts.main]
secret = {{ env = "RELAYDESK_BENCH_API_SECRET" }}
""")
    return config


def bench_env() -> dict[str, str]:
    return {**os.environ, "RELAYDESK_BENCH_SECRET": "bench-session-secret-" + "x" * 32,
            "RELAYDESK_BENCH_API_SECRET": API_SECRET, "PYTHONPATH": str(REPO)}


async def sign_in(client: httpx.AsyncClient) -> str:
    """Sign in as agent0; returns the CSRF token for forms."""
    login = await client.get("/login")
    token = login.text.split('name="_csrf_token" value="')[1].split('"')[0]
    response = await client.post("/login", data={"email": "agent0@bench.example", "password": "pw",
                                                 "_csrf_token": token, "next": "/inbox"})
    if response.status_code not in (200, 302, 303):
        raise RuntimeError(f"sign-in failed: {response.status_code} {response.text[:300]}")
    page = await client.get("/inbox/q/open")
    return page.text.split('name="_csrf_token" value="')[1].split('"')[0]


async def post_inbound(client: httpx.AsyncClient, external_id: str, sender: str, text: str) -> httpx.Response:
    body = json.dumps({"messages": [{"id": external_id, "sender": {"id": sender}, "text": text}],
                       "statuses": []}).encode()
    return await client.post("/hooks/api_channel/main", content=body, headers={
        "content-type": "application/json", "x-relaydesk-signature": signing.sign(API_SECRET, body)})


async def stream(base: str, seconds: float, rate: float, customers: int, out: str, stop: str) -> None:
    """The live stream (its own process): inbound messages at `rate` per second until the file
    `stop` exists (at most `seconds`), and an SSE client that notes when each message's ticket
    event arrives."""
    rng = random.Random(3)
    arrivals: dict[int, list[float]] = {}
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await sign_in(client)
        connected = asyncio.Event()

        async def listen() -> None:
            # web/inbox/live.py sends each change as a data line naming it ("data: ticket-12")
            async with client.stream("GET", "/inbox/live", timeout=None) as response:
                async for line in response.aiter_lines():
                    if line.startswith("data:"):
                        name = line[5:].strip()
                        if name.startswith("ticket-") and name[7:].isdigit():
                            arrivals.setdefault(int(name[7:]), []).append(time.time())
                    connected.set()

        listener = asyncio.create_task(listen())
        await asyncio.wait_for(connected.wait(), 10)
        sent: list[tuple[float, int, str]] = []
        in_flight: set[asyncio.Task] = set()
        slots = asyncio.Semaphore(64)  # a slow desk gets more requests in flight, as platforms do

        async def post(n: int, sender: str) -> None:
            async with slots:
                external_id = f"live-{uuid.uuid4().hex}"
                t0 = time.time()  # wall clock: the server's commit times are compared with it
                response = await post_inbound(client, external_id, sender, f"您好，请问我的包裹到哪里了 live {n}")
                if response.status_code == 200:
                    sent.append((t0, response.json()["messages"][0]["ticket_id"], external_id))

        started = time.perf_counter()
        n = 0
        while time.perf_counter() - started < seconds and not Path(stop).exists():  # on schedule, whatever the answers' pace
            await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
            sender = f"h{rng.randint(1, customers)}" if rng.random() < 0.7 else f"live-{uuid.uuid4().hex[:8]}"
            task = asyncio.create_task(post(n, sender))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
            n += 1
        if in_flight:
            await asyncio.gather(*in_flight)
        await asyncio.sleep(1.0)  # the last events
        listener.cancel()
    Path(out).write_text(json.dumps({"sent": n, "stored": len(sent), "posts": sent,
                                     "arrivals": {str(k): v for k, v in arrivals.items()},
                                     "rate": n / (time.perf_counter() - started)}))


async def live_latencies(url: str, live: dict) -> tuple[list[float], list[float]]:
    """(commit -> SSE client, post -> SSE client) in ms for every streamed message whose event was seen.

    The commit's moment is the message's created_at, which ingest stamps inside the transaction
    just before it commits (an upper bound of commit -> event, by the transaction's own few ms);
    the post's moment also counts the webhook waiting for the server and its parsing."""
    conn = await asyncpg.connect(url)
    try:
        stored = {r["external_id"]: r["created_at"].timestamp() for r in await conn.fetch(
            "SELECT external_id, created_at FROM messages WHERE external_id = ANY($1::text[])",
            [external_id for _, _, external_id in live["posts"]])}
    finally:
        await conn.close()
    from_commit, from_post = [], []
    for t0, ticket, external_id in live["posts"]:
        committed = stored.get(external_id)
        if committed is None:
            continue
        later = [t for t in live["arrivals"].get(str(ticket), []) if t >= committed]
        if later:
            from_commit.append((min(later) - committed) * 1000)
            from_post.append((min(later) - t0) * 1000)
    return from_commit, from_post


def process_cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process (Linux /proc), None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


async def measure(base: str, tickets: int, probes: dict, rounds: int, server_pid: int | None = None,
                  cpu: dict[str, float] | None = None) -> dict[str, list[float]]:
    """Time every kind `rounds` times; with `server_pid`, also add the serve process's CPU seconds
    spent during each kind's requests to `cpu` (the inbound stream's share included)."""
    rng = random.Random(11)
    results: dict[str, list[float]] = {kind: [] for kind in KINDS}
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        csrf = await sign_in(client)
        phrases = ["物流信息", "退货退款", "蓝牙耳机 破损", "包裹显示已签收"]
        long_query = "".join(sentence(random.Random(i), "") for i in range(40))[:500]
        queries = {"search_name": probes["names"], "search_order": probes["orders"], "search_phrase": phrases,
                   "search_rare": [RARE_WORD], "search_common": [COMMON_WORD, "您好", "订单号"],
                   "search_long": [long_query]}
        tags = ["物流", "退货", "vip", "refund"]

        async def timed(kind: str, method: str, url: str, **kw) -> None:
            before = process_cpu_seconds(server_pid) if server_pid and cpu is not None else None
            started = time.perf_counter()
            response = await client.request(method, url, **kw)
            results[kind].append((time.perf_counter() - started) * 1000)
            if before is not None:
                cpu[kind] = cpu.get(kind, 0.0) + (process_cpu_seconds(server_pid) or before) - before
            if response.status_code not in (200, 302, 303):
                raise RuntimeError(f"{kind} {url}: {response.status_code} {response.text[:300]}")

        # the saved view: three conditions and a date range, saved as an agent saves it
        since = (datetime.now(timezone.utc) - timedelta(days=VIEW_DAYS)).date().isoformat()
        saved = await client.post("/inbox/views", data={
            "name": "Hot and waiting", "status": "open", "priority": "high", "assignee": "none",
            "created_from": since, "_csrf_token": csrf})
        if saved.status_code not in (302, 303):
            raise RuntimeError(f"saving the view failed: {saved.status_code} {saved.text[:300]}")
        view_url = saved.headers["location"]
        filtered_queries = phrases + probes["names"][:4]
        for _ in range(3):  # warm up
            await client.get("/inbox/q/open")
        for i in range(rounds):
            ticket = rng.randint(1, tickets)
            while ticket in probes.get("hidden", ()):  # --team-only: the agent opens tickets it may see
                ticket = rng.randint(1, tickets)
            await timed("baseline", "GET", "/health")
            await timed("queue", "GET", "/inbox/q/open")
            await timed("filtered", "GET", "/inbox/q/open", params={"tag": tags[i % len(tags)]})
            await timed("view", "GET", view_url)
            await timed("ticket", "GET", f"/inbox/t/{ticket}")
            for kind, options in queries.items():
                await timed(kind, "GET", "/inbox/q/open", params={"q": options[i % len(options)]})
            await timed("search_filtered", "GET", "/inbox/q/open", params={
                "q": filtered_queries[i % len(filtered_queries)], "status": "open", "priority": "high"})
            await timed("reply", "POST", f"/inbox/t/{ticket}/reply", data={
                "text": f"您好，已为您查询，包裹明天送达。({i})", "kind": "reply", "_csrf_token": csrf})
    return results


async def wait_ready(base: str, server: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=base) as client:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise RuntimeError(f"relaydesk serve exited with {server.returncode}")
            try:
                if (await client.get("/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.3)
    raise RuntimeError("relaydesk serve did not answer /health in time")


async def db_size(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        return {"database": await conn.fetchval("SELECT pg_database_size(current_database())"),
                "messages": await conn.fetchval("SELECT count(*) FROM messages"),
                "search_index": await conn.fetchval("SELECT pg_total_relation_size('search_terms') + "
                                                    "pg_total_relation_size('search_docs') + "
                                                    "pg_total_relation_size('search_vocab')"),
                "messages_table": await conn.fetchval("SELECT pg_total_relation_size('messages')"),
                "tickets_table": await conn.fetchval("SELECT pg_total_relation_size('tickets')")}
    finally:
        await conn.close()


async def run(args: argparse.Namespace) -> dict:
    size = "quick" if args.quick else "large" if args.large else "default"
    tickets, messages = SIZES[size]
    rounds = args.rounds or (40 if args.quick else 100)
    name = f"relaydesk_bench_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    folder = Path(tempfile.mkdtemp(prefix="relaydesk-bench-"))
    server = None
    try:
        await db.connect(url)
        await migrate()
        await db.disconnect()
        print(f"filling {tickets:,} tickets and {messages:,} messages into {name} ...", flush=True)
        probes = await fill(url, tickets, messages, team_only=args.team_only)
        await db.connect(url)
        await counts.rebuild()
        await db.disconnect()
        print(f"filled in {probes['seconds']:.1f}s ({probes['terms']:,} search terms)", flush=True)
        config = write_config(folder, url)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([sys.executable, "-m", "core.cli", "serve", "--config", str(config), "--port",
                                   str(port), "--no-access-log"], env=bench_env(), cwd=folder,
                                  stdout=open(folder / "serve.log", "w"), stderr=subprocess.STDOUT)
        await wait_ready(base, server)
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:  # the hostile message
            word = "ab" * 30_000
            await post_inbound(client, "bench-long-word", "h1", f"{word}@example.com {word} 包裹")
        # the stream flows from before the first timed request until the last one is done
        seconds = args.seconds
        out, stop = folder / "stream.json", folder / "stop"
        streamer = subprocess.Popen([sys.executable, __file__, "--stream", base, "--seconds", str(seconds),
                                     "--rate", str(args.rate), "--customers", str(probes["customers"]),
                                     "--out", str(out), "--stop", str(stop)], env=bench_env())
        await asyncio.sleep(2)  # the stream is flowing before the first timed request
        started = time.perf_counter()
        cpu: dict[str, float] = {}
        results = await measure(base, tickets, probes, rounds, server.pid, cpu)
        measured = time.perf_counter() - started
        stop.touch()
        if streamer.wait(timeout=300) != 0:
            raise RuntimeError("the stream process failed")
        live = json.loads(out.read_text())
        live["latencies"], live["post_latencies"] = await live_latencies(url, live)
        sizes = await db_size(url)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if not args.keep:
            admin = await asyncpg.connect(ADMIN_URL)
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
            shutil.rmtree(folder, ignore_errors=True)
    return {"size": size, "tickets": tickets, "messages": messages, "rounds": rounds, "results": results, "cpu": cpu,
            "live": live, "sizes": sizes, "measured_seconds": measured, "stream_seconds": seconds}


def report(run_: dict) -> dict:
    results, live, sizes = run_["results"], run_["live"], run_["sizes"]
    base = statistics.median(results["baseline"])
    cpu = {kind: 1000 * seconds / max(1, len(results[kind])) for kind, seconds in run_.get("cpu", {}).items()}
    print(f"\n{'request':<14} {'p50 ms':>8} {'p95 ms':>8} {'p95 / baseline p50':>20} {'server CPU ms':>14}")
    for kind in KINDS:
        p50, p95 = percentile(results[kind], 0.5), percentile(results[kind], 0.95)
        print(f"{kind:<14} {p50:8.2f} {p95:8.2f} {p95 / base:20.1f} {cpu.get(kind, float('nan')):14.2f}")
    lat = live["latencies"] or [float("nan")]
    post_lat = live["post_latencies"] or [float("nan")]
    print(f"{'live':<14} {percentile(lat, 0.5):8.2f} {percentile(lat, 0.95):8.2f} {percentile(lat, 0.95) / base:20.1f}"
          f"   ({live['stored']} inbound messages at {live['rate']:.1f}/s, {len(live['latencies'])} events seen)")
    print(f"{'live_post':<14} {percentile(post_lat, 0.5):8.2f} {percentile(post_lat, 0.95):8.2f} "
          f"{percentile(post_lat, 0.95) / base:20.1f}   (from posting the webhook, not from its commit)")
    if run_["measured_seconds"] > run_["stream_seconds"]:
        print(f"note: the measurement took {run_['measured_seconds']:.0f}s, longer than the stream may last "
              f"({run_['stream_seconds']}s): raise --seconds")
    per_message = sizes["database"] / max(1, sizes["messages"])
    print(f"database {sizes['database'] / 1e6:.1f} MB for {sizes['messages']:,} messages: {per_message:,.0f} bytes "
          f"per message (search index {sizes['search_index'] / 1e6:.1f} MB, messages {sizes['messages_table'] / 1e6:.1f} MB, "
          f"tickets {sizes['tickets_table'] / 1e6:.1f} MB)")
    search_kinds = [k for k in KINDS if k.startswith("search_") and k != "search_filtered"]
    worst = max(search_kinds, key=lambda k: percentile(results[k], 0.95))
    summary = {"scale": run_["size"], "tickets": run_["tickets"], "messages": run_["messages"], "rounds": run_["rounds"],
               "baseline_p50_ms": round(base, 3),
               "queue_page_p95_ms": round(percentile(results["queue"], 0.95), 2),
               "filtered_p95_ms": round(percentile(results["filtered"], 0.95), 2),
               "ticket_p95_ms": round(percentile(results["ticket"], 0.95), 2),
               "search_p95_ms": round(percentile(results[worst], 0.95), 2), "search_worst_kind": worst,
               **{f"{k}_p95_ms": round(percentile(results[k], 0.95), 2) for k in search_kinds},
               "view_p95_ms": round(percentile(results["view"], 0.95), 2),
               "search_filtered_p95_ms": round(percentile(results["search_filtered"], 0.95), 2),
               "reply_p95_ms": round(percentile(results["reply"], 0.95), 2),
               "live_p95_ms": round(percentile(lat, 0.95), 2), "live_post_p95_ms": round(percentile(post_lat, 0.95), 2),
               "live_events_seen": len(live["latencies"]), "live_rate_per_s": round(live["rate"], 1),
               "db_bytes_per_message": round(per_message), "search_index_bytes_per_message":
                   round(sizes["search_index"] / max(1, sizes["messages"]))}
    # the serve process's CPU per request (the stream's share included): unlike the latencies, a
    # machine busy with other work barely moves it, so it compares two runs on a shared machine
    summary["server_cpu_ms_per_request"] = {kind: round(ms, 2) for kind, ms in cpu.items()}
    summary["queue_page_p95_vs_baseline"] = round(summary["queue_page_p95_ms"] / base, 1)
    summary["search_p95_vs_baseline"] = round(summary["search_p95_ms"] / base, 1)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5k tickets and 50k messages")
    parser.add_argument("--large", action="store_true", help="450k tickets and 2.25M messages")
    parser.add_argument("--rounds", type=int, default=None, help="requests per kind (default 100, quick 40)")
    parser.add_argument("--rate", type=float, default=20.0, help="inbound messages per second during the measurement")
    parser.add_argument("--seconds", type=float, default=3600, help="longest the inbound stream may last")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--team-only", action="store_true", help=(
        "tickets in four teams, one of them team-only with the measuring agent outside it (core.visibility)"))
    parser.add_argument("--stream", metavar="URL", help=argparse.SUPPRESS)  # the stream process's own entry
    parser.add_argument("--customers", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--stop", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stream:
        asyncio.run(stream(args.stream, args.seconds, args.rate, args.customers, args.out, args.stop))
        return
    summary = report(asyncio.run(run(args)))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
