"""Widget sessions for the reports: how many visitors opened the widget and how many of them wrote
(a ticket); the rest found their answer in the help center or gave up. Opening the frame only bumps
an in-memory counter, written at most every FLUSH_SECONDS (and when the desk stops)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

from core.plugin_api import db

FLUSH_SECONDS = 10.0
_pending: Counter[tuple[str, int, str]] = Counter()
_last_flush = time.monotonic()
_task: asyncio.Task[None] | None = None
log = logging.getLogger("relaydesk.webchat")


def record(kind: str, account_id: int) -> None:
    global _last_flush, _task
    _pending[(datetime.now(timezone.utc).date().isoformat(), account_id, kind)] += 1
    if time.monotonic() - _last_flush >= FLUSH_SECONDS and (_task is None or _task.done()):
        _last_flush = time.monotonic()
        _task = asyncio.get_running_loop().create_task(flush())


async def flush() -> None:
    items = list(_pending.items())
    _pending.clear()
    for (day, account, kind), count in items:
        try:
            await db.fetch("INSERT INTO webchat_stats (day, account, kind, count) VALUES ({}, {}, {}, {}) "
                           "ON CONFLICT (day, account, kind) DO UPDATE SET count = webchat_stats.count + {}",
                           day, account, kind, count, count)
        except Exception:
            _pending[(day, account, kind)] += count
            log.warning("webchat stats not written; kept for the next flush", exc_info=True)


async def report_figures(start: datetime, end: datetime) -> list[dict[str, Any]]:
    await flush()
    last_day = (end - timedelta(microseconds=1)).date().isoformat()
    rows = await db.fetch("SELECT kind, SUM(count) AS n FROM webchat_stats WHERE day >= {} AND day <= {} GROUP BY kind",
                          start.date().isoformat(), last_day)
    totals = Counter({row["kind"]: int(row["n"] or 0) for row in rows})
    opened, started = totals["opened"], min(totals["started"], totals["opened"]) if totals["opened"] else totals["started"]
    return [
        {"key": "webchat.sessions", "label": "Widget sessions", "value": float(opened), "count": opened},
        {"key": "webchat.tickets", "label": "Widget conversations (tickets)", "value": float(totals["started"]),
         "count": totals["started"]},
        {"key": "webchat.deflected", "label": "Widget sessions without a ticket (%)",
         "value": round(100 * (opened - started) / opened, 1) if opened else None, "count": opened},
    ]
