"""Moving a desk between SQLite and PostgreSQL (issue 19 item 9): `relaydesk db copy --to URL`.

Every table of the core and of every bundled plugin gets rows with a value in every column (types
read from the table definitions, so a new column is covered without touching this file), the copy
runs in both directions, and the target must hold exactly the source's rows; the source is never
written; derived data (counts, search) works on the target; a non-empty target is refused."""

from __future__ import annotations


import datetime as dt
import decimal
import hashlib
import importlib
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from piccolo import columns as c
from piccolo.table import Table

from core import counts, db, search
from core.dbcopy import CopyError, copy_database, tables_to_copy
from core.plugins import BUNDLED_PLUGINS
from core.migrate import migrate
from core.tables import Ticket
from tests.conftest import _create_pg_database, _drop_pg_database

ASYNC = pytest.mark.asyncio(loop_scope="session")

ROWS = 3
START = dt.datetime(2026, 11, 11, 0, 0, 11, tzinfo=dt.timezone.utc)


def _plugin_migrations() -> list[tuple[str, str]]:
    """Every bundled plugin's migrations, as its register_migrations hook names them: importing its
    hooks registers its tables with the core, as loading it does (a plugin added later is covered
    without touching this test)."""
    found: list[tuple[str, str]] = []
    for module in BUNDLED_PLUGINS.values():
        hooks = importlib.import_module(module)
        if hasattr(hooks, "register_migrations"):
            hooks.register_migrations(lambda app, folder: found.append((app, folder)))
    assert {"shopify", "amazon", "ebay", "kb", "assist"} <= {app for app, _ in found}
    return found


def _value(column: c.Column, table: str, i: int) -> Any:
    """A value of the column's type for row i (1-based), distinct per row for unique columns."""
    name = column._meta.name
    if isinstance(column, c.ForeignKey):
        return i
    if isinstance(column, (c.Serial, c.BigSerial)):
        return i
    if isinstance(column, c.Boolean):
        return i % 2 == 1
    if isinstance(column, (c.Integer, c.BigInt, c.SmallInt)):
        return 1000 * i + len(name)
    if isinstance(column, (c.Decimal, c.Numeric)):
        return decimal.Decimal(f"{i}9.95")
    if isinstance(column, (c.Real, c.DoublePrecision, c.Float)):
        return i + 0.25
    if isinstance(column, c.Timestamptz):
        return START + dt.timedelta(days=i, seconds=len(name))
    if isinstance(column, c.Timestamp):
        return START.replace(tzinfo=None) + dt.timedelta(days=i)
    if isinstance(column, c.Date):
        return (START + dt.timedelta(days=i)).date()
    if isinstance(column, (c.JSON, c.JSONB)):
        return json.dumps({"row": i, "column": name, "text": "Grüße 你好", "list": [1, 2, {"x": None}]})
    if isinstance(column, c.Array):
        return [f"{name}-{i}-a", f"{name}-{i}-b"] if isinstance(column.base_column, (c.Varchar, c.Text)) else [i, i + 1]
    if isinstance(column, c.UUID):
        return uuid.UUID(int=i)
    if isinstance(column, c.Bytea):
        return bytes([i, 0, 255])
    if isinstance(column, (c.Varchar, c.Text)):
        value = f"{table}.{name} row {i} — Grüße 你好"
        length = getattr(column, "length", None)
        return value[:length] if length else value
    raise AssertionError(f"{table}.{name}: no test value for {type(column).__name__}; teach _value this type")


def _row(table: type[Table], i: int) -> Table:
    values = {col._meta.name: _value(col, table._meta.tablename, i) for col in table._meta.columns}
    return table(_ignore_missing=True, **values)


async def _fill() -> None:
    for table in tables_to_copy():
        await table.delete(force=True)  # rows the migrations seeded (desk id, default policies)
        await table.insert(*(_row(table, i) for i in range(1, ROWS + 1)))
    # a real ticket worth searching for, indexed the way the desk indexes
    await Ticket.update({Ticket.status: "open"}, force=True)
    await Ticket.update({Ticket.subject: "Wo ist mein Paket 快递"}).where(Ticket.id == 2)
    # those updates' triggers recorded report facts (core/reports): keep the rows this test wrote
    from core.reports import rollups
    from core.reports.tables import ReportFact

    await ReportFact.delete(force=True)
    await ReportFact.insert(*(_row(ReportFact, i) for i in range(1, ROWS + 1)))
    await rollups.rebuild()  # folded, as a desk's facts are (the copy folds them again on the target)
    await counts.rebuild()
    while await search.catch_up():
        pass


def _comparable(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value) if value[:1] in "{[" else value
        except ValueError:
            return value
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value


async def _dump(url: str) -> dict[str, list[dict[str, Any]]]:
    await db.connect(url, pool_size=2)
    try:
        out = {}
        for table in tables_to_copy():
            rows = await table.select().order_by(table._meta.primary_key)
            out[table._meta.tablename] = [{k: _comparable(v) for k, v in row.items()} for row in rows]
        return out
    finally:
        await db.disconnect()


async def _new_database(kind: str, tmp_path: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / f'desk-{uuid.uuid4().hex[:6]}.db'}"
    return await _create_pg_database()


async def _drop(url: str) -> None:
    if url.startswith("postgresql"):
        await _drop_pg_database(url)


def _file_digest(url: str) -> str | None:
    if not url.startswith("sqlite"):
        return None
    return hashlib.sha256(Path(db.sqlite_path(url)).read_bytes()).hexdigest()


@ASYNC
@pytest.mark.parametrize("direction", [("sqlite", "postgres"), ("postgres", "sqlite")])
async def test_every_row_of_every_table_arrives_and_the_desk_works_on_the_target(direction, tmp_path):
    apps = _plugin_migrations()
    source = await _new_database(direction[0], tmp_path)
    target = await _new_database(direction[1], tmp_path)
    try:
        await db.connect(source)
        try:
            await migrate(apps)
            await _fill()
        finally:
            await db.disconnect()
        before = await _dump(source)
        assert all(len(rows) == ROWS for rows in before.values()), "every table has rows to copy"
        digest = _file_digest(source)

        report = await copy_database(source, target, apps)

        assert report.rows == {name: ROWS for name in before}
        assert await _dump(target) == before
        assert await _dump(source) == before and _file_digest(source) == digest, "the source is only read"
        await db.connect(target)
        try:
            assert await counts.kept() == await counts.recount() != {}
            assert 2 in await search.search("paket")
            assert 2 in await search.search("快递")
            # new rows get fresh ids after the copied ones (PostgreSQL's sequences were moved on)
            like_first = await Ticket.select().where(Ticket.id == 1).first()
            like_first.pop("id")
            await Ticket.insert(Ticket(_ignore_missing=True, **like_first))
            assert max(r["id"] for r in await Ticket.select(Ticket.id)) == ROWS + 1
        finally:
            await db.disconnect()
    finally:
        await _drop(source)
        await _drop(target)


@ASYNC
async def test_a_target_that_holds_a_desk_is_refused_and_left_as_it_was(tmp_path):
    apps = _plugin_migrations()
    source = await _new_database("sqlite", tmp_path)
    target = await _new_database("postgres", tmp_path)
    try:
        for url in (source, target):
            await db.connect(url)
            try:
                await migrate(apps)
                await _fill()
            finally:
                await db.disconnect()
        before = await _dump(target)
        with pytest.raises(CopyError, match="already holds a desk"):
            await copy_database(source, target, apps)
        assert await _dump(target) == before
        with pytest.raises(CopyError, match="same database"):
            await copy_database(source, source, apps)
    finally:
        await _drop(target)


@ASYNC
async def test_a_source_with_migrations_pending_is_refused(tmp_path):
    source = await _new_database("sqlite", tmp_path)
    target = await _new_database("sqlite", tmp_path)
    await db.connect(source)
    try:
        await migrate([])  # the core only: the plugins' migrations are pending
    finally:
        await db.disconnect()
    with pytest.raises(CopyError, match="migrations pending"):
        await copy_database(source, target, _plugin_migrations())
    assert not Path(db.sqlite_path(target)).exists() or Path(db.sqlite_path(target)).stat().st_size == 0
    # the other way round: the source has a plugin's tables that this configuration does not load
    await db.connect(source)
    try:
        await migrate(_plugin_migrations())
    finally:
        await db.disconnect()
    with pytest.raises(CopyError, match=r"not enabled \(amazon_conversations, "):
        await copy_database(source, target, [])


def test_the_cli_moves_an_initialised_desk_and_the_api_token_still_works(tmp_path):
    """As docs/operating.md shows it: init on SQLite, copy to PostgreSQL, point the config at it;
    the admin and the API token made at init are there (the issue: 401 and no admin after a move)."""
    import asyncio

    env = {**os.environ, "RELAYDESK_CONFIG": str(tmp_path / "plugins.toml")}
    relaydesk = [sys.executable, "-m", "core.cli"]
    run = lambda *args: subprocess.run([*relaydesk, *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                                       timeout=120)
    made = run("init", "--database", f"sqlite:///{tmp_path / 'desk.db'}", "--admin-password", "a long passphrase 1")
    assert made.returncode == 0, made.stderr
    target = asyncio.run(_create_pg_database())
    try:
        copied = run("db", "copy", "--to", target)
        assert copied.returncode == 0, copied.stderr
        assert "agents" in copied.stdout and "Now set database" in copied.stdout
        again = run("db", "copy", "--to", target)
        assert again.returncode == 1 and "already holds a desk" in again.stderr
        assert "Traceback" not in again.stderr

        token = re.search(r"API token: (\S+)", made.stdout).group(1)

        async def on_target() -> tuple[list[str], Any, Any]:
            from core.auth import agent_for_token, verify_password
            from core.tables import Agent, DeskIdentity

            await db.connect(target, pool_size=1)
            try:
                admin = await Agent.select().first()
                assert verify_password(admin["password_hash"], "a long passphrase 1")
                return ([r["email"] for r in await Agent.select(Agent.email)], await agent_for_token(token),
                        await DeskIdentity.select().first())
            finally:
                await db.disconnect()

        emails, token_agent, desk_id = asyncio.run(on_target())
        assert emails == ["admin@example.com"]
        assert token_agent and token_agent["email"] == "admin@example.com"
        source_id = asyncio.run(_first_in(f"sqlite:///{tmp_path / 'desk.db'}"))
        assert desk_id == source_id, "the desk keeps its id, and with it its replies' idempotency keys"
    finally:
        asyncio.run(_drop_pg_database(target))


async def _first_in(url: str) -> Any:
    from core.tables import DeskIdentity

    await db.connect(url, pool_size=1)
    try:
        return await DeskIdentity.select().first()
    finally:
        await db.disconnect()
