"""How common each search term is, read from PostgreSQL's own statistics of search_docs.terms.

A pasted paragraph has dozens of terms, and a GIN scan pays for every term's posting list. Only a
few of them are needed to narrow the desk down to a handful of candidates, which the full list then
checks: the rarest few. ANALYZE (autovacuum) keeps the most common elements of the terms column and
their frequencies in pg_stats; a term missing from that list is rarer than all of them. The numbers
are read at most every REFRESH_SECONDS per process, one small query.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from core import db

REFRESH_SECONDS = 600.0
ENOUGH_CANDIDATES = 64  # expected matches of the chosen terms at which adding more stops paying


@dataclass
class TermStats:
    frequencies: dict[str, float] = field(default_factory=dict)
    floor: float = 0.0  # the least frequency in the list: every term outside it is rarer
    tickets: float = 0.0
    read_at: float = -math.inf


_stats = TermStats()


async def _read() -> TermStats:
    row = await db.fetch(
        "SELECT c.reltuples AS tickets, s.most_common_elems::text::text[] AS elems, "
        "s.most_common_elem_freqs AS freqs FROM pg_class AS c LEFT JOIN pg_stats AS s "
        "ON s.tablename = 'search_docs' AND s.attname = 'terms' AND s.schemaname = current_schema() "
        "WHERE c.oid = 'search_docs'::regclass")
    stats = TermStats(read_at=time.monotonic())
    if row and row[0]["elems"]:
        elems, freqs = row[0]["elems"], row[0]["freqs"]
        # pg_stats appends the minimum and maximum frequency (and the null share) after the list
        stats.frequencies = dict(zip(elems, freqs[:len(elems)]))
        stats.floor = min(stats.frequencies.values())
        stats.tickets = max(float(row[0]["tickets"] or 0), 0.0)
    return stats


async def current() -> TermStats:
    global _stats
    if time.monotonic() - _stats.read_at > REFRESH_SECONDS:
        _stats = await _read()
    return _stats


async def driving_terms(exact: list[str], most: int) -> list[str]:
    """The terms of a query that should drive the GIN scan: rarest first, as many as it takes to
    expect about ENOUGH_CANDIDATES matches (terms taken as independent), at most `most`. Without
    statistics (a fresh desk, never analyzed), the longest terms, which are usually the rarest."""
    stats = await current()
    if not stats.frequencies or stats.tickets <= 0:
        return sorted(exact, key=lambda t: (-len(t), t))[:most]
    unknown = stats.floor / 2  # below the least common element ANALYZE kept
    ranked = sorted(exact, key=lambda t: (stats.frequencies.get(t, unknown), -len(t), t))
    chosen: list[str] = []
    expected = stats.tickets
    for term in ranked[:most]:
        chosen.append(term)
        expected *= stats.frequencies.get(term, unknown)
        if expected <= ENOUGH_CANDIDATES:
            break
    return chosen
