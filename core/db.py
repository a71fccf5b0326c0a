"""Database engines and transactions for SQLite and PostgreSQL, one code path for both."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlparse

from piccolo.apps.migrations.tables import Migration
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from core.tables import ALL_TABLES, SYSTEM_TABLES

_engine: Engine | None = None


def sqlite_path(url: str) -> str:
    # sqlite:///relative.db and sqlite:////absolute/path.db, as SQLAlchemy spells them.
    return url.removeprefix("sqlite:///")


def engine_from_url(url: str) -> Engine:
    if url.startswith("sqlite://"):
        # timeout: how long a writer waits for SQLite's single write lock before giving up.
        return SQLiteEngine(path=sqlite_path(url), timeout=30)
    parsed = urlparse(url)
    config: dict[str, Any] = {"dsn": url.replace("postgres://", "postgresql://", 1)}
    if parsed.path in ("", "/"):
        raise ValueError(f"database URL {url!r} names no database")
    return PostgresEngine(config=config)


# Plugins' own tables (register_tables): bound with the core's on every connect.
_plugin_tables: list[type] = []


def register_tables(tables: tuple[type, ...] | list[type]) -> None:
    """Let the core bind a plugin's piccolo tables: to the current engine now, if there is one, and
    to every engine connected later, so plugin code never has to re-point them itself."""
    for table in tables:
        if table not in _plugin_tables:
            _plugin_tables.append(table)
        if _engine is not None:
            table._meta.db = _engine


def plugin_tables() -> list[type]:
    """The enabled plugins' tables, as registered so far."""
    return list(_plugin_tables)


def bind(engine: Engine, tables: tuple[type, ...] = ()) -> None:
    """Point every table (the core's, the plugins' registered ones and piccolo's migration table)
    at `engine`."""
    global _engine
    _engine = engine
    for table in (*ALL_TABLES, *SYSTEM_TABLES, *_plugin_tables, *tables, Migration):
        table._meta.db = engine
    # piccolo's migration manager finds its engine through PICCOLO_CONF: make it this one.
    os.environ["PICCOLO_CONF"] = "core.piccolo_conf"
    import core.piccolo_conf

    core.piccolo_conf.DB = engine


def unbind(engine: Engine) -> None:
    """Forget `engine` as the current one (a second engine, e.g. `db copy`'s source, is closed)."""
    global _engine
    if _engine is engine:
        _engine = None


def engine() -> Engine:
    if _engine is None:
        raise RuntimeError("the database is not connected; call core.db.connect() first")
    return _engine


def is_sqlite() -> bool:
    return engine().engine_type == "sqlite"


# Every PostgreSQL engine `connect` started a pool for. A second `connect` in one process (a test
# that starts two desks, or reads the database beside a running desk) rebinds the tables and
# leaves the first pool unreferenced; `disconnect` closes those too, so no connections are left
# idle until the garbage collector finds them.
_opened: list[PostgresEngine] = []


async def connect(url: str, *, pool_size: int = 10) -> Engine:
    eng = engine_from_url(url)
    bind(eng)
    if isinstance(eng, PostgresEngine):
        await eng.start_connection_pool(min_size=1, max_size=pool_size, reset=_keep_session)
        _opened.append(eng)
    else:
        # WAL lets readers proceed while the one writer writes; the setting persists in the file.
        await eng._run_in_new_connection("PRAGMA journal_mode=WAL")
    return eng


async def _keep_session(connection: Any) -> None:
    """The pool's reset on release, in place of asyncpg's default RESET ALL / UNLISTEN / advisory
    unlock statement: the desk sets no session state (no SET, LISTEN or session advisory locks), so
    that extra round trip on every release bought nothing. asyncpg still rolls back a transaction
    left open before this runs."""


async def disconnect(timeout: float = 10.0) -> None:
    """Close the pool (and any an earlier `connect` left behind); a connection some stray task
    still holds is terminated after `timeout`."""
    global _engine
    engines = [e for e in _opened if e is not _engine]
    if isinstance(_engine, PostgresEngine):
        engines.append(_engine)
    _opened.clear()
    for eng in engines:
        await _close_pool(eng, timeout)
    _engine = None


async def _close_pool(eng: PostgresEngine, timeout: float) -> None:
    if eng.pool is None:
        return
    import asyncio
    import logging

    pool, eng.pool = eng.pool, None
    try:
        await asyncio.wait_for(asyncio.shield(pool.close()), timeout)
    except asyncio.TimeoutError:
        logging.getLogger("relaydesk.db").warning("connections still held after %ss; terminating them", timeout)
        pool.terminate()


def transaction() -> Any:
    """A write transaction. On SQLite it is IMMEDIATE: it takes the write lock up front, so two
    writers queue instead of failing halfway with 'database is locked'."""
    eng = engine()
    if isinstance(eng, SQLiteEngine):
        return eng.transaction(transaction_type=TransactionType.immediate)
    return eng.transaction()


async def fetch(sql: str, *args: Any) -> list[dict[str, Any]]:
    """Run raw SQL written with {} placeholders (piccolo's portable style) and return the rows."""
    from piccolo.query.methods.raw import Raw
    from piccolo.querystring import QueryString

    return await Raw(table=Migration, querystring=QueryString(sql, *args)).run()
