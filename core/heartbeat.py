"""Workers' heartbeats in the database: each `relaydesk worker` says every few seconds that it is
alive, what it is doing and what it has done (a snapshot of its metrics). /ready and /metrics on any
web process read them, wherever the worker runs."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from core import clock, db
from core.metrics import REGISTRY, WORKER_FAMILIES
from core.tables import WorkerHeartbeat

# Rows of workers gone this long are removed (their counters leave the desk's sums with them).
FORGET_AFTER = timedelta(days=1)


def interval(timeout: float) -> float:
    """How often a worker beats, given how long /ready waits before it calls the workers gone."""
    return max(0.2, min(5.0, timeout / 4))


def metrics_snapshot() -> str:
    """This process's worker figures as JSON: [[family, type, help, [[sample, labels, value]...]]...]."""
    families = []
    for family in REGISTRY.collect():
        if family.name in WORKER_FAMILIES:
            families.append([family.name, family.type, family.documentation,
                             [[s.name, s.labels, s.value] for s in family.samples]])
    return json.dumps(families)


async def beat(name: str, state: str, started_at: datetime) -> None:
    now = clock.now()
    await db.fetch(
        "INSERT INTO worker_heartbeats (name, state, started_at, seen_at, metrics) VALUES ({}, {}, {}, {}, {}) "
        "ON CONFLICT (name) DO UPDATE SET state = {}, seen_at = {}, metrics = {}",
        name, state, started_at, now, snapshot := metrics_snapshot(), state, now, snapshot)


async def forget_old() -> None:
    await WorkerHeartbeat.delete().where(WorkerHeartbeat.seen_at < clock.now() - FORGET_AFTER)


async def workers() -> list[dict[str, Any]]:
    return await WorkerHeartbeat.select().order_by(WorkerHeartbeat.seen_at, ascending=False)
