"""Raw SQL on the current transaction's connection, one statement text for both databases.

The ingest path runs here instead of through piccolo's query builder: it is the hottest path of the
desk and the builder costs more CPU than the database does. Statements use $1, $2 ... placeholders
(each once, in order); on SQLite they become ?.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from piccolo.engine.postgres import PostgresTransaction

_PLACEHOLDER = re.compile(r"\$\d+")


@lru_cache(maxsize=256)
def _sqlite_text(sql: str) -> str:
    return _PLACEHOLDER.sub("?", sql).replace("::json", "")


class Conn:
    """The driver connection of an open piccolo transaction (asyncpg or aiosqlite)."""

    def __init__(self, transaction: Any) -> None:
        self.raw = transaction.connection
        self.postgres = isinstance(transaction, PostgresTransaction)

    async def fetchrow(self, sql: str, *args: Any) -> dict[str, Any] | None:
        if self.postgres:
            row = await self.raw.fetchrow(sql, *args)
            return dict(row) if row is not None else None
        async with self.raw.execute(_sqlite_text(sql), args) as cursor:
            row = await cursor.fetchone()
            if row is None:
                return None
            if isinstance(row, dict):
                return row
            return {d[0]: v for d, v in zip(cursor.description, row)}

    async def fetchval(self, sql: str, *args: Any) -> Any:
        row = await self.fetchrow(sql, *args)
        return next(iter(row.values())) if row else None

    async def execute(self, sql: str, *args: Any) -> None:
        if self.postgres:
            await self.raw.execute(sql, *args)
        else:
            await self.raw.execute(_sqlite_text(sql), args)


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
