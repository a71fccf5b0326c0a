"""Benchmark routing, the SLA sweep and automation rules.

  route     routing decisions/s through the route hook with 200 agents in 10 teams (a snapshot in
            memory, as core.routing.prepare builds it; the hook itself does no I/O), with skills,
            language match, sticky, VIP/keyword exceptions and one team's claim pool
  sweep     one SLA sweep (core.sla.sweep) over N open tickets on PostgreSQL, of which a few dozen are
            due within the warning lead: it must read those by the tickets_sla_due index, not scan
  rules     rule evaluations/s (core.rules.matches) with 100 rules of mixed conditions (channel, text,
            regex, language, tags, business hours of a calendar, a plugin context field)

Baselines measured in the same run: the default route hook alone (no strategy configured), a
full scan counting the open tickets (what a sweep without the index would cost), and 100 rules
without conditions. Each figure is also printed as a ratio to its baseline. The machine is shared,
so figures are noisy. The last line is one JSON object with route_per_s, sla_sweep_ms, rules_per_s.

  python bench/policies.py            # 100k open tickets, 200k route decisions, 20k rule contexts
  python bench/policies.py --quick    # 10k open tickets, 20k route decisions, 2k rule contexts
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import asyncpg  # noqa: E402

from core import db, rules, sla  # noqa: E402
from core.config import settings_from_dict  # noqa: E402
from core.desk import Desk  # noqa: E402
from core.plugins import load_registry  # noqa: E402
from core.routing import AgentState, Snapshot, TeamSettings, decide  # noqa: E402

ADMIN_URL = os.environ.get("RELAYDESK_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
LANGS = ["en", "de", "fr", "zh", "ja", "es"]
SKILLS = ["refund", "shipping", "warranty", "b2b"]


def settings(url: str) -> object:
    return settings_from_dict({"relaydesk": {"database": url, "queue_name": f"bench-{uuid.uuid4().hex[:6]}"},
                               "plugins": {"enabled": []}}, "bench-plugins.toml")


def snapshot(rng: random.Random) -> Snapshot:
    teams = []
    for t in range(10):
        team = TeamSettings(team=t + 1, name=f"team{t}", strategy="least_loaded" if t % 2 else "round_robin",
                            channels=(f"ch{t}",), sticky=t % 3 == 0, vip_tags=("vip",) if t == 9 else (),
                            keywords=("chargeback",) if t == 8 else (), pool_priorities=("low",) if t == 7 else ())
        for a in range(20):
            team.agents.append(AgentState(t * 20 + a + 1, f"agent{a}", rng.random() < 0.8,
                                          frozenset(rng.sample(LANGS, 2)), 10 ** 9, rng.randint(0, 20),
                                          frozenset(rng.sample(SKILLS, 1))))
        teams.append(team)
    return Snapshot(teams, time.monotonic())


def bench_route(n: int) -> tuple[float, float]:
    rng = random.Random(1)
    registry = load_registry(settings("sqlite:///:memory:"))
    snap = snapshot(rng)
    tickets = [{"channel_type": f"ch{rng.randrange(10)}", "language": rng.choice(LANGS + ["ko"]),
                "customer_tags": ["vip"] if rng.random() < 0.05 else [], "subject": "where is my order",
                "text": "chargeback" if rng.random() < 0.02 else "hello", "last_helper": rng.randint(1, 200),
                "intent": rng.choice(SKILLS + [None]), "tags": rng.sample(["vip", "refund", "late"], 1),
                "priority": "low" if rng.random() < 0.1 else "normal",
                "team": None, "routing": snap} for _ in range(1000)]
    start = time.perf_counter()
    for i in range(n):
        decide(registry, tickets[i % 1000], None)
    route = n / (time.perf_counter() - start)
    empty = Snapshot([], time.monotonic())
    plain = [{**t, "routing": empty} for t in tickets]
    start = time.perf_counter()
    for i in range(n):
        decide(registry, plain[i % 1000], None)
    baseline = n / (time.perf_counter() - start)
    return route, baseline


def bench_rules(contexts: int) -> tuple[float, float]:
    rng = random.Random(2)
    calendars = {"shanghai": sla.Calendar.from_config(
        "Asia/Shanghai", {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}, ["2026-10-01"])}
    kinds = [
        lambda: {"channel": [rng.choice(["email", "shopify", "whatsapp"])]},
        lambda: {"text_contains": [rng.choice(["refund", "broken", "late", "invoice"])]},
        lambda: {"text_regex": r"order\s*#?\d{%d,}" % rng.randint(4, 8)},
        lambda: {"language": [rng.choice(LANGS)], "priority": ["high", "urgent"]},
        lambda: {"tags": ["vip"], "customer_tags": ["wholesale"]},
        lambda: {"business_hours": {"calendar": "shanghai", "inside": rng.random() < 0.5}},
        lambda: {"fields": [{"field": "shop.order_status", "in": ["unfulfilled", "on_hold"]}]},
    ]
    rule_set = [rules.Rule(i, f"r{i}", "created", kinds[i % len(kinds)](), [{"tag": "x"}]) for i in range(100)]
    bare = [rules.Rule(i, f"r{i}", "created", {}, [{"tag": "x"}]) for i in range(100)]
    ctxs = [{"channel_type": rng.choice(["email", "shopify", "whatsapp"]), "language": rng.choice(LANGS),
             "priority": rng.choice(["low", "normal", "high"]), "tags": rng.sample(["vip", "refund", "late"], 1),
             "customer_tags": [], "text": f"Hello, my order #{rng.randint(1000, 10 ** 9)} arrived broken " * 3,
             "calendars": calendars, "now": datetime(2026, 11, 23, rng.randrange(24), tzinfo=timezone.utc),
             "context": {"shop": {"order_status": rng.choice(["unfulfilled", "fulfilled"])}}}
            for _ in range(500)]

    def run(rs: list[rules.Rule]) -> float:
        start = time.perf_counter()
        for i in range(contexts):
            ctx = ctxs[i % 500]
            for rule in rs:
                rules.matches(rule, ctx)
        return contexts * len(rs) / (time.perf_counter() - start)

    return run(rule_set), run(bare)


async def bench_sweep(n: int) -> dict[str, float]:
    name = f"relaydesk_bench_{os.getpid()}"
    admin = await asyncpg.connect(ADMIN_URL)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    desk = Desk(settings(url))
    try:
        await desk.start(run_jobs=False, migrate=True)
        now = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
        conn = await asyncpg.connect(url)
        try:
            await conn.execute("INSERT INTO customers (name, tags, notes, created_at, updated_at) VALUES ('c', '[]', '', $1, $1)", now)
            # due times spread over 30 days ahead; 1 in 2000 is due within the next 30 minutes
            await conn.execute(
                "INSERT INTO tickets (subject, status, priority, customer, channel_type, created_at, updated_at, "
                "last_message_at, first_response_due_at, resolution_due_at, sla_due_at, first_response_breached, "
                "next_response_breached, resolution_breached) "
                "SELECT 's', 'open', 'normal', 1, 'email', $1::timestamptz, $1::timestamptz, $1::timestamptz, d, d + interval '2 days', d, FALSE, FALSE, FALSE "
                "FROM (SELECT i, CASE WHEN i % 2000 = 0 THEN $1::timestamptz + interval '10 minutes' "
                "ELSE $1::timestamptz + (interval '1 hour' + (i % 43200) * interval '1 minute') END AS d "
                "FROM generate_series(1, $2::int) AS i) s", now, n)
            await conn.execute("ANALYZE tickets")
            plan = "\n".join(r[0] for r in await conn.fetch(
                "EXPLAIN SELECT id FROM tickets WHERE sla_due_at <= $1 ORDER BY sla_due_at LIMIT 1000",
                now + sla.WARNING_LEAD))
            start = time.perf_counter()
            await conn.fetchval("SELECT COUNT(*) FROM tickets WHERE status IN ('new', 'open', 'pending', 'on-hold') "
                                "AND first_response_breached = FALSE")
            scan_ms = (time.perf_counter() - start) * 1000
        finally:
            await conn.close()
        start = time.perf_counter()
        result = await sla.sweep(desk, now=now)
        sweep_ms = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        again = await sla.sweep(desk, now=now)
        repeat_ms = (time.perf_counter() - start) * 1000
        return {"sweep_ms": sweep_ms, "repeat_ms": repeat_ms, "scan_ms": scan_ms, "warnings": result.warnings,
                "seen": result.seen, "again_warnings": again.warnings, "index": "tickets_sla_due" in plan}
    finally:
        await desk.stop()
        await db.disconnect()
        admin = await asyncpg.connect(ADMIN_URL)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10k tickets, 20k decisions, 2k rule contexts")
    args = parser.parse_args()
    tickets, decisions, contexts = (10_000, 20_000, 2_000) if args.quick else (100_000, 200_000, 20_000)

    route, route_base = bench_route(decisions)
    print(f"route   {route:12,.0f} decisions/s  (200 agents, 10 teams)   baseline default hook {route_base:12,.0f}/s"
          f"  ratio {route / route_base:.2f}")
    rules_s, rules_base = bench_rules(contexts)
    print(f"rules   {rules_s:12,.0f} evaluations/s (100 rules)          baseline no conditions {rules_base:11,.0f}/s"
          f"  ratio {rules_s / rules_base:.2f}")
    sweep = asyncio.run(bench_sweep(tickets))
    print(f"sweep   {sweep['sweep_ms']:9.1f} ms over {tickets:,} open tickets ({sweep['seen']} due, {sweep['warnings']} warned;"
          f" again: {sweep['repeat_ms']:.1f} ms, {sweep['again_warnings']} warned)  index used: {sweep['index']}")
    print(f"        baseline full scan of open tickets {sweep['scan_ms']:.1f} ms  ratio {sweep['sweep_ms'] / sweep['scan_ms']:.2f}")
    print(json.dumps({"route_per_s": round(route), "sla_sweep_ms": round(sweep["sweep_ms"], 1),
                      "rules_per_s": round(rules_s), "route_baseline_per_s": round(route_base),
                      "sla_scan_baseline_ms": round(sweep["scan_ms"], 1), "rules_baseline_per_s": round(rules_base),
                      "tickets": tickets, "sla_index_used": sweep["index"]}))


if __name__ == "__main__":
    main()
