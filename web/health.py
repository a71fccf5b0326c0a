"""Liveness, readiness and metrics."""

from __future__ import annotations

from litestar import Request, Response, get
from litestar.response import Redirect
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from core import db
from web.metrics import REGISTRY


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
        await db.fetch("SELECT 1 AS one")
        checks["database"] = "ok"
    except Exception as exc:  # readiness reports, it does not raise
        checks["database"] = f"error: {exc}"
    if desk.settings.redis:
        try:
            from redis.asyncio import Redis

            client = Redis.from_url(desk.settings.redis)
            await client.ping()
            await client.aclose()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {exc}"
    ok = all(v == "ok" for v in checks.values())
    return Response({"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503)


@get("/metrics", include_in_schema=False, sync_to_thread=False)
def metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
