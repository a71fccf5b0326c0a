"""Databases and desk configuration for tests: a throwaway PostgreSQL database per session, tables
emptied between tests, and the config dict a test desk starts from."""

from __future__ import annotations

import os
import secrets
import uuid
from pathlib import Path
from typing import Any

from core import db
from core.tables import ALL_TABLES

PG_ADMIN_URL = os.environ.get("RELAYDESK_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("RELAYDESK_TEST_REDIS", "redis://127.0.0.1:6379/0")
# The API channel's "main" account in base_config() signs with this (through the env variable
# the `relaydesk_api_secret` fixture sets).
API_SECRET = "test-api-secret"
API_SECRET_ENV = "RELAYDESK_TEST_API_SECRET"
LOOPBACK = ["127.0.0.1", "::1"]


async def create_pg_database() -> str:
    """Create an empty PostgreSQL database next to $RELAYDESK_TEST_PG; returns its URL."""
    import asyncpg

    name = f"relaydesk_test_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        conn = await asyncpg.connect(PG_ADMIN_URL)
    except Exception as exc:  # real parts: a missing PostgreSQL is a failure, not a skip
        raise RuntimeError(f"PostgreSQL is required for the test suite at {PG_ADMIN_URL} "
                           f"(set RELAYDESK_TEST_PG): {exc}") from exc
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


async def drop_pg_database(url: str) -> None:
    import asyncpg

    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def _present(tables: list[Any]) -> list[Any]:
    if db.is_sqlite():
        rows = await db.fetch("SELECT name AS t FROM sqlite_master WHERE type = 'table'")
    else:
        rows = await db.fetch("SELECT tablename AS t FROM pg_tables WHERE schemaname = current_schema()")
    present = {r["t"] for r in rows}
    return [t for t in tables if t._meta.tablename in present]


async def empty_tables() -> None:
    """Empty the core's tables and every plugin table registered with core.db.register_tables
    (a plugin's tables module registers them on import) that its migrations have created."""
    tables = [*ALL_TABLES, *await _present(db.plugin_tables())]
    if db.is_sqlite():
        for table in reversed(tables):
            await db.engine().run_ddl(f"DELETE FROM {table._meta.tablename}")
    else:
        names = ", ".join(t._meta.tablename for t in tables)
        await db.engine().run_ddl(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


def base_config(db_url: str, data_dir: Path, **relaydesk: Any) -> dict[str, Any]:
    """The plugins.toml (as a dict) every test desk starts from: the database, a data folder, a
    queue of its own, and the API channel with one account, "main"."""
    return {
        "relaydesk": {"database": db_url, "data_dir": str(data_dir), "queue_name": f"rd-test-{uuid.uuid4().hex[:8]}",
                      **relaydesk},
        "plugins": {
            "enabled": ["api_channel"],
            "api_channel": {"accounts": {"main": {"secret": {"env": API_SECRET_ENV}}}},
        },
    }


def allow_loopback(config: dict[str, Any]) -> None:
    """Let the outbound URL guard (core.urlguard) call the loopback servers a test runs."""
    config["relaydesk"]["outbound_allowlist"] = LOOPBACK


def enable(config: dict[str, Any], plugin: str, accounts: dict[str, dict[str, Any]] | None = None,
           **settings: Any) -> None:
    """Enable `plugin` in a test config, with its accounts and plugin-wide settings."""
    if plugin not in config["plugins"]["enabled"]:
        config["plugins"]["enabled"].append(plugin)
    section = config["plugins"].setdefault(plugin, {})
    section.update(settings)
    if accounts:
        section.setdefault("accounts", {}).update(accounts)
