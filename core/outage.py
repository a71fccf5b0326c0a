"""Is this error an outage of a dependency (the database or Redis) rather than a bug?

One answer for every caller: the web layer turns an outage into 503 with Retry-After (the caller
tries again later and nothing is lost), the worker waits and reconnects instead of dying, and the
enqueue of a job that Redis cannot take is left to the sweepers.
"""

from __future__ import annotations

import logging
import socket
import sqlite3
import time

DATABASE = "database"
REDIS = "redis"

# sqlite3.OperationalError texts that mean "not now", not "this query is wrong" (no such table...).
_SQLITE_UNAVAILABLE = ("database is locked", "unable to open database file", "disk i/o error",
                       "database or disk is full", "readonly database")


def unavailable_dependency(exc: BaseException) -> str | None:
    """"database" or "redis" when `exc` (or what caused it) is a lost or refused connection to
    it, else None."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 5:
        found = _classify(current)
        if found:
            return found
        current = current.__cause__ or current.__context__
        seen += 1
    return None


def _classify(exc: BaseException) -> str | None:
    try:
        from redis import exceptions as redis_errors

        if isinstance(exc, (redis_errors.ConnectionError, redis_errors.TimeoutError)):
            return REDIS
    except ImportError:  # pragma: no cover - redis is a dependency
        pass
    try:
        from asyncpg import exceptions as pg

        if isinstance(exc, (pg.PostgresConnectionError, pg.CannotConnectNowError, pg.AdminShutdownError,
                            pg.CrashShutdownError, pg.TooManyConnectionsError)):
            return DATABASE
        if isinstance(exc, pg.InterfaceError) and ("closed" in str(exc) or "closing" in str(exc)):
            return DATABASE
        # A session the server ended (a restart's fast shutdown) while a query was starting on it
        # leaves asyncpg's protocol in a state it cannot leave: "cannot switch to state 15; another
        # operation (2) is in progress" (seen once in 1,000 webhooks across a PostgreSQL restart;
        # MagicStack/asyncpg#784, sqlalchemy#13241). Nothing was committed: 503, and try again.
        if isinstance(exc, pg.InternalClientError) and str(exc).startswith("cannot switch to state"):
            return DATABASE
    except ImportError:  # pragma: no cover - asyncpg is a dependency
        pass
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc).lower()
        return DATABASE if any(t in text for t in _SQLITE_UNAVAILABLE) else None
    # asyncpg raises the socket's own error when it cannot connect (refused, reset, no such host).
    if isinstance(exc, (ConnectionError, socket.gaierror)):
        return DATABASE
    return None


def failure_reason(exc: BaseException) -> str:
    """A short label for metrics: "<dependency>_unavailable", the error's own code, or "error"."""
    dependency = unavailable_dependency(exc)
    if dependency:
        return f"{dependency}_unavailable"
    code = getattr(exc, "code", None)
    if isinstance(code, str) and code:
        return code
    status = getattr(exc, "status_code", None)  # the web framework's own (413 for a body too large)
    return f"http_{status}" if isinstance(status, int) else "error"


class OutageLog:
    """Logs an outage twice: when the first failure comes and when things work again, with how many
    failures it kept out of the log in between (not one line per failed event)."""

    def __init__(self, logger: logging.Logger, what: str, *, repeat_every: float = 60.0) -> None:
        self.logger = logger
        self.what = what
        self.repeat_every = repeat_every  # a long outage is logged again this often, with its count
        self.since: float | None = None
        self.logged_at = 0.0
        self.last_failure = 0.0
        self.failures = 0

    @property
    def down(self) -> bool:
        return self.since is not None

    def failed(self, exc: BaseException, doing: str = "") -> None:
        now = time.monotonic()
        if self.since is not None and now - self.last_failure > self.repeat_every / 2:
            # Nothing failed for a while: that outage ended unnoticed (nobody calls recovered()
            # where failures are only seen, as in the web layer); this is a new one.
            self.since = None
            self.failures = 0
        self.last_failure = now
        self.failures += 1
        if self.since is None:
            self.since = self.logged_at = now
            self.logger.warning("%s is unreachable%s: %s: %s; retrying with backoff", self.what,
                                f" ({doing})" if doing else "", type(exc).__name__, exc)
        elif now - self.logged_at >= self.repeat_every:
            self.logged_at = now
            self.logger.warning("%s still unreachable after %.0f s (%d failure(s) so far): %s: %s", self.what,
                                now - self.since, self.failures, type(exc).__name__, exc)

    def recovered(self) -> None:
        if self.since is not None:
            self.logger.warning("%s is reachable again after %.1f s (%d failed attempt(s) while it was down)",
                                self.what, time.monotonic() - self.since, self.failures)
        self.since = None
        self.failures = 0
