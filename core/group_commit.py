"""Group commit: callers that arrive while the database is busy share the next transaction.

Under load most of ingest's time is round trips (BEGIN, COMMIT and the pool's bookkeeping) and the
database's own work per transaction. When many webhooks arrive at once, storing whatever has queued
in one transaction spends that cost once per batch instead of once per message. Nobody waits for a
batch to fill: an idle lane takes a lone caller's work at once, so a quiet desk sees the same
latency as before; batches only form while every lane is busy.

A failing batch never takes an innocent caller down with it: the batch is run again one item at a
time, and only the item that fails again reports the error.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import deque
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass(slots=True)
class _Waiting(Generic[Item, Result]):
    item: Item
    future: asyncio.Future[Result] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class GroupCommit(Generic[Item, Result]):
    """Run `run_batch(items)` (one transaction, one result per item, in order) for queued items.

    lanes: how many batches may run at once (each holds one database connection).
    max_batch: the most items one transaction takes; more wait for the next.
    """

    def __init__(self, run_batch: Callable[[list[Item]], Awaitable[list[Result]]], *, lanes: int = 4,
                 max_batch: int = 32) -> None:
        if lanes < 1 or max_batch < 1:
            raise ValueError("lanes and max_batch must be at least 1")
        self._run_batch = run_batch
        self.lanes = lanes
        self.max_batch = max_batch
        self._queue: deque[_Waiting[Item, Result]] = deque()
        self._running = 0
        self.batches = 0  # committed batches and the items in them, for the metrics
        self.items = 0

    async def submit(self, item: Item) -> Result:
        """Queue `item` and wait until the transaction that stored it has committed.

        A caller that gives up (a client that hangs up) does not stop the work: the item is stored
        anyway, as it would have been had it been alone."""
        waiting: _Waiting[Item, Result] = _Waiting(item)
        # If the caller has gone, nobody reads the outcome: mark it read so asyncio does not warn.
        waiting.future.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._queue.append(waiting)
        if self._running < self.lanes:
            self._running += 1
            # A fresh context: the lane serves every later caller too, so it must not inherit the
            # first one's context variables (an open transaction of that caller's, say).
            asyncio.get_running_loop().create_task(self._lane(), context=contextvars.Context())
        return await asyncio.shield(waiting.future)

    async def _lane(self) -> None:
        try:
            while self._queue:
                batch = [self._queue.popleft() for _ in range(min(len(self._queue), self.max_batch))]
                await self._run(batch)
        finally:
            self._running -= 1

    async def _run(self, batch: list[_Waiting[Item, Result]]) -> None:
        try:
            results = await self._run_batch([w.item for w in batch])
        except BaseException as exc:  # noqa: BLE001 - every waiter must hear how its item ended
            if len(batch) == 1 or not isinstance(exc, Exception):
                for waiting in batch:
                    _settle(waiting, exc=exc)
                if not isinstance(exc, Exception):
                    raise
                return
            for waiting in batch:  # one bad item must not fail the others: each alone
                await self._run([waiting])
            return
        self.batches += 1
        self.items += len(batch)
        for waiting, result in zip(batch, results, strict=True):
            _settle(waiting, result=result)


def _settle(waiting: _Waiting[Item, Result], *, result: Result | None = None,
            exc: BaseException | None = None) -> None:
    if waiting.future.done():
        return
    if exc is not None:
        waiting.future.set_exception(exc)
    else:
        waiting.future.set_result(result)  # type: ignore[arg-type]
