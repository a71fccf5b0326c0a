"""Benchmark the agent inbox on PostgreSQL.

Fills a fresh PostgreSQL database (COPY through asyncpg) with tickets and messages, most of them in
Chinese, plus the search index, then measures the server time of the inbox's main requests through
the real app (ASGI in-process, a signed-in session, templates rendered):

  queue     the main queue's list (all open, sorted by SLA due time)
  queue+nav the whole queue page, with the counts of the left navigation
  filtered  the open queue narrowed to a tag
  ticket    the ticket view (timeline across the customer's tickets, panels, reply box)
  search    search for an order number, a customer name and a Chinese phrase

Baseline: a bare primary-key SELECT of one ticket in the same run; each figure is also given as a
ratio to it. The machine is shared, so figures are noisy. The last line is one JSON object.

  python bench/inbox.py            # 100k tickets, 1M messages
  python bench/inbox.py --quick    # 5k tickets, 50k messages
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from core import db, search  # noqa: E402
from core.auth import hash_password  # noqa: E402
from core.config import settings_from_dict  # noqa: E402
from core.desk import Desk  # noqa: E402
from core.migrate import migrate  # noqa: E402

ADMIN_URL = os.environ.get("RELAYDESK_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")

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


async def fill(url: str, tickets: int, messages: int, seed: int = 7) -> dict:
    """COPY customers, tickets, messages, tags and search terms; returns names to search for."""
    rng = random.Random(seed)
    customers = max(1, tickets // 2)
    now = datetime.now(timezone.utc)
    conn = await asyncpg.connect(url)
    started = time.perf_counter()
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
        per_ticket = [1] * tickets
        for _ in range(messages - tickets):
            per_ticket[rng.randrange(tickets)] += 1
        order_of: dict[int, str] = {}
        for t in range(1, tickets + 1):
            customer = rng.randint(1, customers)
            status = rng.choice(statuses)
            is_open = status in ("new", "open", "pending")
            due = now + timedelta(minutes=rng.randint(-600, 3000)) if is_open and rng.random() < 0.9 else None
            order = f"{rng.choice('ABCDE')}-{rng.randint(10000, 99999)}{t}"
            order_of[t] = order
            created = now - timedelta(minutes=rng.randint(1, 60 * 24 * 90))
            subject = sentence(rng, order)[:60]
            assignee = rng.choice(agent_ids) if rng.random() < 0.6 else None
            ticket_rows.append((t, subject, status, rng.choice(["normal", "normal", "high", "low", "urgent"]), customer,
                                account, "api", assignee, created, created, created, due))
            for tag in rng.sample(TAGS, rng.choice([0, 0, 1, 1, 2])):
                tag_rows.append((t, tag))
        await conn.copy_records_to_table("tickets", columns=[
            "id", "subject", "status", "priority", "customer", "account", "channel_type", "assignee", "created_at",
            "updated_at", "last_message_at", "sla_due_at"], records=ticket_rows)
        await conn.copy_records_to_table("ticket_tags", columns=["ticket", "tag"], records=tag_rows)
        message_rows: list[tuple] = []
        term_rows: list[tuple] = []
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
                direction = "inbound" if n % 2 == 0 else "outbound"
                message_rows.append((mid, t, account, direction, customer if direction == "inbound" else None, text,
                                     f"bench-{mid}", "delivered" if direction == "outbound" else None,
                                     '{"order_ids": ["%s"]}' % order if n == 0 else "{}",
                                     created + timedelta(minutes=n)))
                terms |= search.terms(text)
            term_rows.extend((term, t) for term in terms)
            if len(message_rows) >= 100_000:
                await _copy_messages(conn, message_rows)
                message_rows = []
            if len(term_rows) >= 500_000:
                await conn.copy_records_to_table("search_terms", columns=["term", "ticket"], records=term_rows)
                term_count += len(term_rows)
                term_rows = []
        await _copy_messages(conn, message_rows)
        await conn.copy_records_to_table("search_terms", columns=["term", "ticket"], records=term_rows)
        term_count += len(term_rows)
        for table, column in (("customers", "id"), ("tickets", "id"), ("messages", "id")):
            await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), (SELECT max(id) FROM {table}))")
        await conn.execute("INSERT INTO search_state (name, last_id) VALUES ('tickets', $1), ('messages', $2)", tickets, mid)
        await conn.execute("VACUUM ANALYZE")  # what autovacuum does after a bulk load
    finally:
        await conn.close()
    return {"seconds": time.perf_counter() - started, "orders": [order_of[rng.randint(1, tickets)] for _ in range(20)],
            "names": [names[rng.randrange(customers)] for _ in range(20)], "terms": term_count}


async def _copy_messages(conn: asyncpg.Connection, rows: list[tuple]) -> None:
    if rows:
        await conn.copy_records_to_table("messages", columns=[
            "id", "ticket", "account", "direction", "customer", "text", "external_id", "delivery_status", "metadata",
            "created_at"], records=rows)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def measure(url: str, tickets: int, probes: dict, rounds: int) -> dict:
    os.environ.setdefault("RELAYDESK_BENCH_API_SECRET", "bench-secret")
    settings = settings_from_dict({
        "relaydesk": {"database": url, "data_dir": str(REPO / "bench" / "results" / "inbox-data"),
                      "queue_name": f"bench-{uuid.uuid4().hex[:6]}"},
        "plugins": {"enabled": ["api_channel"],
                    "api_channel": {"accounts": {"main": {"secret": {"env": "RELAYDESK_BENCH_API_SECRET"}}}}},
    }, "bench")
    desk = Desk(settings)
    await desk.start(run_jobs=False)
    from web.app import create_app

    rng = random.Random(11)
    transport = httpx.ASGITransport(app=create_app(desk=desk))
    results: dict[str, list[float]] = {}
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            login = await client.get("/login")
            token = login.text.split('name="_csrf_token" value="')[1].split('"')[0]
            response = await client.post("/login", data={"email": "agent0@bench.example", "password": "pw",
                                                         "_csrf_token": token})
            assert response.status_code in (200, 302, 303), response.text[:300]
            fragment = {"hx-request": "true", "hx-target": "ticket-list"}
            queries = [*probes["orders"], *probes["names"], "物流信息", "退货退款", "蓝牙耳机 破损"]

            async def timed(name: str, call) -> None:
                started = time.perf_counter()
                response = await call()
                results.setdefault(name, []).append((time.perf_counter() - started) * 1000)
                if getattr(response, "status_code", 200) != 200:
                    raise RuntimeError(f"{name}: {response.status_code} {response.text[:200]}")

            for _ in range(3):  # warm up
                await client.get("/inbox/q/open")
            for i in range(rounds):
                ticket = rng.randint(1, tickets)
                await timed("baseline", lambda: db.fetch("SELECT * FROM tickets WHERE id = {}", ticket))
                await timed("queue", lambda: client.get("/inbox/q/open", headers=fragment))
                await timed("queue_nav", lambda: client.get("/inbox/q/open"))
                await timed("filtered", lambda: client.get("/inbox/q/open", params={"tag": rng.choice(TAGS)},
                                                           headers=fragment))
                await timed("ticket", lambda: client.get(f"/inbox/t/{ticket}"))
                query = queries[i % len(queries)]
                await timed("search", lambda: client.get("/inbox/q/open", params={"q": query}, headers=fragment))
    finally:
        await desk.stop()
    return results


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5k tickets and 50k messages instead of 100k and 1M")
    parser.add_argument("--rounds", type=int, default=None, help="requests per kind (default 200, quick 60)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    tickets, messages = (5_000, 50_000) if args.quick else (100_000, 1_000_000)
    rounds = args.rounds or (60 if args.quick else 200)
    name = f"relaydesk_bench_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        await db.connect(url)
        await migrate()
        await db.disconnect()
        print(f"filling {tickets:,} tickets and {messages:,} messages into {name} ...", flush=True)
        probes = await fill(url, tickets, messages)
        print(f"filled in {probes['seconds']:.1f}s ({probes['terms']:,} search terms)", flush=True)
        results = await measure(url, tickets, probes, rounds)
    finally:
        if not args.keep:
            admin = await asyncpg.connect(ADMIN_URL)
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
    base = statistics.median(results["baseline"])
    print(f"\n{'request':<10} {'p50 ms':>8} {'p95 ms':>8} {'p95 / PK select':>16}")
    for key in ("baseline", "queue", "queue_nav", "filtered", "ticket", "search"):
        p50, p95 = percentile(results[key], 0.5), percentile(results[key], 0.95)
        print(f"{key:<10} {p50:8.2f} {p95:8.2f} {p95 / base:16.1f}")
    print("targets: queue, filtered, ticket p95 < 50 ms; search p95 < 150 ms (shared 2-core machine: noisy)")
    summary = {"tickets": tickets, "messages": messages, "rounds": rounds,
               "baseline_p50_ms": round(base, 3),
               "queue_p95_ms": round(percentile(results["queue"], 0.95), 2),
               "queue_nav_p95_ms": round(percentile(results["queue_nav"], 0.95), 2),
               "filtered_p95_ms": round(percentile(results["filtered"], 0.95), 2),
               "ticket_p95_ms": round(percentile(results["ticket"], 0.95), 2),
               "search_p95_ms": round(percentile(results["search"], 0.95), 2)}
    print(json.dumps(summary))


if __name__ == "__main__":
    asyncio.run(main())
