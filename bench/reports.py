"""Benchmark the reports on PostgreSQL, over real HTTP, as a supervisor's browser gets them.

Fills a fresh PostgreSQL database (COPY through asyncpg, row triggers off) with a year of tickets
and their messages: several channels, teams, agents, languages and tags, first responses, solves,
reopened and breached tickets, with weekly and daily seasonality and an 11.11 peak. Then:

  rebuild        `core.reports.rollups`: the facts from the tickets' history (seed_from_tickets)
                 and the rollups folded from them (rebuild), timed: facts/s and messages/s
  report_30d     the whole reports page (/inbox/reports) for a 30-day range, by each breakdown
                 (channel, account, team, agent, language, tag), random end dates
  report_365d    the same for a 365-day range
  csv_30d        a CSV download of the breakdown table (30 days)
  api_30d        GET /api/v1/reports/ (30 days)

The desk runs with `relaydesk serve` in its own process; this process times full responses (p50,
p95 in ms). The machine is shared, so figures are noisy. The last line is one JSON object with
report_p95_ms, year_report_p95_ms and rebuild_per_s (messages per second of history rebuilt).

  python bench/reports.py --quick   # 5k tickets, 50k messages
  python bench/reports.py           # 100k tickets, 1M messages over a year

RELAYDESK_BENCH_PG names the server's admin database (default postgresql://postgres@127.0.0.1:5432/test);
the bench creates its own database there and drops it afterwards (--keep keeps it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from bench.inbox import ADMIN_URL, bench_env, free_port, percentile, wait_ready, write_config  # noqa: E402
from core import counts, db  # noqa: E402
from core.auth import hash_password  # noqa: E402
from core.migrate import migrate  # noqa: E402
from core.reports import rollups  # noqa: E402

SIZES = {"quick": (5_000, 50_000), "default": (100_000, 1_000_000)}
CHANNELS = ["email", "email", "whatsapp", "facebook", "shopify", "amazon", "api"]
LANGUAGES = ["zh", "zh", "zh", "en", "en", "de", "ja"]
TAGS = ["物流", "退货", "refund", "shipping", "vip", "invoice", "pre-sale", "投诉"]
BREAKDOWNS = ("channel", "account", "team", "agent", "language", "tag")
END = date(2026, 11, 30)


def arrival_times(rng: random.Random, n: int, end: datetime) -> list[datetime]:
    """n arrival instants over the year before `end`: busier weekdays and afternoons, a climb to 11.11."""
    out = []
    start = end - timedelta(days=365)
    while len(out) < n:
        moment = start + timedelta(seconds=rng.randrange(365 * 86400))
        local = moment + timedelta(hours=8)
        weight = (1.0 if local.weekday() < 5 else 0.6) * (0.25 if local.hour < 8 else 1.0 if local.hour < 22 else 0.5)
        copies = 3 if local.month == 11 and 9 <= local.day <= 13 else 1  # the 11.11 peak: three times as busy
        out.extend(moment for _ in range(copies) if rng.random() < weight)
    return sorted(out[:n])


async def fill(url: str, tickets: int, messages: int, seed: int = 7) -> dict:
    rng = random.Random(seed)
    end = datetime.combine(END + timedelta(days=1), datetime.min.time(), timezone.utc)
    conn = await asyncpg.connect(url)
    started = time.perf_counter()
    await conn.execute("SET session_replication_role = replica")  # a restore: triggers off
    try:
        accounts = [await conn.fetchval("INSERT INTO channel_accounts (plugin, name, channel_type, created_at) "
                                        "VALUES ($1, 'main', $2, now()) RETURNING id", f"p_{c}", c)
                    for c in sorted(set(CHANNELS))]
        account_of = dict(zip(sorted(set(CHANNELS)), accounts))
        teams = [await conn.fetchval("INSERT INTO teams (name, created_at) VALUES ($1, now()) RETURNING id", f"Team {i}")
                 for i in range(4)]
        agents = []
        for i in range(20):
            agents.append(await conn.fetchval(
                "INSERT INTO agents (name, email, password_hash, role, languages, skills, capacity, availability, "
                "timezone, locale, active, created_at, session_generation) VALUES ($1, $2, $3, $4, '[]', '[]', 20, "
                "'online', 'Asia/Shanghai', 'zh', true, now(), 0) RETURNING id",
                f"Agent {i}", f"agent{i}@bench.example", hash_password("pw"), "supervisor" if i == 0 else "agent"))
        customers = max(1, tickets // 2)
        await conn.copy_records_to_table("customers", columns=["id", "name", "email", "tags", "notes", "created_at",
                                                               "updated_at"], records=[
            (i + 1, f"C{i}", f"c{i + 1}@bench.example", "[]", "", end, end) for i in range(customers)])
        ticket_rows, tag_rows, message_rows = [], [], []
        per_ticket = [1] * tickets
        for _ in range(messages - tickets):
            per_ticket[rng.randrange(tickets)] += 1
        mid = 0
        for t, created in enumerate(arrival_times(rng, tickets, end), start=1):
            channel = rng.choice(CHANNELS)
            chat = channel in ("whatsapp", "facebook")
            responded = created + timedelta(minutes=rng.expovariate(1 / (8 if chat else 240))) if rng.random() < 0.95 else None
            solved = (responded + timedelta(hours=rng.expovariate(1 / (3 if chat else 30)))) if responded and rng.random() < 0.9 else None
            if solved and solved > end:
                solved = None
            if responded and responded > end:
                responded = None
            status = "solved" if solved else rng.choice(["open", "pending", "new"]) if created > end - timedelta(days=10) else "closed"
            if status == "closed":
                solved = None
            fr_due = created + timedelta(minutes=10 if chat else 480)
            res_due = created + timedelta(hours=24 if chat else 72)
            reopened = bool(solved) and rng.random() < 0.06
            last_customer = solved + timedelta(hours=2) if reopened else created
            if reopened:
                status = "open"
            ticket_rows.append((t, "subject", status, rng.randint(1, customers), account_of[channel], channel,
                                rng.choice(agents), rng.choice(teams), rng.choice(LANGUAGES), created,
                                solved or responded or created, created, last_customer, responded,
                                None if responded else fr_due, res_due, bool(responded and responded > fr_due),
                                bool(solved and solved > res_due), solved, None))
            for tag in rng.sample(TAGS, rng.choice([0, 1, 1, 2])):
                tag_rows.append((t, tag))
            for n in range(per_ticket[t - 1]):
                mid += 1
                direction = "inbound" if n % 2 == 0 else "outbound"
                message_rows.append((mid, t, account_of[channel], direction, None if direction == "inbound" else agents[0],
                                     "text", created + timedelta(minutes=n)))
            if len(message_rows) >= 100_000:
                await _copy(conn, ticket_rows, tag_rows, message_rows)
                ticket_rows, tag_rows, message_rows = [], [], []
        await _copy(conn, ticket_rows, tag_rows, message_rows)
        for table in ("customers", "tickets", "messages"):
            await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        await conn.execute("SET session_replication_role = DEFAULT")
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    return {"seconds": time.perf_counter() - started, "messages": mid}


async def _copy(conn: asyncpg.Connection, tickets: list, tags: list, messages: list) -> None:
    await conn.copy_records_to_table("tickets", columns=[
        "id", "subject", "status", "customer", "account", "channel_type", "assignee", "team", "language", "created_at",
        "updated_at", "last_message_at", "last_customer_message_at", "first_responded_at", "first_response_due_at",
        "resolution_due_at", "first_response_breached", "resolution_breached", "solved_at", "closed_at"], records=tickets)
    await conn.copy_records_to_table("ticket_tags", columns=["ticket", "tag"], records=tags)
    await conn.copy_records_to_table("messages", columns=["id", "ticket", "account", "direction", "author", "text",
                                                          "created_at"], records=messages)


async def sign_in(client: httpx.AsyncClient) -> None:
    login = await client.get("/login")
    token = login.text.split('name="_csrf_token" value="')[1].split('"')[0]
    response = await client.post("/login", data={"email": "agent0@bench.example", "password": "pw",
                                                 "_csrf_token": token, "next": "/inbox"})
    if response.status_code not in (200, 302, 303):
        raise RuntimeError(f"sign-in failed: {response.status_code}")


async def api_token(url: str) -> str:
    from core.auth import create_token

    await db.connect(url)
    try:
        agent = (await db.fetch("SELECT id FROM agents WHERE email = 'agent0@bench.example'"))[0]["id"]
        return await create_token(agent, "bench")
    finally:
        await db.disconnect()


async def measure(base: str, token: str, rounds: int) -> dict[str, list[float]]:
    rng = random.Random(3)
    results: dict[str, list[float]] = {"report_30d": [], "report_365d": [], "csv_30d": [], "api_30d": []}
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        await sign_in(client)

        async def timed(kind: str, url: str, params: dict, headers: dict | None = None) -> None:
            started = time.perf_counter()
            response = await client.get(url, params=params, headers=headers)
            results[kind].append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"{kind} {url} {params}: {response.status_code} {response.text[:300]}")

        await client.get("/inbox/reports")  # warm up
        for i in range(rounds):
            last = END - timedelta(days=rng.randrange(300))
            month = {"since": (last - timedelta(days=29)).isoformat(), "until": last.isoformat(),
                     "by": BREAKDOWNS[i % len(BREAKDOWNS)]}
            await timed("report_30d", "/inbox/reports", month)
            await timed("csv_30d", "/inbox/reports/csv/breakdown", month)
            await timed("api_30d", "/api/v1/reports/", month, {"authorization": f"Bearer {token}"})
            year = {"since": (END - timedelta(days=364)).isoformat(), "until": END.isoformat(),
                    "by": BREAKDOWNS[i % len(BREAKDOWNS)]}
            await timed("report_365d", "/inbox/reports", year)
    return results


async def run(args: argparse.Namespace) -> dict:
    size = "quick" if args.quick else "default"
    tickets, messages = SIZES[size]
    rounds = args.rounds or (30 if args.quick else 60)
    name = f"relaydesk_bench_reports_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    folder = Path(tempfile.mkdtemp(prefix="relaydesk-bench-reports-"))
    server = None
    try:
        await db.connect(url)
        await migrate()
        await db.disconnect()
        print(f"filling {tickets:,} tickets and {messages:,} messages over a year into {name} ...", flush=True)
        filled = await fill(url, tickets, messages)
        print(f"filled in {filled['seconds']:.1f}s", flush=True)
        await db.connect(url)
        try:
            await counts.rebuild()
            started = time.perf_counter()
            facts = await rollups.seed_from_tickets()
            seeded = time.perf_counter() - started
            folded = await rollups.rebuild()
            rebuild_seconds = time.perf_counter() - started
            rollup_rows = (await db.fetch("SELECT COUNT(*) AS n FROM report_rollups"))[0]["n"]
        finally:
            await db.disconnect()
        print(f"rebuilt {facts:,} facts ({folded:,} folded, {rollup_rows:,} rollup rows) in {rebuild_seconds:.1f}s "
              f"(seeding {seeded:.1f}s)", flush=True)
        token = await api_token(url)
        config = write_config(folder, url)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([sys.executable, "-m", "core.cli", "serve", "--config", str(config), "--port",
                                   str(port), "--no-access-log"], env=bench_env(), cwd=folder,
                                  stdout=open(folder / "serve.log", "w"), stderr=subprocess.STDOUT)
        await wait_ready(base, server)
        results = await measure(base, token, rounds)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if not args.keep:
            admin = await asyncpg.connect(ADMIN_URL)
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
            shutil.rmtree(folder, ignore_errors=True)
    return {"size": size, "tickets": tickets, "messages": filled["messages"], "facts": facts,
            "rollup_rows": rollup_rows, "rebuild_seconds": rebuild_seconds, "results": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5k tickets and 50k messages")
    parser.add_argument("--rounds", type=int, default=None, help="requests per kind (default 60, quick 30)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    out = asyncio.run(run(args))
    print(f"{out['tickets']:,} tickets, {out['messages']:,} messages, {out['facts']:,} facts, "
          f"{out['rollup_rows']:,} rollup rows")
    for kind, values in out["results"].items():
        print(f"{kind:12s} p50 {percentile(values, 0.5):7.1f} ms   p95 {percentile(values, 0.95):7.1f} ms   n={len(values)}")
    per_s = out["messages"] / out["rebuild_seconds"] if out["rebuild_seconds"] else 0.0
    print(f"rebuild      {out['rebuild_seconds']:.1f} s: {per_s:,.0f} messages/s, "
          f"{out['facts'] / out['rebuild_seconds']:,.0f} facts/s")
    print(json.dumps({"size": out["size"], "report_p95_ms": round(percentile(out["results"]["report_30d"], 0.95), 1),
                      "year_report_p95_ms": round(percentile(out["results"]["report_365d"], 0.95), 1),
                      "csv_p95_ms": round(percentile(out["results"]["csv_30d"], 0.95), 1),
                      "api_p95_ms": round(percentile(out["results"]["api_30d"], 0.95), 1),
                      "rebuild_per_s": round(per_s), "facts_per_s": round(out["facts"] / out["rebuild_seconds"])}))


if __name__ == "__main__":
    main()
