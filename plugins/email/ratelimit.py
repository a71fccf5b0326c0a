"""A per-sender limit on mails per hour that stops a runaway mail loop.

State lives in memory, per process, on purpose: a loop (two auto-responders answering each other)
sends dozens of mails a minute, so a per-process count catches it within its first hour even
when several workers share the load (each sees its part of the loop), and a restart that forgets
the counts lets at most one more hour's worth through. Nothing is dropped: mail over the limit is
still stored if it threads onto a ticket, but it is flagged as an auto-reply (so nothing answers
it automatically) and may not open new tickets. A table would add a write per inbound mail for a
guard that only has to be approximately right.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from typing import Callable

WINDOW_SECONDS = 3600.0
MAX_TRACKED_SENDERS = 50_000


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._seen: OrderedDict[tuple[str, str], deque[tuple[float, str]]] = OrderedDict()
        self._lock = threading.Lock()

    def over_limit(self, account: str, sender: str, message_id: str, limit: int) -> bool:
        """Count this mail (once per Message-ID: a refetched mail is not counted again) and say
        whether the sender has now sent more than `limit` mails within the last hour."""
        if limit <= 0 or not sender:
            return False
        now = self._clock()
        key = (account, sender.lower())
        with self._lock:
            entries = self._seen.get(key)
            if entries is None:
                entries = self._seen[key] = deque()
                if len(self._seen) > MAX_TRACKED_SENDERS:
                    self._seen.popitem(last=False)
            self._seen.move_to_end(key)
            while entries and entries[0][0] <= now - WINDOW_SECONDS:
                entries.popleft()
            if all(mid != message_id for _, mid in entries):
                entries.append((now, message_id))
            position = next(i for i, (_, mid) in enumerate(entries) if mid == message_id)
            return position >= limit

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()


LIMITER = RateLimiter()
