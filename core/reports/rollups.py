"""Folding facts into the hourly rollups, and rebuilding them from history.

Facts are appended by triggers (schema.py) and carry `folded = FALSE` until a fold adds them to
report_rollups. A fold marks and sums in one transaction: on PostgreSQL one statement (an UPDATE
... RETURNING feeding two upserts), under an advisory lock so two folds never wait on each other's
row locks; on SQLite the transaction holds the one write lock. Marking rows, rather than keeping a
"last folded id", is what makes it exact on PostgreSQL, where a lower id may commit after a higher.
Readers fold before they read, so a figure is current the moment its change commits.
"""

from __future__ import annotations

from typing import Callable

from core import db
from core.reports import schema

_LOCK = 7_250_021  # PostgreSQL advisory lock: one fold or rebuild at a time
CHUNK = 20_000  # facts per fold while rebuilding


def engine_name() -> str:
    return "sqlite" if db.is_sqlite() else "postgres"


async def _fold_range(low: int | None = None, high: int | None = None) -> int:
    """Fold the unfolded facts (with low < id <= high when given); returns how many."""
    bounds = "".join(f" AND id {op} {v}" for op, v in ((">", low), ("<=", high)) if v is not None)
    if engine_name() == "postgres":
        await db.fetch(f"SELECT pg_advisory_xact_lock({_LOCK})")
        upserts = schema.fold_selects("marked AS f")
        parts = ", ".join(f"u{i} AS ({sql} RETURNING 1)" for i, sql in enumerate(upserts))
        counted = " + ".join(f"(SELECT COUNT(*) FROM u{i})" for i in range(len(upserts)))
        rows = await db.fetch(
            "WITH marked AS (UPDATE report_facts SET folded = TRUE WHERE id IN "
            f"(SELECT id FROM report_facts WHERE NOT folded{bounds}) RETURNING *), {parts} "
            f"SELECT (SELECT COUNT(*) FROM marked) AS n, {counted} AS r")
        return int(rows[0]["n"])
    top = await db.fetch(f"SELECT MAX(id) AS m, COUNT(*) AS n FROM report_facts WHERE NOT folded{bounds}")
    if not top[0]["n"]:
        return 0
    source = f"(SELECT * FROM report_facts WHERE NOT folded{bounds} AND id <= {int(top[0]['m'])}) AS f"
    for statement in schema.fold_selects(source):
        await db.fetch(statement)
    await db.fetch(f"UPDATE report_facts SET folded = TRUE WHERE NOT folded{bounds} AND id <= {int(top[0]['m'])}")
    return int(top[0]["n"])


async def fold() -> int:
    """Fold every unfolded fact (cheap when there are none: one index probe)."""
    pending = await db.fetch("SELECT id FROM report_facts WHERE NOT folded LIMIT 1")
    if not pending:
        return 0
    async with db.transaction():
        return await _fold_range()


async def fold_job(ctx: dict) -> int:
    """The periodic fold, so figures stay current on a desk where nobody opens the reports."""
    return await fold()


def seed_statements(engine: str) -> list[str]:
    """Facts for tickets as they stand, for history older than the triggers (migration core_0015,
    `relaydesk reports rebuild --from-tickets`). Only the latest solve of a ticket is known there,
    a reopen only when the customer wrote after it, and a first-response target that was met is
    assumed when the ticket had SLA due times and no breach (the due time is cleared on reply)."""
    cols = schema.FACT_COLUMNS
    hour = lambda x: schema.hour_sql(engine, x)  # noqa: E731
    secs = lambda a, b: schema.seconds_sql(engine, a, b)  # noqa: E731
    dims = "t.channel_type, t.account, t.team, t.assignee, t.language"
    open_now = f"t.status IN {schema.OPEN}"
    solved_late = schema.not_later_sql(engine, "t.solved_at", "t.resolution_due_at")
    reopened = schema.not_later_sql(engine, "t.solved_at", "t.last_customer_message_at")
    return [
        f"INSERT INTO report_facts ({cols}) SELECT {hour('t.created_at')}, t.id, 'created', "
        f"CASE WHEN t.status = 'spam' THEN 1 ELSE 0 END, 0, 0, 0, CASE WHEN t.status = 'spam' THEN 0 ELSE 1 END, {dims} "
        "FROM tickets t",
        f"INSERT INTO report_facts ({cols}) SELECT {hour('t.first_responded_at')}, t.id, 'first_response', "
        f"{secs('t.first_responded_at', 't.created_at')}, 0, 0, CASE WHEN t.first_response_breached THEN 0 "
        "WHEN t.resolution_due_at IS NOT NULL OR t.next_response_due_at IS NOT NULL THEN 1 ELSE 0 END, 0, "
        f"{dims} FROM tickets t WHERE t.first_responded_at IS NOT NULL",
        f"INSERT INTO report_facts ({cols}) SELECT {hour('COALESCE(t.first_response_due_at, t.created_at)')}, t.id, "
        f"'fr_breach', 0, 0, 0, -1, 0, {dims} FROM tickets t WHERE t.first_response_breached",
        f"INSERT INTO report_facts ({cols}) SELECT {hour('COALESCE(t.resolution_due_at, t.created_at)')}, t.id, "
        f"'res_breach', 0, 0, 0, -1, 0, {dims} FROM tickets t WHERE t.resolution_breached",
        f"INSERT INTO report_facts ({cols}) SELECT {hour('t.solved_at')}, t.id, 'solved', "
        f"{secs('t.solved_at', 't.created_at')}, {schema.replies_sql('t')}, 1, "
        f"CASE WHEN t.resolution_due_at IS NULL OR t.resolution_breached THEN 0 WHEN {solved_late} THEN 1 ELSE -1 END, "
        f"-1, {dims} FROM tickets t WHERE t.solved_at IS NOT NULL AND t.status <> 'spam'",
        f"INSERT INTO report_facts ({cols}) SELECT {hour('t.last_customer_message_at')}, t.id, 'reopened', 0, 0, 0, "
        f"0, 1, {dims} FROM tickets t WHERE t.solved_at IS NOT NULL AND {open_now} "
        f"AND t.last_customer_message_at IS NOT NULL AND {reopened}",
        f"INSERT INTO report_facts ({cols}) SELECT {hour('COALESCE(t.closed_at, t.updated_at)')}, t.id, 'status', "
        f"0, 0, 0, 0, -1, {dims} FROM tickets t WHERE t.solved_at IS NULL AND NOT ({open_now}) AND t.status <> 'spam'",
    ]


async def seed_from_tickets() -> int:
    """Replace every fact with the facts the tickets' current state shows; returns how many."""
    async with db.transaction():
        if engine_name() == "postgres":
            await db.fetch(f"SELECT pg_advisory_xact_lock({_LOCK})")
        await db.fetch("DELETE FROM report_facts")
        for statement in seed_statements(engine_name()):
            await db.fetch(statement)
    rows = await db.fetch("SELECT COUNT(*) AS n FROM report_facts")
    return int(rows[0]["n"])


async def rebuild(progress: Callable[[int, int], None] | None = None, chunk: int = CHUNK) -> int:
    """Empty the rollups and fold every fact again, `chunk` facts per transaction; `progress(done,
    total)` after each. Returns how many facts were folded. While it runs, readers see partial
    figures (it is for repairs and upgrades, not a routine job)."""
    async with db.transaction():
        if engine_name() == "postgres":
            await db.fetch(f"SELECT pg_advisory_xact_lock({_LOCK})")
        await db.fetch("DELETE FROM report_rollups")
        await db.fetch("UPDATE report_facts SET folded = FALSE WHERE folded")
    bounds = await db.fetch("SELECT MIN(id) AS lo, MAX(id) AS hi, COUNT(*) AS n FROM report_facts")
    total = int(bounds[0]["n"] or 0)
    if not total:
        if progress:
            progress(0, 0)
        return 0
    low, high, done = int(bounds[0]["lo"]) - 1, int(bounds[0]["hi"]), 0
    while low < high:
        async with db.transaction():
            done += await _fold_range(low, low + chunk)
        low += chunk
        if progress:
            progress(done, total)
    done += await fold()  # facts appended while it ran
    return done
