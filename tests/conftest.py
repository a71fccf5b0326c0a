"""Fixtures shared by every test: both databases, a real Redis, desks and loopback servers.

Every test that takes `desk` runs twice, on SQLite and on PostgreSQL. PostgreSQL and Redis are real
services; when one is missing the tests fail loudly instead of skipping.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import uuid
from pathlib import Path
from typing import Any, AsyncIterator, Callable

import asyncpg
import pytest
import pytest_asyncio

from core import db
from core.config import settings_from_dict
from core.desk import Desk
from core.migrate import migrate
from core.tables import ALL_TABLES
from tests.loopback import LoopbackServer

PG_ADMIN_URL = os.environ.get("RELAYDESK_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("RELAYDESK_TEST_REDIS", "redis://127.0.0.1:6379/0")
API_SECRET = "test-api-secret"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "db_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.asyncio(loop_scope="session"))
        if "/tests/e2e/" in str(item.path):
            # Browser tests run one after another in one xdist worker: they work at human pace and
            # time page loads, so they must not race each other for the two cores.
            item.add_marker(pytest.mark.xdist_group("browser"))


async def _create_pg_database() -> str:
    name = f"relaydesk_test_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        conn = await asyncpg.connect(PG_ADMIN_URL)
    except Exception as exc:  # real parts: a missing PostgreSQL is a failure, not a skip
        raise RuntimeError(f"PostgreSQL is required for the test suite at {PG_ADMIN_URL}: {exc}") from exc
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


async def _drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest_asyncio.fixture(scope="session", loop_scope="session", params=["sqlite", "postgres"])
async def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """A migrated database of each kind, shared by the session; tables are emptied per test."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'relaydesk.db'}"
    else:
        url = await _create_pg_database()
    await db.connect(url)
    await migrate()
    await db.disconnect()
    yield url
    if request.param == "postgres":
        await _drop_pg_database(url)


# Plugins' own tables, emptied with the core's once their migrations have created them:
# (module, name of its tuple of tables). Imported lazily so one plugin cannot break the suite.
PLUGIN_TABLES: list[tuple[str, str]] = [
    ("plugins.shopify.tables", "SHOPIFY_TABLES"),
    ("plugins.translate.tables", "TRANSLATE_TABLES"),
    ("plugins.csat.tables", "CSAT_TABLES"),
    ("plugins.amazon.tables", "AMAZON_TABLES"),
    ("plugins.ebay.tables", "EBAY_TABLES"),
    ("plugins.kb.tables", "KB_TABLES"),
    ("plugins.webchat.tables", "WEBCHAT_TABLES"),
    ("plugins.assist.tables", "ASSIST_TABLES"),
]


async def _existing_plugin_tables() -> list[Any]:
    import importlib

    tables: list[Any] = []
    for module, name in PLUGIN_TABLES:
        try:
            tables += list(getattr(importlib.import_module(module), name))
        except (ImportError, AttributeError):
            continue
    if not tables:
        return []
    if db.is_sqlite():
        rows = await db.fetch("SELECT name AS t FROM sqlite_master WHERE type = 'table'")
    else:
        rows = await db.fetch("SELECT tablename AS t FROM pg_tables WHERE schemaname = current_schema()")
    present = {r["t"] for r in rows}
    return [t for t in tables if t._meta.tablename in present]


async def empty_tables() -> None:
    tables = [*ALL_TABLES, *await _existing_plugin_tables()]
    if db.is_sqlite():
        for table in reversed(tables):
            await db.engine().run_ddl(f"DELETE FROM {table._meta.tablename}")
    else:
        names = ", ".join(t._meta.tablename for t in tables)
        await db.engine().run_ddl(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


def base_config(db_url: str, data_dir: Path, **relaydesk: Any) -> dict[str, Any]:
    return {
        "relaydesk": {"database": db_url, "data_dir": str(data_dir), "queue_name": f"rd-test-{uuid.uuid4().hex[:8]}",
                      **relaydesk},
        "plugins": {
            "enabled": ["api_channel"],
            "api_channel": {"accounts": {"main": {"secret": {"env": "RELAYDESK_TEST_API_SECRET"}}}},
        },
    }


LOOPBACK = ["127.0.0.1", "::1"]


def allow_loopback(config: dict[str, Any]) -> None:
    """Let the outbound URL guard (core.urlguard) call the loopback receivers the tests run."""
    config["relaydesk"]["outbound_allowlist"] = LOOPBACK


@pytest.fixture(autouse=True)
def _api_secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELAYDESK_TEST_API_SECRET", API_SECRET)


@pytest_asyncio.fixture(loop_scope="session")
async def make_desk(db_url: str, tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """Build and start desks on the current database; `configure` edits the config dict first."""
    desks: list[Desk] = []

    async def factory(configure: Callable[[dict[str, Any]], None] | None = None, *, start: bool = True,
                      run_jobs: bool | None = None, extra_plugins: list[tuple[str, Any]] | None = None) -> Desk:
        config = base_config(db_url, tmp_path / "data")
        if configure:
            configure(config)
        desk = Desk(settings_from_dict(config, "test-plugins.toml"), extra_plugins=extra_plugins)
        if start:
            if not desks:
                await db.connect(db_url)
                await empty_tables()
                await db.disconnect()
            await desk.start(run_jobs=run_jobs)
            desks.append(desk)
        return desk

    yield factory
    for desk in reversed(desks):
        if desk.jobs is not None and hasattr(desk.jobs, "drain"):
            await desk.jobs.drain(timeout=5)
        await desk.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def desk(make_desk: Callable[..., Any]) -> Desk:
    return await make_desk()


@pytest.fixture
def redis_url() -> str:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except Exception as exc:
        raise RuntimeError(f"Redis is required for the test suite at {REDIS_URL}: {exc}") from exc
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
def receiver() -> Any:
    """A loopback HTTP server that records what arrives (the far end of a channel)."""
    server = LoopbackServer()
    server.start()
    yield server
    server.stop()


async def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll an async or sync predicate until it returns something truthy."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if loop.time() > end:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)
