"""A second `connect` in one process (two desks in a test, a read beside a running desk) must not
leave the first pool's connections open: `disconnect` closes every pool `connect` started. The suite
once held 90 idle connections to one database this way, close to PostgreSQL's limit of 100."""

from __future__ import annotations

import asyncpg
import pytest

from core import db
from tests.conftest import PG_ADMIN_URL, _create_pg_database, _drop_pg_database

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def _connections(name: str) -> int:
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        return await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE datname = $1", name)
    finally:
        await conn.close()


async def test_disconnect_closes_the_pools_an_earlier_connect_left_behind():
    url = await _create_pg_database()
    name = url.rsplit("/", 1)[1]
    try:
        first = await db.connect(url, pool_size=3)
        await db.fetch("SELECT 1")
        second = await db.connect(url, pool_size=3)
        await db.fetch("SELECT 1")
        assert first is not second and await _connections(name) >= 2
        await db.disconnect()
        assert first.pool is None and second.pool is None
        assert await _connections(name) == 0
    finally:
        await _drop_pg_database(url)
