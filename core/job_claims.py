"""How long a job taken by a worker stays its own: arq's in-progress key, kept short and refreshed.

arq marks a job it starts with a key `arq:in-progress:<job id>` that lives for the longest job
timeout + 10 s (40 s here); while it exists no other worker starts the job. A worker killed with
`kill -9` (or a machine that is lost) leaves that key behind, so its jobs waited 40 s for another
worker. Here the key lives only `job_handover_seconds` (10 s by default) and the running worker
refreshes it three times in that span for each job it still runs: a dead worker's jobs are taken
by another within that time, a live worker's never (a job is only run again once nothing refreshed
its claim for the whole span).

A refresh that finds the key gone (Redis was restarted, or the worker's loop was stalled longer
than the span) claims it again if nobody else did, and logs loudly if another worker has it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from core.outage import unavailable_dependency

log = logging.getLogger("relaydesk.worker")


def refresh_every(handover_seconds: float) -> float:
    return max(0.1, handover_seconds / 3)


def shorten_claims(worker: Any, handover_seconds: float) -> None:
    """Make the in-progress keys an arq Worker sets live `handover_seconds` (arq reads this
    attribute each time it starts a job)."""
    worker.in_progress_timeout_s = handover_seconds


async def refresh_claims(worker: Any, handover_seconds: float) -> list[str]:
    """Extend the claim of every job `worker` is running; returns the ids of jobs another worker
    took meanwhile (their claim had lapsed)."""
    from arq.constants import in_progress_key_prefix

    pool = worker.pool
    if pool is None:
        return []
    ms = int(handover_seconds * 1000)
    lost = []
    for job_id, task in list(worker.tasks.items()):
        if task.done():
            continue
        key = in_progress_key_prefix + job_id
        if await pool.pexpire(key, ms):
            continue
        if task.done():  # it finished between the two looks: arq removed its key itself
            continue
        if not await pool.set(key, b"1", px=ms, nx=True):
            lost.append(job_id)
    return lost


async def keep_claims(worker: Any, handover_seconds: float) -> None:
    """Run for as long as the worker's loop runs (cancelled with it)."""
    warned: set[str] = set()
    while True:
        await asyncio.sleep(refresh_every(handover_seconds))
        try:
            lost = await refresh_claims(worker, handover_seconds)
        except Exception as exc:  # noqa: BLE001 - Redis away: the worker's own loop notices and restarts
            if not unavailable_dependency(exc):
                log.exception("could not refresh the claims of running jobs")
            continue
        for job_id in set(lost) - warned:
            log.error("job %s is now claimed by another worker although this one still runs it (its claim "
                      "was not refreshed for %.0f s: a stalled worker or a Redis restart); it may run twice",
                      job_id, handover_seconds)
        warned |= set(lost)
