"""Deflection figures: help-center searches (and empty ones), article views, helpful votes, and
searches from the contact widget (and empty ones), counted per day, brand and language.

Public pages must stay fast, so a hit only bumps an in-memory counter; the counters are written in
one upsert per key at most every FLUSH_SECONDS (by the request that finds them due) and when the
desk stops. A crash loses at most those seconds of counts, never a page answer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from typing import Any

from core.plugin_api import db
from core.plugin_api import InvalidRequest

KINDS = ("search", "search_empty", "view", "vote_yes", "vote_no", "widget_search", "widget_search_empty")
FLUSH_SECONDS = 10.0
_pending: Counter[tuple[str, str, str, str]] = Counter()
_last_flush = time.monotonic()
_flushing: asyncio.Task[None] | None = None
log = logging.getLogger("relaydesk.kb")


def record(kind: str, brand: str = "", language: str = "", count: int = 1) -> None:
    global _flushing, _last_flush
    day = datetime.now(timezone.utc).date().isoformat()
    _pending[(day, kind, brand, language)] += count
    if time.monotonic() - _last_flush >= FLUSH_SECONDS and (_flushing is None or _flushing.done()):
        _last_flush = time.monotonic()
        _flushing = asyncio.get_running_loop().create_task(flush())


async def flush() -> None:
    items = list(_pending.items())
    _pending.clear()
    for (day, kind, brand, language), count in items:
        try:
            await db.fetch("INSERT INTO kb_stats (day, kind, brand, language, count) VALUES ({}, {}, {}, {}, {}) "
                           "ON CONFLICT (day, kind, brand, language) DO UPDATE SET count = kb_stats.count + {}",
                           day, kind, brand, language, count, count)
        except Exception:  # the database is away: keep the counts for the next flush
            _pending[(day, kind, brand, language)] += count
            log.warning("kb stats not written; kept for the next flush", exc_info=True)


def _day(value: str | None, name: str, default: date) -> str:
    if not value:
        return default.isoformat()
    try:
        return date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        raise InvalidRequest(f"{name} must be an ISO date like 2026-11-01") from None


async def report(since: str | None, until: str | None) -> dict[str, Any]:
    await flush()
    today = datetime.now(timezone.utc).date()
    start = _day(since, "since", today - timedelta(days=30))
    end = _day(until, "until", today)
    rows = await db.fetch("SELECT day, kind, brand, language, count FROM kb_stats WHERE day >= {} AND day <= {} "
                          "ORDER BY day", start, end)
    totals: Counter[str] = Counter()
    days: dict[str, Counter[str]] = {}
    for row in rows:
        totals[row["kind"]] += row["count"]
        days.setdefault(row["day"], Counter())[row["kind"]] += row["count"]
    votes = totals["vote_yes"] + totals["vote_no"]
    return {
        "since": start, "until": end, "totals": {k: totals[k] for k in KINDS},
        "helpful_percent": round(100 * totals["vote_yes"] / votes, 1) if votes else None,
        "search_success_percent": round(100 * (totals["search"] - totals["search_empty"]) / totals["search"], 1)
        if totals["search"] else None,
        "days": [{"day": d, **{k: c[k] for k in KINDS}} for d, c in sorted(days.items())],
    }


async def report_figures(start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The reports' figures for [start, end), by whole days (the counters are daily)."""
    await flush()
    last_day = (end - timedelta(microseconds=1)).date().isoformat()
    rows = await db.fetch("SELECT kind, SUM(count) AS n FROM kb_stats WHERE day >= {} AND day <= {} GROUP BY kind",
                          start.date().isoformat(), last_day)
    totals = Counter({row["kind"]: int(row["n"] or 0) for row in rows})
    searches = totals["search"] + totals["widget_search"]
    empty = totals["search_empty"] + totals["widget_search_empty"]
    votes = totals["vote_yes"] + totals["vote_no"]
    return [
        {"key": "kb.searches", "label": "Help center searches", "value": float(searches), "count": searches},
        {"key": "kb.search_success", "label": "Help center searches with results (%)",
         "value": round(100 * (searches - empty) / searches, 1) if searches else None, "count": searches},
        {"key": "kb.views", "label": "Help article views", "value": float(totals["view"]), "count": totals["view"]},
        {"key": "kb.helpful", "label": "Helpful votes (%)",
         "value": round(100 * totals["vote_yes"] / votes, 1) if votes else None, "count": votes},
    ]
