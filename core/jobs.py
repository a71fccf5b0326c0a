"""Jobs: arq on Redis when `redis` is configured, otherwise an in-process runner on the same code path.

Both runners take the same calls: `enqueue(name, *args, job_id=..., defer=...)`. A job id dedupes:
while a job with that id is queued or running, enqueueing it again does nothing. The database stays
the source of truth, so a periodic sweeper can always rebuild what a lost queue forgot.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from core.metrics import JOB_SECONDS
from core.outage import OutageLog, unavailable_dependency
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
        self.outage = OutageLog(log, "the database (jobs)")

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
        """Run one job; one that fails because the database (or Redis) is away is tried again after
        1, 2, 4, 5, 5 ... s like on an arq worker, under the same key (a delivery takes back its own
        lease), so jobs due during an outage run right after it."""
        try:
            if defer:
                await asyncio.sleep(defer)
            job_try = 1
            while True:
                try:
                    async with self._limit:
                        await timed(spec, {"desk": self.desk, "job_id": key, "job_try": job_try}, *args)
                    break
                except Exception as exc:
                    if job_try >= DEPENDENCY_RETRIES or not unavailable_dependency(exc):
                        raise
                    self.outage.failed(exc, "jobs are tried again with backoff")
                    await asyncio.sleep(dependency_retry_delay(job_try))
                    job_try += 1
            self.completed += 1
            self.outage.recovered()
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
                await timed(spec, {"desk": self.desk, "job_id": spec.name})
                self.outage.recovered()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if unavailable_dependency(exc):  # it runs at its next time; the outage is logged once
                    self.outage.failed(exc, "jobs are tried again with backoff")
                else:
                    log.exception("periodic job %s failed", spec.name)
            await asyncio.sleep(spec.every or 60)

    async def drain(self, timeout: float = 30) -> None:
        """Wait until no on-demand job is queued or running (tests and graceful shutdown)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while self._running and loop.time() < end:
            await asyncio.gather(*list(self._running.values()), return_exceptions=True)


async def timed(spec: JobSpec, ctx: dict[str, Any], *args: Any) -> Any:
    """Run one job and record its duration and outcome (relaydesk_job_seconds)."""
    started = time.perf_counter()
    outcome = "error"
    try:
        result = await spec.func(ctx, *args)
        outcome = "ok"
        return result
    except asyncio.CancelledError:
        outcome = "cancelled"
        raise
    except Exception as exc:
        if unavailable_dependency(exc):
            outcome = "retry"
        raise
    finally:
        JOB_SECONDS.labels(job=spec.name, outcome=outcome).observe(time.perf_counter() - started)


class ArqQueue:
    """Enqueues into Redis for `relaydesk worker` processes to run.

    While Redis is unreachable an enqueue is dropped, not raised: what it would have done is in the
    database already (an outbox row, a pending webhook delivery), and the sweepers enqueue it again
    once Redis is back. The outage is logged once, not once per job."""

    def __init__(self, redis_url: str, queue_name: str) -> None:
        self.redis_url = redis_url
        self.queue_name = queue_name
        self.pool: Any = None
        self.outage = OutageLog(log, f"Redis at {redis_safe(redis_url)}")

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
        try:
            job = await self.pool.enqueue_job(name, *args, _job_id=f"{self.queue_name}:{job_id}" if job_id else None,
                                              _defer_by=defer or None, _queue_name=self.queue_name)
        except Exception as exc:
            if unavailable_dependency(exc) != "redis":
                raise
            self.outage.failed(exc, "jobs wait in the database for the sweepers")
            return False
        self.outage.recovered()
        return job is not None


def redis_settings(url: str, **overrides: Any) -> Any:
    from arq.connections import RedisSettings

    settings = RedisSettings.from_dsn(url)
    for key, value in overrides.items():
        setattr(settings, key, value)
    return settings


def redis_safe(url: str) -> str:
    """The Redis URL without its password, for logs."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.hostname or ''}:{parts.port or 6379}" if parts.hostname else url.split("@")[-1]


# A job that failed because the database or Redis was down is tried again after 1, 2, 4, 5, 5 ... s
# (about two minutes in all), so jobs due during an outage run within seconds of its end. Past that
# the job fails; what it was for is still in the database (an outbox row) for the sweepers.
DEPENDENCY_RETRIES = 24


def dependency_retry_delay(job_try: int) -> float:
    return float(min(5, 2 ** max(0, job_try - 1)))


def worker_settings(desk: "Desk", *, burst: bool = False, max_jobs: int = 20) -> dict[str, Any]:
    """Keyword arguments for arq.Worker running every registered job; periodic ones as cron jobs.

    Signals are not arq's business here: core.worker stops the worker gracefully, and reconnects
    it when Redis goes away (so arq's own connection retries are off)."""
    from arq import func
    from arq.cron import cron

    async def on_startup(ctx: dict[str, Any]) -> None:
        ctx["desk"] = desk

    functions = [func(_arq_adapter(spec), name=spec.name, keep_result=0) for spec in desk.registry.jobs.values()
                 if not spec.every]
    crons = []
    for spec in desk.registry.jobs.values():
        if spec.every:
            step = max(1, int(spec.every))
            seconds = set(range(0, 60, step)) if step < 60 else {0}
            # arq ids a periodic run `<name>:<time>` in a Redis-wide namespace and refuses a second
            # job of one id: with the queue name in it, desks sharing a Redis never take each
            # other's runs (every desk's sweeper fires at the same second).
            crons.append(cron(_arq_adapter(spec), name=f"{desk.settings.queue_name}:{spec.name}", second=seconds,
                              run_at_startup=True, unique=True, keep_result=0))
    return {
        "functions": functions,
        "cron_jobs": crons,
        "redis_settings": redis_settings(desk.settings.redis or "", conn_retries=0, conn_timeout=2),
        "queue_name": desk.settings.queue_name,
        "on_startup": on_startup,
        "burst": burst,
        "max_jobs": max_jobs,
        "job_timeout": max(30, int(desk.settings.delivery_lease_seconds)),
        "keep_result": 0,
        "handle_signals": False,
        "max_tries": DEPENDENCY_RETRIES,
    }


# Periodic jobs (sweepers) run every second or so: during an outage each run would fail and arq
# would log a traceback for it. The outage is logged here once (and once a minute) instead.
_PERIODIC_OUTAGE = OutageLog(log, "the database (periodic jobs)")


def _arq_adapter(spec: JobSpec) -> Any:
    async def run(ctx: dict[str, Any], *args: Any) -> Any:
        try:
            result = await timed(spec, ctx, *args)
        except Exception as exc:
            # The database or Redis is down: run the job again later rather than fail it. A periodic
            # job simply runs at its next time.
            if not unavailable_dependency(exc):
                raise
            if spec.every:
                _PERIODIC_OUTAGE.failed(exc, "periodic jobs run again at their next time")
                return None
            from arq import Retry

            raise Retry(defer=dependency_retry_delay(ctx.get("job_try", 1))) from exc
        if spec.every:
            _PERIODIC_OUTAGE.recovered()
        return result

    run.__qualname__ = run.__name__ = spec.name
    return run
