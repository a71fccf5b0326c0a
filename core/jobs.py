"""Jobs: arq on Redis when `redis` is configured, otherwise an in-process runner on the same code path.

Both runners take the same calls: `enqueue(name, *args, job_id=..., defer=...)`. A job id dedupes:
while a job with that id is queued or running, enqueueing it again does nothing. The database stays
the source of truth, so a periodic sweeper can always rebuild what a lost queue forgot.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from core.types import JobSpec

if TYPE_CHECKING:
    from core.desk import Desk

log = logging.getLogger("relaydesk.jobs")


class InProcessQueue:
    """Runs jobs as asyncio tasks in this process, with bounded concurrency."""

    def __init__(self, desk: "Desk", jobs: dict[str, JobSpec], concurrency: int = 8) -> None:
        self.desk = desk
        self.jobs = jobs
        self._running: dict[str, asyncio.Task[Any]] = {}
        self._periodic: list[asyncio.Task[Any]] = []
        self._limit = asyncio.Semaphore(concurrency)
        self.failed = 0
        self.completed = 0

    async def start(self) -> None:
        for spec in self.jobs.values():
            if spec.every:
                self._periodic.append(asyncio.create_task(self._every(spec)))

    async def stop(self) -> None:
        tasks = [*self._periodic, *self._running.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._periodic.clear()
        self._running.clear()

    async def enqueue(self, name: str, *args: Any, job_id: str | None = None, defer: float = 0) -> bool:
        if name not in self.jobs:
            raise KeyError(f"no job named {name!r}")
        key = job_id or f"{name}:{id(args)}:{len(self._running)}"
        if key in self._running:
            return False
        self._running[key] = asyncio.create_task(self._run(key, self.jobs[name], args, defer))
        return True

    async def _run(self, key: str, spec: JobSpec, args: tuple[Any, ...], defer: float) -> None:
        try:
            if defer:
                await asyncio.sleep(defer)
            async with self._limit:
                await spec.func({"desk": self.desk, "job_id": key}, *args)
            self.completed += 1
        except asyncio.CancelledError:
            raise
        except Exception:
            self.failed += 1
            log.exception("job %s failed", key)
        finally:
            self._running.pop(key, None)

    async def _every(self, spec: JobSpec) -> None:
        while True:
            try:
                await spec.func({"desk": self.desk, "job_id": spec.name})
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("periodic job %s failed", spec.name)
            await asyncio.sleep(spec.every or 60)

    async def drain(self, timeout: float = 30) -> None:
        """Wait until no on-demand job is queued or running (tests and graceful shutdown)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while self._running and loop.time() < end:
            await asyncio.gather(*list(self._running.values()), return_exceptions=True)


class ArqQueue:
    """Enqueues into Redis for `relaydesk worker` processes to run."""

    def __init__(self, redis_url: str, queue_name: str) -> None:
        self.redis_url = redis_url
        self.queue_name = queue_name
        self.pool: Any = None

    async def start(self) -> None:
        from arq import create_pool

        self.pool = await create_pool(redis_settings(self.redis_url), default_queue_name=self.queue_name)

    async def stop(self) -> None:
        if self.pool is not None:
            await self.pool.aclose()
            self.pool = None

    async def enqueue(self, name: str, *args: Any, job_id: str | None = None, defer: float = 0) -> bool:
        # arq's job keys are global to the Redis database: prefix them with the queue name so two
        # desks sharing one Redis never mistake each other's jobs for their own.
        job = await self.pool.enqueue_job(name, *args, _job_id=f"{self.queue_name}:{job_id}" if job_id else None,
                                          _defer_by=defer or None, _queue_name=self.queue_name)
        return job is not None


def redis_settings(url: str) -> Any:
    from arq.connections import RedisSettings

    return RedisSettings.from_dsn(url)


def worker_settings(desk: "Desk", *, burst: bool = False, max_jobs: int = 20) -> dict[str, Any]:
    """Keyword arguments for arq.Worker running every registered job; periodic ones as cron jobs."""
    from arq import func
    from arq.cron import cron

    async def on_startup(ctx: dict[str, Any]) -> None:
        ctx["desk"] = desk
        ctx[STATS] = {"done": 0, "failed": 0}
        from core.preflight import redact

        log.info("worker started: queue %s, %d job function(s), %d periodic job(s), up to %d at once; redis %s, "
                 "database %s", desk.settings.queue_name, len(functions), len(crons), max_jobs,
                 redact(desk.settings.redis or ""), redact(desk.settings.database))

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        stats = ctx.get(STATS, {})
        log.info("worker stopped: %d job(s) done, %d failed", stats.get("done", 0), stats.get("failed", 0))

    functions = [func(_counted(_arq_adapter(spec)), name=spec.name, keep_result=0) for spec in desk.registry.jobs.values()
                 if not spec.every]
    crons = []
    for spec in desk.registry.jobs.values():
        if spec.every:
            step = max(1, int(spec.every))
            seconds = set(range(0, 60, step)) if step < 60 else {0}
            crons.append(cron(_arq_adapter(spec), name=spec.name, second=seconds, run_at_startup=True,
                              unique=True, keep_result=0))
    return {
        "functions": functions,
        "cron_jobs": crons,
        "redis_settings": redis_settings(desk.settings.redis or ""),
        "queue_name": desk.settings.queue_name,
        "on_startup": on_startup,
        "on_shutdown": on_shutdown,
        "burst": burst,
        "max_jobs": max_jobs,
        "job_timeout": max(30, int(desk.settings.delivery_lease_seconds)),
        "keep_result": 0,
        "handle_signals": not burst,
    }


def _arq_adapter(spec: JobSpec) -> Any:
    async def run(ctx: dict[str, Any], *args: Any) -> Any:
        return await spec.func(ctx, *args)

    run.__qualname__ = run.__name__ = spec.name
    return run


STATS = "relaydesk_stats"


def _counted(run: Any) -> Any:
    """Counts the jobs that ran and those that raised, for the worker's stop line (arq logs each
    failure itself, with the job id and the traceback; a Retry is neither)."""
    from arq.worker import Retry

    async def counted(ctx: dict[str, Any], *args: Any) -> Any:
        stats = ctx.setdefault(STATS, {"done": 0, "failed": 0})
        try:
            result = await run(ctx, *args)
        except Retry:
            raise
        except Exception:
            stats["failed"] += 1
            raise
        stats["done"] += 1
        return result

    counted.__qualname__ = counted.__name__ = run.__name__
    return counted
