"""Two desks may share one Redis (each with its own queue_name): each desk's periodic jobs (outbox
sweeper, SLA sweep, time rules) run every time on its own workers. arq names a periodic job's run
`<name>:<time>` and refuses a second job of that id; every desk's sweeper fires at the same second,
so without the queue name in the id one desk's run took the other's place."""

from __future__ import annotations

import asyncio
import collections

import pytest

from core.plugins import hookimpl
from core.types import JobSpec
from core.worker import WorkerRunner

pytestmark = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)


class Ticker:
    """A periodic job that notes which desk ran it."""

    def __init__(self, runs: collections.Counter) -> None:
        self.runs = runs

    @hookimpl
    def register_jobs(self, register):
        async def tick(ctx):
            self.runs[ctx["desk"].settings.queue_name] += 1

        register(JobSpec(name="test_tick", func=tick, every=1))


async def test_two_desks_on_one_redis_each_run_their_periodic_jobs(make_desk, redis_url):
    runs: collections.Counter = collections.Counter()

    def configure(c):
        c["relaydesk"]["redis"] = redis_url  # make_desk gives each desk its own queue_name

    runners = []
    for _ in range(2):
        desk = await make_desk(configure, run_jobs=False, extra_plugins=[("ticker", Ticker(runs))])
        runners.append(WorkerRunner(desk))
    tasks = [asyncio.create_task(r.run(handle_signals=False)) for r in runners]
    try:
        await asyncio.sleep(6.5)
    finally:
        for runner in runners:
            runner.stop()
        await asyncio.gather(*tasks)
    queues = [r.desk.settings.queue_name for r in runners]
    assert len(set(queues)) == 2
    # about six ticks each (the first at start-up); a desk that lost the race would have far fewer
    assert all(runs[q] >= 5 for q in queues), dict(runs)
