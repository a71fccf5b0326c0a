"""The pytest plugin (entry point `pytest11: relaydesk`): fixtures for testing Relaydesk and its
plugins against real parts.

Every test that takes `desk` or `make_desk` runs twice, on SQLite and on PostgreSQL
($RELAYDESK_TEST_PG, default postgresql://postgres@127.0.0.1:5432/test; the kit creates and drops a
database of its own). `redis_url` needs a real Redis ($RELAYDESK_TEST_REDIS). A missing service is a
failure, not a skip. Your pytest settings need pytest-asyncio's session loop:

    [tool.pytest.ini_options]
    asyncio_mode = "auto"
    asyncio_default_fixture_loop_scope = "session"
    asyncio_default_test_loop_scope = "session"
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, AsyncIterator, Callable, Iterator

import pytest
import pytest_asyncio

from relaydesk_testing.clients import client_for, make_agent, sign_in
from relaydesk_testing.clock import ControlledClock, ShiftedClock
from relaydesk_testing.databases import (
    API_SECRET,
    API_SECRET_ENV,
    REDIS_URL,
    base_config,
    create_pg_database,
    drop_pg_database,
    empty_tables,
)
from relaydesk_testing.loopback import LoopbackServer


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres_only: runs only on the PostgreSQL backend")
    # The desk's own, not the plugin's: litestar 2.x announces 3.0 styles the desk still uses.
    config.addinivalue_line("filterwarnings", "ignore::litestar.utils.deprecation.LitestarDeprecationWarning")
    config.addinivalue_line("filterwarnings", "ignore:Call to deprecated close:DeprecationWarning")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "db_url" in getattr(item, "fixturenames", ()):
            # The desk's pools live on the session's loop; a test on another loop could not use them.
            item.add_marker(pytest.mark.asyncio(loop_scope="session"))


@pytest_asyncio.fixture(scope="session", loop_scope="session", params=["sqlite", "postgres"])
async def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """A migrated database of each kind (the core's migrations), shared by the session; make_desk
    empties its tables for each test (and runs plugins' migrations when asked: migrate=True)."""
    from core import db
    from core.migrate import migrate

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'relaydesk.db'}"
    else:
        url = await create_pg_database()
    await db.connect(url)
    await migrate()
    await db.disconnect()
    yield url
    if request.param == "postgres":
        await drop_pg_database(url)


@pytest.fixture(autouse=True)
def relaydesk_api_secret(monkeypatch: pytest.MonkeyPatch) -> str:
    """The secret of the API channel's "main" account in base_config()."""
    monkeypatch.setenv(API_SECRET_ENV, API_SECRET)
    return API_SECRET


@pytest_asyncio.fixture(loop_scope="session")
async def make_desk(db_url: str, tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """Build and start desks on the current database: `await make_desk(configure, extra_plugins=[...])`.
    `configure(config)` edits the base_config() dict (enable your plugin, add accounts); the first
    desk a test starts empties the tables. `extra_plugins` are (name, object) pairs registered
    beside the enabled ones (a throwaway plugin class). `start=False` returns the desk unstarted;
    `run_jobs=False` starts it without in-process jobs; `migrate=True` runs the enabled plugins'
    migrations (register_migrations) before it starts, for a plugin with tables of its own. Desks
    are drained and stopped after the test."""
    from core import db
    from core.config import settings_from_dict
    from core.desk import Desk

    desks: list[Desk] = []

    async def factory(configure: Callable[[dict[str, Any]], None] | None = None, *, start: bool = True,
                      run_jobs: bool | None = None, extra_plugins: list[tuple[str, Any]] | None = None,
                      migrate: bool = False) -> Desk:
        config = base_config(db_url, tmp_path / "data")
        if configure:
            configure(config)
        desk = Desk(settings_from_dict(config, "test-plugins.toml"), extra_plugins=extra_plugins)
        if start:
            if not desks:
                await db.connect(db_url)
                await empty_tables()
                await db.disconnect()
            await desk.start(run_jobs=run_jobs, migrate=migrate)
            desks.append(desk)
        return desk

    yield factory
    for desk in reversed(desks):
        if desk.jobs is not None and hasattr(desk.jobs, "drain"):
            await desk.jobs.drain(timeout=5)
        await desk.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def desk(make_desk: Callable[..., Any]) -> Any:
    """A started desk with the API channel's "main" account (override `desk` in your conftest to
    enable your plugin: `return await make_desk(configure)`)."""
    return await make_desk()


@pytest_asyncio.fixture(loop_scope="session")
async def api_client(desk: Any) -> AsyncIterator[Any]:
    """An httpx client on the desk's app (webhooks, the public pages), no credentials."""
    async with client_for(desk) as client:
        yield client


@pytest_asyncio.fixture(loop_scope="session")
async def agent_api(desk: Any) -> AsyncIterator[Any]:
    """An httpx client calling the REST API as a new agent (its token in every request);
    `agent_api.agent_id` is the agent's id."""
    agent_id, token = await make_agent("agent")
    async with client_for(desk, headers={"authorization": f"Bearer {token}"}) as client:
        client.agent_id = agent_id  # type: ignore[attr-defined]
        yield client


@pytest_asyncio.fixture(loop_scope="session")
async def signed_in_agent(desk: Any) -> AsyncIterator[Any]:
    """An httpx client signed in to the inbox as a new agent (session cookie; post forms with
    relaydesk_testing.form_post). `signed_in_agent.agent_id` is the agent's id."""
    email = "signed-in-agent@example.com"
    agent_id, _ = await make_agent("agent", email=email)
    async with client_for(desk) as client:
        response = await sign_in(client, email)
        assert response.status_code in (302, 303), f"sign-in failed: {response.status_code}"
        client.agent_id = agent_id  # type: ignore[attr-defined]
        yield client


@pytest.fixture
def redis_url() -> str:
    """The URL of a real, reachable Redis (else the test fails saying where it looked)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except Exception as exc:
        raise RuntimeError(f"Redis is required for the test suite at {REDIS_URL} "
                           f"(set RELAYDESK_TEST_REDIS): {exc}") from exc
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
def receiver() -> Iterator[LoopbackServer]:
    """A loopback HTTP server that records what arrives (the far end of a channel) and answers
    from a script: receiver.answer(Scripted.error(500), Scripted.throttled(30), Scripted.dropped())."""
    server = LoopbackServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def controlled_clock() -> Iterator[ControlledClock]:
    """The desk's clock, stopped at T0 (Monday 2026-11-23 09:00 UTC) until the test moves it."""
    moved = ControlledClock().install()
    try:
        yield moved
    finally:
        moved.uninstall()


@pytest.fixture
def shifted_clock() -> Iterator[ShiftedClock]:
    """The desk's clock running with the wall clock, moved by `shifted_clock(timedelta(...))`."""
    moved = ShiftedClock().install()
    try:
        yield moved
    finally:
        moved.uninstall()
