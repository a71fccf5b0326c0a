"""Waiting for what a desk does after the request: jobs, and conditions polled until they hold."""

from __future__ import annotations

import asyncio
from typing import Any, Callable


async def drain_jobs(desk: Any, timeout: float = 30) -> int:
    """Run the desk's queued jobs to the end; returns how many failed since the desk started.
    Jobs in-process (no redis): waits for them. With redis: runs an arq worker in burst mode
    against the real Redis until the queue is empty."""
    if desk.jobs is None:
        return 0
    if hasattr(desk.jobs, "drain"):
        await desk.jobs.drain(timeout=timeout)
        return desk.jobs.failed
    from arq.worker import Worker

    from core.jobs import worker_settings

    settings = worker_settings(desk, burst=True)
    settings["cron_jobs"] = []  # burst mode would wait for the crons; the queue is what we drain
    worker = Worker(**settings)
    try:
        await asyncio.wait_for(worker.main(), timeout)
    finally:
        await worker.close()
    return worker.jobs_failed


async def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll an async or sync predicate until it returns something truthy; returns that value."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if loop.time() > end:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)
