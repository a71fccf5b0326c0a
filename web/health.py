"""Liveness, readiness and metrics.

/health says the process answers. /ready says whether the desk can do its work: the database
answers, Redis answers (when configured), and, when jobs run on workers, some worker has sent a
heartbeat within `worker_heartbeat_timeout_seconds`. Its JSON names each check, so a 503 says which.
"""

from __future__ import annotations

import asyncio

from litestar import Request, Response, get
from litestar.response import Redirect
from prometheus_client import CONTENT_TYPE_LATEST

from core import clock, db, heartbeat
from core.jobs import ArqQueue
from web.metrics import add_worker_figures, desk_families, exposition, local_families

CHECK_TIMEOUT = 3.0  # a check that hangs (a blackholed host) fails instead of hanging /ready


@get("/", include_in_schema=False, sync_to_thread=False)
def root() -> Redirect:
    """The desk's front door is the agent inbox."""
    return Redirect("/inbox")


@get("/health", include_in_schema=False, sync_to_thread=False)
def health() -> dict:
    return {"status": "ok"}


@get("/ready", include_in_schema=False)
async def ready(request: Request) -> Response:
    desk = request.app.state.desk
    checks: dict[str, str] = {}
    try:
        await asyncio.wait_for(db.fetch("SELECT 1 AS one"), CHECK_TIMEOUT)
        checks["database"] = "ok"
    except Exception as exc:  # readiness reports, it does not raise
        checks["database"] = f"error: {type(exc).__name__}: {exc}"
    if desk.settings.redis:
        try:
            from redis.asyncio import Redis

            client = Redis.from_url(desk.settings.redis, socket_connect_timeout=CHECK_TIMEOUT,
                                    socket_timeout=CHECK_TIMEOUT)
            try:
                await client.ping()
            finally:
                await client.aclose()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}: {exc}"
    if isinstance(desk.jobs, ArqQueue) and checks["database"] == "ok":
        checks["worker"] = await _worker_check(desk.settings.worker_heartbeat_timeout_seconds)
    ok = all(v == "ok" for v in checks.values())
    return Response({"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503)


async def _worker_check(timeout: float) -> str:
    """Jobs run on workers: ok when one has beaten within `timeout` seconds."""
    rows = await heartbeat.workers()
    if not rows:
        return "error: no worker has ever sent a heartbeat; start `relaydesk worker`"
    newest = rows[0]
    age = (clock.now() - newest["seen_at"]).total_seconds()
    if age > timeout:
        return f"error: no worker heartbeat for {age:.0f} s (limit {timeout:.0f} s); last from {newest['name']}"
    return "ok"


@get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    desk = request.app.state.desk
    families = local_families()
    try:
        workers = await heartbeat.workers()
        outbox = await _outbox()
    except Exception:  # the database is down: the counters still answer, the database figures do not
        workers, outbox = [], None
    add_worker_figures(families, [w["metrics"] for w in workers])
    if outbox is not None:
        families += desk_families(outbox, workers, clock.now(), desk.settings.worker_heartbeat_timeout_seconds)
    return Response(exposition(families), media_type=CONTENT_TYPE_LATEST)


async def _outbox() -> dict:
    [row] = await db.fetch("SELECT COUNT(*) AS pending, MIN(created_at) AS oldest FROM outbox WHERE status = {}",
                           "pending")
    oldest = row["oldest"]
    if isinstance(oldest, str):  # SQLite hands back text for an aggregate
        from datetime import datetime

        oldest = datetime.fromisoformat(oldest)
    age = max(0.0, (clock.now() - oldest).total_seconds()) if oldest else 0.0
    return {"pending": row["pending"], "oldest_age": age}
