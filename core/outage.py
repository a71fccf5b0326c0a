"""Log an outage once, with a count, instead of once per failed attempt.

While Redis is down, every live event, every enqueue and every poll fails the same way; hundreds of
identical tracebacks a second bury the one line an operator needs. An OutageLog logs the first
failure (with its reason), counts the rest, repeats a summary at most every `every` seconds while
the outage lasts, and logs once more when it is over, with how many attempts failed and for how long.
"""

from __future__ import annotations

import logging
import time


class OutageLog:
    def __init__(self, logger: logging.Logger, what: str, every: float = 60.0) -> None:
        self.logger = logger
        self.what = what  # "publish live events to Redis": completes "could not ..."
        self.every = every
        self.failures = 0  # in the current outage
        self.started: float | None = None
        self._last_report = 0.0
        self._since_report = 0

    @property
    def in_outage(self) -> bool:
        return self.started is not None

    def failed(self, exc: BaseException, count: int = 1) -> None:
        now = time.monotonic()
        self.failures += count
        self._since_report += count
        if self.started is None:
            self.started = self._last_report = now
            self._since_report = 0
            self.logger.error("could not %s: %s: %s (further failures are counted, not logged one by one)",
                              self.what, type(exc).__name__, exc, extra={"outage": self.what})
        elif now - self._last_report >= self.every:
            self.logger.error("still cannot %s: %d more failure(s) in the last %.0fs, %d since the outage began "
                              "%.0fs ago (last: %s: %s)", self.what, self._since_report, now - self._last_report,
                              self.failures, now - self.started, type(exc).__name__, exc,
                              extra={"outage": self.what, "failures": self.failures})
            self._last_report, self._since_report = now, 0

    def succeeded(self) -> None:
        if self.started is None:
            return
        self.logger.warning("can %s again after %.1fs; %d attempt(s) failed meanwhile", self.what,
                            time.monotonic() - self.started, self.failures,
                            extra={"outage": self.what, "failures": self.failures})
        self.started, self.failures, self._since_report = None, 0, 0
