"""Copy a desk's database to another one (SQLite to PostgreSQL or back), leaving the source untouched.

Every table the core and the enabled plugins define is copied row for row, ids included, so API
tokens, sessions, the desk id (and with it the idempotency keys of replies) and every reference
stay valid. What the desk derives from those rows is rebuilt on the target instead of copied: the
navigation counts (core/counts.py), the search index (core/search.py), whose layout differs
between the two databases, and the report rollups (core/reports; their facts are copied). Presence and worker heartbeats are moment-to-moment and start empty.

The target must be a new, empty database: it is migrated first, and refused if it already holds
agents, customers or tickets. Attachments' files stay in the data folder; only their index moves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table, sort_table_classes

from core import counts, db, search
from core.reports import rollups
from core.migrate import migrate, pending
from core.tables import ALL_TABLES, SYSTEM_TABLES, Agent, Customer, Ticket

# Rebuilt on the target (counts, search index) or moment-to-moment (presence, heartbeats).
NOT_COPIED = frozenset({"ticket_counts", "search_terms", "search_state", "ticket_viewers", "worker_heartbeats",
                        "report_rollups"})
# History that triggers also write while the tickets are copied (core/reports): copied last, after
# what the triggers wrote on the target is cleared, so the source's history is what arrives.
WRITTEN_BY_TRIGGERS = ("report_facts",)
# Tables no piccolo class describes: the PostgreSQL search index, and piccolo's own migration log.
DERIVED_RAW = frozenset({"search_docs", "search_vocab", "migration"})
# A target holding any of these already is somebody's desk: never overwrite it.
DESK_DATA = (Agent, Customer, Ticket)
ROWS_PER_BATCH = 500


class CopyError(Exception):
    """The copy cannot start or did not check out; the message says what to do."""


@dataclass
class CopyReport:
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows copied (equal on both sides)
    indexed: int = 0  # rows read to build the target's search index
    counts_kept: int = 0  # navigation count keys on the target, equal to a recount


def tables_to_copy() -> list[type[Table]]:
    """The core's and the enabled plugins' tables, parents before the tables that refer to them."""
    chosen = [t for t in (*ALL_TABLES, *SYSTEM_TABLES, *db.plugin_tables()) if t._meta.tablename not in NOT_COPIED]
    ordered = sort_table_classes(chosen)
    return ([t for t in ordered if t._meta.tablename not in WRITTEN_BY_TRIGGERS]
            + [t for t in ordered if t._meta.tablename in WRITTEN_BY_TRIGGERS])


async def _open(url: str) -> Engine:
    engine = db.engine_from_url(url)
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=2)
    return engine


async def _close(engine: Engine) -> None:
    if isinstance(engine, PostgresEngine) and engine.pool is not None:
        await engine.pool.close()
        engine.pool = None


async def _tables_in(engine: Engine) -> set[str]:
    if isinstance(engine, PostgresEngine):
        sql = "SELECT tablename AS t FROM pg_tables WHERE schemaname = current_schema()"
    else:
        sql = "SELECT name AS t FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    return {row["t"] for row in await engine._run_in_new_connection(sql) or []}


async def _row_count(table: type[Table], engine: Engine) -> int:
    # plain SQL: a plugin's table may have a column named like piccolo's Table.count (a counter)
    rows = await engine._run_in_new_connection(f'SELECT COUNT(*) AS n FROM "{table._meta.tablename}"')
    return int(rows[0]["n"])


async def _copy_table(table: type[Table], source: Engine, target: Engine) -> int:
    """Keyset pages by primary key, so a million messages never sit in memory at once."""
    pk = table._meta.primary_key
    last: Any = None
    copied = 0
    while True:
        table._meta.db = source
        query = table.select().order_by(pk).limit(ROWS_PER_BATCH)
        if last is not None:
            query = query.where(pk > last)
        rows = await query
        if not rows:
            return copied
        table._meta.db = target
        await table.insert(*(table(_ignore_missing=True, **row) for row in rows))
        copied += len(rows)
        last = rows[-1][pk._meta.name]


async def _reset_sequences(tables: list[type[Table]]) -> None:
    """PostgreSQL hands out ids from sequences that explicit ids did not advance."""
    for table in tables:
        pk = table._meta.primary_key
        name, column = table._meta.tablename, pk._meta.db_column_name
        rows = await db.fetch("SELECT pg_get_serial_sequence({}, {}) AS seq", name, column)
        if rows and rows[0]["seq"]:
            await db.fetch(f'SELECT setval({{}}, COALESCE((SELECT MAX("{column}") FROM "{name}"), 0) + 1, false)',
                           rows[0]["seq"])


async def copy_database(source_url: str, target_url: str, plugin_migrations: list[tuple[str, str]],
                        progress: Callable[[str, int], None] | None = None) -> CopyReport:
    """Copy the desk at `source_url` into the new database at `target_url`; see the module doc."""
    if source_url == target_url:
        raise CopyError("the source and the target are the same database")
    tables = tables_to_copy()
    source = await _open(source_url)
    try:
        db.bind(source)
        if await pending([("core", _core_folder()), *plugin_migrations]):
            raise CopyError("the source database has migrations pending: run `relaydesk migrate` on it first")
        target = await db.connect(target_url, pool_size=2)
        try:
            await migrate(plugin_migrations)
            # What the configured plugins created on the target is what can be copied; a source
            # table left over means a plugin enabled there is not enabled here.
            on_target = await _tables_in(target)
            tables = [t for t in tables if t._meta.tablename in on_target]
            unknown = await _tables_in(source) - on_target - NOT_COPIED - DERIVED_RAW
            if unknown:
                raise CopyError(f"the source has tables of plugins that are not enabled ({', '.join(sorted(unknown))}): "
                                "enable the same plugins as on the source, then copy")
            for table in DESK_DATA:
                if await _row_count(table, target):
                    raise CopyError(f"the target already holds a desk ({table._meta.tablename} has rows); "
                                    "copy into a new, empty database")
            report = CopyReport()
            # Rows the target's migrations seeded (the target's own desk id, default policies) give
            # way to the source's, children first.
            async with db.transaction():
                for table in reversed(tables):
                    table._meta.db = target
                    await table.delete(force=True)
                for table in tables:
                    if table._meta.tablename in WRITTEN_BY_TRIGGERS:
                        table._meta.db = target
                        await table.delete(force=True)
                    report.rows[table._meta.tablename] = await _copy_table(table, source, target)
                    if progress:
                        progress(table._meta.tablename, report.rows[table._meta.tablename])
            db.bind(target)
            if isinstance(target, PostgresEngine):
                await _reset_sequences(tables)
            report.counts_kept = await counts.rebuild()
            await rollups.rebuild()
            while (read := await search.catch_up()):
                report.indexed += read
            await _check(tables, source, target, report)
            return report
        finally:
            await db.disconnect()
    finally:
        await _close(source)
        db.unbind(source)


async def _check(tables: list[type[Table]], source: Engine, target: Engine, report: CopyReport) -> None:
    """Both sides hold the same rows per table, and the rebuilt counts equal a recount."""
    for table in tables:
        on_source, on_target = await _row_count(table, source), await _row_count(table, target)
        if on_source != on_target:
            raise CopyError(f"{table._meta.tablename}: {on_source} rows in the source, {on_target} in the target")
    db.bind(target)
    if await counts.kept() != await counts.recount():
        raise CopyError("the target's navigation counts differ from a recount")


def _core_folder() -> str:
    from core.piccolo_app import MIGRATIONS_FOLDER

    return MIGRATIONS_FOLDER
