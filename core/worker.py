"""`relaydesk worker`: an arq worker that outlives its dependencies and stops gracefully.

- Redis goes away: arq's main loop dies of it; the runner waits (0.5, 1, 2, 2 ... s) and starts a
  fresh arq worker, whose periodic sweepers run at once and re-enqueue what Redis lost (the outbox
  rows are in the database). The outage is logged when it starts and when it ends, not per attempt.
- The database goes away: a job that fails for it is retried with backoff (core.jobs), so jobs due
  during the outage run after it.
- SIGTERM or SIGINT: no new jobs are taken; running ones get `worker_stop_grace_seconds` (6) to
  finish, then are cancelled, which hands them back (arq keeps the job queued for the next worker; a delivery
  releases its outbox lease), and the process exits well within 10 s.
- A worker killed with kill -9: the jobs it had taken are run by another worker within
  `job_handover_seconds` (10), because a live worker keeps refreshing their claims (core.job_claims).
- A heartbeat row (core.heartbeat) says every few seconds that this worker is alive and what it is
  doing: running, waiting for redis, stopping, stopped.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from typing import TYPE_CHECKING, Any

from core import clock, heartbeat, job_claims
from core.outage import OutageLog, unavailable_dependency

if TYPE_CHECKING:
    from core.desk import Desk

log = logging.getLogger("relaydesk.worker")

HAND_BACK_WAIT = 1.5  # seconds cancelled jobs get to give their work back
RECONNECT_DELAYS = (0.5, 1.0, 2.0)  # then 2 s between attempts, so a returning Redis is found fast


class WorkerRunner:
    def __init__(self, desk: "Desk", *, burst: bool = False) -> None:
        self.desk = desk
        self.burst = burst
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self.state = "starting"
        self.started_at = clock.now()
        self.jobs_failed = 0
        self.jobs_complete = 0
        # Capped so that grace, hand-back and shutdown stay within the 10 s a stop may take.
        self.grace = min(float(desk.settings.worker_stop_grace_seconds), 6.0)
        self._stop = asyncio.Event()
        self._redis = OutageLog(log, "Redis")
        self._database = OutageLog(log, "the database (heartbeat)")

    def stop(self, signum: int | None = None) -> None:
        """Ask the worker to stop (a signal handler, or a test)."""
        if not self._stop.is_set():
            log.warning("worker %s stopping on %s: taking no new jobs, %.0f s for running ones", self.name,
                        signal.Signals(signum).name if signum else "request", self.grace)
        self._stop.set()

    async def run(self, *, handle_signals: bool = True) -> int:
        """Run until stopped (or, with burst, until the queue is empty). Returns the failed jobs."""
        loop = asyncio.get_running_loop()
        if handle_signals:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, self.stop, signum)
        beating = asyncio.create_task(self._heartbeats())
        from core.preflight import redact

        log.info("worker %s started on queue %r: %d job function(s); redis %s, database %s", self.name,
                 self.desk.settings.queue_name, len(self.desk.registry.jobs),
                 redact(self.desk.settings.redis or ""), redact(self.desk.settings.database))
        try:
            await self._supervise()
        finally:
            self.state = "stopped"
            beating.cancel()
            await asyncio.gather(beating, return_exceptions=True)
            await self._beat()
            if handle_signals:
                for signum in (signal.SIGTERM, signal.SIGINT):
                    loop.remove_signal_handler(signum)
            log.info("worker %s stopped: %d job(s) done, %d failed", self.name, self.jobs_complete,
                        self.jobs_failed)
        return self.jobs_failed

    async def _supervise(self) -> None:
        from arq.worker import Worker

        from core.jobs import worker_settings

        attempt = 0
        while not self._stop.is_set():
            if self._redis.down:
                if not await self._redis_answers():
                    await self._pause(RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)])
                    attempt += 1
                    continue
                self._redis.recovered()
                attempt = 0
            worker = Worker(**worker_settings(self.desk, burst=self.burst))
            handover = float(self.desk.settings.job_handover_seconds)
            job_claims.shorten_claims(worker, handover)
            main = asyncio.create_task(worker.main())
            claims = asyncio.create_task(job_claims.keep_claims(worker, handover))
            stopping = asyncio.create_task(self._stop.wait())
            self.state = "running" if not self._redis.down else "waiting for redis"
            try:
                done, _ = await asyncio.wait({main, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if stopping in done:
                    self.state = "stopping"
                    await self._stop_gracefully(worker, main)
                    return
            finally:
                claims.cancel()
                await asyncio.gather(claims, return_exceptions=True)
            stopping.cancel()
            error = main.exception()
            await self._discard(worker)
            if error is None:  # burst: the queue is empty
                return
            if unavailable_dependency(error) == "redis":
                self._redis.failed(error)
                self.state = "waiting for redis"
            else:
                log.error("the arq worker stopped on an error; starting it again", exc_info=error)
            await self._pause(RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)])
            attempt += 1
        self.state = "stopping"

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake at once for a stop signal."""
        try:
            await asyncio.wait_for(self._stop.wait(), seconds)
        except asyncio.TimeoutError:
            pass

    async def _redis_answers(self) -> bool:
        from redis.asyncio import Redis

        client = Redis.from_url(self.desk.settings.redis or "", socket_connect_timeout=2, socket_timeout=2)
        try:
            await client.ping()
            return True
        except Exception as exc:  # noqa: BLE001 - any failure means: not yet
            self._redis.failed(exc)
            return False
        finally:
            try:
                await client.aclose()
            except Exception:  # noqa: BLE001
                pass

    def _count(self, worker: Any) -> None:
        self.jobs_failed += worker.jobs_failed
        self.jobs_complete += worker.jobs_complete

    async def _stop_gracefully(self, worker: Any, main: asyncio.Task[None]) -> None:
        worker.allow_pick_jobs = False
        loop = asyncio.get_running_loop()
        end = loop.time() + self.grace
        while any(not t.done() for t in worker.tasks.values()) and loop.time() < end:
            await asyncio.sleep(0.05)
        running = [t for t in worker.tasks.values() if not t.done()]
        if running:
            log.warning("handing back %d job(s) still running after %.0f s", len(running), self.grace)
        for task in running:
            task.cancel()  # arq leaves the job queued for the next worker; a delivery frees its lease
        if running:
            await asyncio.wait(running, timeout=HAND_BACK_WAIT)
        main.cancel()
        await asyncio.gather(main, return_exceptions=True)
        await self._discard(worker)

    async def _discard(self, worker: Any) -> None:
        """Close an arq worker whose loop has ended, without letting a dead Redis hang the close."""
        self._count(worker)
        leftover = [t for t in worker.tasks.values() if not t.done()]
        if leftover:  # jobs of a worker whose Redis vanished: their database work may still finish
            await asyncio.wait(leftover, timeout=self.grace)
            for task in leftover:
                task.cancel()
        pool = worker._pool
        worker._pool = None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(close_connection_pool=True), 2)
            except Exception:  # noqa: BLE001 - closing a connection to a Redis that is gone
                pass

    async def _heartbeats(self) -> None:
        every = heartbeat.interval(self.desk.settings.worker_heartbeat_timeout_seconds)
        beats = 0
        while True:
            await self._beat()
            if beats % 720 == 0:
                try:
                    await heartbeat.forget_old()
                except Exception:  # noqa: BLE001 - housekeeping; the next hour tries again
                    pass
            beats += 1
            await asyncio.sleep(every)

    async def _beat(self) -> None:
        try:
            await heartbeat.beat(self.name, self.state, self.started_at)
        except Exception as exc:  # noqa: BLE001 - a worker must not die of its heartbeat
            if unavailable_dependency(exc):
                self._database.failed(exc)
            else:
                log.exception("could not record the heartbeat")
            return
        self._database.recovered()


async def run_worker(desk: "Desk", *, burst: bool = False, handle_signals: bool = True) -> int:
    """Start the desk (no in-process jobs), run the worker until stopped, stop the desk."""
    await desk.start(run_jobs=False)
    try:
        return await WorkerRunner(desk, burst=burst).run(handle_signals=handle_signals)
    finally:
        await desk.stop()
