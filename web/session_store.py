"""Agents' sessions in the database (table web_sessions), behind litestar's Store interface.

Why the database: a session must outlive a Redis restart (Redis here keeps nothing on disk) and a
web process restart, and every web process must see it; the database already does all three.

Why not a write per request: the session middleware renews the expiry on every request and writes
the session back. The store skips both while nothing changed and the stored expiry is less than
RENEW_STEP behind the wanted one, so a busy agent costs one read per request and about one write
per RENEW_STEP. Expired rows are purged now and then by the process that writes.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta

from litestar.stores.base import Store

from core import clock, db
from core.tables import WebSession

RENEW_STEP = timedelta(minutes=10)
PURGE_EVERY = timedelta(minutes=10)
REMEMBERED = 10_000  # sessions whose last stored state this process remembers


class DatabaseSessionStore(Store):
    def __init__(self) -> None:
        self._known: OrderedDict[str, tuple[bytes, datetime | None]] = OrderedDict()
        self._purged_at: datetime | None = None

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        data = value.encode() if isinstance(value, str) else value
        now = clock.now()
        expires_at = now + _delta(expires_in) if expires_in else None
        known = self._known.get(key)
        if known and known[0] == data and _close(known[1], expires_at):
            return
        await db.fetch("INSERT INTO web_sessions (key, data, expires_at) VALUES ({}, {}, {}) "
                       "ON CONFLICT (key) DO UPDATE SET data = {}, expires_at = {}",
                       key, text := data.decode(), expires_at, text, expires_at)
        self._remember(key, data, expires_at)
        await self._purge(now)

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        rows = await db.fetch("SELECT data, expires_at FROM web_sessions WHERE key = {}", key)  # every request: no builder
        row = rows[0] if rows else None
        now = clock.now()
        if row is None or (row["expires_at"] is not None and row["expires_at"] <= now):
            self._known.pop(key, None)
            return None
        data = row["data"].encode()
        expires_at = row["expires_at"]
        if renew_for:
            wanted = now + _delta(renew_for)
            if expires_at is None or wanted - expires_at > RENEW_STEP:
                await WebSession.update({WebSession.expires_at: wanted}).where(WebSession.key == key)
                expires_at = wanted
        self._remember(key, data, expires_at)
        return data

    async def delete(self, key: str) -> None:
        self._known.pop(key, None)
        await WebSession.delete().where(WebSession.key == key)

    async def delete_all(self) -> None:
        self._known.clear()
        await WebSession.delete(force=True)

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        row = await WebSession.select(WebSession.expires_at).where(WebSession.key == key).first()
        if row is None or row["expires_at"] is None:
            return None
        return max(0, int((row["expires_at"] - clock.now()).total_seconds()))

    def _remember(self, key: str, data: bytes, expires_at: datetime | None) -> None:
        self._known[key] = (data, expires_at)
        self._known.move_to_end(key)
        while len(self._known) > REMEMBERED:
            self._known.popitem(last=False)

    async def _purge(self, now: datetime) -> None:
        if self._purged_at is not None and now - self._purged_at < PURGE_EVERY:
            return
        self._purged_at = now
        await WebSession.delete().where(WebSession.expires_at < now)


def _delta(value: int | timedelta) -> timedelta:
    return value if isinstance(value, timedelta) else timedelta(seconds=value)


def _close(stored: datetime | None, wanted: datetime | None) -> bool:
    """Is the stored expiry near enough the wanted one that writing it again buys nothing?"""
    if stored is None or wanted is None:
        return stored is wanted
    return wanted - stored <= RENEW_STEP
