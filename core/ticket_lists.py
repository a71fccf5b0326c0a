"""Pages of tickets for a condition (core.ticket_filter.where): sorted, keyset-paged lists, capped
counts and filtered searches. The inbox's queues and views and the REST API read lists here.

A page is read as ticket ids with their sort keys; the caller reads the columns it shows by
primary key (the inbox joins names, the API takes every column). A cursor is the last row's sort
key and id ({"s": sort, "v": key, "i": id}, web.api.pagination encodes it), so a page stays
stable while tickets arrive and page 40 costs what page 1 does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core import db, search
from core.errors import InvalidRequest
from core.ticket_filter import DUE_SOON, Where, open_where

QUEUES = ("mine", "unassigned", "open", "pending", "due_soon", "breached", "pool", "spam")
# sort -> (column, descending); "due" has its own two phases (tickets without a due time last)
SINGLE_KEY = {"newest": ("created_at", True), "oldest": ("created_at", False), "updated": ("updated_at", True),
              "-id": ("id", True)}
SEARCH = "search"  # a search's cursor: last activity, newest first (core.search's order)
COUNT_CAP = 1000  # a view's count in the navigation stops here and shows "1000+"


def queue_where(queue: str, agent_id: int, now: datetime, table: str = "tickets") -> Where:
    """The condition of one of the inbox's queues."""
    if queue not in QUEUES:
        raise InvalidRequest(f"unknown queue {queue!r}")
    t = table
    is_open = open_where(t)
    if queue == "pending":
        return Where(f"{t}.status = 'pending'", [])
    if queue == "spam":  # blocked senders and tickets marked as spam (core.spam): out of every other queue
        return Where(f"{t}.status = 'spam'", [])
    return is_open & {
        "mine": Where(f"{t}.assignee = {{}}", [agent_id]),
        "unassigned": Where(f"{t}.assignee IS NULL", []),
        "open": Where("1 = 1", []),
        "due_soon": Where(f"{t}.sla_due_at >= {{}} AND {t}.sla_due_at < {{}}", [now, now + DUE_SOON]),
        "breached": Where(f"{t}.sla_due_at < {{}}", [now]),
        # the claim pools (core.routing.claim): low-priority work nobody holds yet
        "pool": Where(f"{t}.pooled_at IS NOT NULL AND {t}.assignee IS NULL", []),
    }[queue]


def _key(sort: str) -> str:
    return "last_message_at" if sort == SEARCH else SINGLE_KEY[sort][0]


def next_cursor(row: dict[str, Any], sort: str) -> dict[str, Any]:
    """The cursor that continues after `row` (a row of `page` or `search_page`)."""
    if sort == "-id":
        value = None
    else:
        value = row["sla_due_at"] if sort == "due" else row[_key(sort)]
    return {"s": sort, "v": value.isoformat() if value is not None else None, "i": row["id"]}


def _check(cursor: dict[str, Any] | None, sort: str) -> None:
    if cursor is None:
        return
    if cursor["s"] != sort:
        raise InvalidRequest("the cursor belongs to another sort order or search")
    if sort not in ("due", "-id") and cursor["v"] is None:
        raise InvalidRequest("the cursor is not one this API gave out")


KEYS = "tickets.id, tickets.sla_due_at, tickets.created_at, tickets.updated_at, tickets.last_message_at"


class Columns:
    """What a page reads beside the sort keys: more columns of `tickets` and of tables joined to it
    (the inbox's list joins its customers' and assignees' names into the same statement)."""

    def __init__(self, select: str = "", joins: str = "") -> None:
        self.select = KEYS + (f", {select}" if select else "")
        self.joins = joins


KEYS_ONLY = Columns()


async def page(cond: Where, sort: str, cursor: dict[str, Any] | None, limit: int,
               columns: Columns = KEYS_ONLY) -> list[dict[str, Any]]:
    """Up to `limit` rows (the sort keys and `columns`) of the tickets meeting `cond` (built on
    `tickets`), in `sort` order, after `cursor`."""
    _check(cursor, sort)
    limit = int(limit)
    if sort == "due":
        return await _due_page(cond, cursor, limit, columns)
    column, desc = SINGLE_KEY[sort]
    order = "DESC" if desc else "ASC"
    extra = Where("1 = 1", [])
    if cursor is not None:
        op = "<" if desc else ">"
        if column == "id":
            extra = Where(f"tickets.id {op} {{}}", [cursor["i"]])
        else:
            extra = Where(f"(tickets.{column} {op} {{}} OR (tickets.{column} = {{}} AND tickets.id {op} {{}}))",
                          [cursor["v"], cursor["v"], cursor["i"]])
    full = cond & extra
    by = "tickets.id" if column == "id" else f"tickets.{column} {order}, tickets.id"
    return await db.fetch(f"SELECT {columns.select} FROM tickets {columns.joins} WHERE {full.sql} "
                          f"ORDER BY {by} {order} LIMIT {limit}", *full.args)


async def _due_page(cond: Where, cursor: dict[str, Any] | None, limit: int, columns: Columns) -> list[dict[str, Any]]:
    """Earliest SLA due first, then tickets without a due time by id: two phases, because SQLite
    and PostgreSQL sort NULLs differently."""
    rows: list[dict[str, Any]] = []
    value = cursor["v"] if cursor else None
    last_id = cursor["i"] if cursor else 0
    if cursor is None or value is not None:
        extra = Where("tickets.sla_due_at IS NOT NULL", [])
        if value is not None:
            extra = extra & Where("tickets.sla_due_at > {} OR (tickets.sla_due_at = {} AND tickets.id > {})",
                                  [value, value, last_id])
        full = cond & extra
        rows = await db.fetch(f"SELECT {columns.select} FROM tickets {columns.joins} WHERE {full.sql} "
                              f"ORDER BY tickets.sla_due_at, tickets.id LIMIT {limit}", *full.args)
    if len(rows) < limit:
        extra = Where("tickets.sla_due_at IS NULL", [])
        if cursor is not None and value is None:
            extra = extra & Where("tickets.id > {}", [last_id])
        full = cond & extra
        rows += await db.fetch(f"SELECT {columns.select} FROM tickets {columns.joins} WHERE {full.sql} "
                               f"ORDER BY tickets.id LIMIT {limit - len(rows)}", *full.args)
    return rows


async def search_page(query: str, cond: Where, cursor: dict[str, Any] | None, limit: int,
                      columns: Columns = KEYS_ONLY) -> list[dict[str, Any]]:
    """Up to `limit` rows of the tickets matching `query` and meeting `cond`, most recently active
    first, after `cursor` (a previous search page's)."""
    _check(cursor, SEARCH)
    after = (cursor["v"], cursor["i"]) if cursor else None
    ids = await search.search(query, limit=limit, where=cond, after=after)
    if not ids:
        return []
    marks = ", ".join("{}" for _ in ids)
    rows = {r["id"]: r for r in await db.fetch(f"SELECT {columns.select} FROM tickets {columns.joins} "
                                               f"WHERE tickets.id IN ({marks})", *ids)}
    return [rows[i] for i in ids if i in rows]


async def capped_count(cond: Where, cap: int = COUNT_CAP) -> int:
    """How many tickets meet `cond`, counted up to cap + 1 (more than `cap` shows as "cap+"): a
    view's count costs at most cap + 1 index entries or rows, however large the desk."""
    rows = await db.fetch(f"SELECT COUNT(*) AS n FROM (SELECT 1 FROM tickets WHERE {cond.sql} "
                          f"LIMIT {int(cap) + 1}) AS c", *cond.args)
    return int(rows[0]["n"])
