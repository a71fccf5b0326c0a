"""The running desk: settings, plugins, database, jobs and live events, started and stopped as one."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from core import db
from core.config import Settings
from core.events import LiveBus, await_me_maybe, live_bus_for
from core.jobs import ArqQueue, InProcessQueue
from core.plugins import Registry, load_registry
from core.tables import ChannelAccount

log = logging.getLogger("relaydesk")


class Desk:
    """One per process. `role` is "web" (enqueue only when Redis is configured), "worker" (an arq
    worker runs the jobs) or "embedded" (jobs in-process; the default without Redis)."""

    def __init__(self, settings: Settings, *, extra_plugins: list[tuple[str, Any]] | None = None) -> None:
        self.settings = settings
        from core import urlguard

        urlguard.configure(settings.outbound_allowlist)  # one desk per process: its allow-list is the process's
        self.registry: Registry = load_registry(settings, extra_plugins=extra_plugins)
        from core.defaults.core_jobs import core_jobs

        for spec in core_jobs(settings):
            self.registry.jobs.setdefault(spec.name, spec)
        self.live: LiveBus = live_bus_for(settings.redis, settings.queue_name)
        self.locks: dict[Any, Any] = {}  # per-process asyncio locks, e.g. one poll per account at a time
        self.jobs: InProcessQueue | ArqQueue | None = None
        self.started = False
        self.desk_id = ""  # read from the database at start (core.identity)

    @property
    def data_dir(self) -> Path:
        return Path(self.settings.data_dir)

    async def start(self, *, run_jobs: bool | None = None, migrate: bool = False) -> "Desk":
        """Connect, sync accounts and start the job runner.

        run_jobs: None picks in-process jobs when no Redis is configured; False never runs them here
        (an arq worker does); True forces the in-process runner.
        """
        await db.connect(self.settings.database)
        if migrate:
            from core.migrate import migrate as run_migrations

            await run_migrations(self.registry.migrations)
        from core.identity import load_desk_id

        self.desk_id = await load_desk_id()
        await self.sync_accounts()
        if self.settings.redis and run_jobs is not True:
            self.jobs = ArqQueue(self.settings.redis, self.settings.queue_name)
        else:
            self.jobs = InProcessQueue(self, self.registry.jobs)
        if run_jobs is False and isinstance(self.jobs, InProcessQueue):
            self.jobs = _NoRunner()  # type: ignore[assignment]
        await self.jobs.start()
        for result in self.registry.hook.startup(desk=self):
            await await_me_maybe(result)
        self.started = True
        return self

    async def stop(self) -> None:
        if not self.started:
            return
        # Jobs stop first: a periodic job must not start new work (an IDLE watcher, say) after
        # the plugins have shut theirs down.
        if self.jobs is not None:
            await self.jobs.stop()
        for result in self.registry.hook.shutdown(desk=self):
            try:
                await await_me_maybe(result)
            except Exception:
                log.exception("a plugin failed to shut down")
        await self.live.close()
        await db.disconnect(timeout=3)  # a stopping process must exit within seconds
        self.started = False

    async def sync_accounts(self) -> None:
        """Make sure every configured account has its row; plugins see the row id as Account.id."""
        for account in self.registry.accounts.values():
            row = await ChannelAccount.select(ChannelAccount.id, ChannelAccount.channel_type).where(
                (ChannelAccount.plugin == account.plugin) & (ChannelAccount.name == account.name)
            ).first()
            if row is None:
                # Several web processes start at once on a fresh database: the first insert wins,
                # the others find its row.
                await ChannelAccount.insert(ChannelAccount(
                    plugin=account.plugin, name=account.name, channel_type=account.channel_type,
                )).on_conflict(target=(ChannelAccount.plugin, ChannelAccount.name), action="DO NOTHING")
                row = await ChannelAccount.select(ChannelAccount.id).where(
                    (ChannelAccount.plugin == account.plugin) & (ChannelAccount.name == account.name)
                ).first()
                account.id = row["id"]
            else:
                account.id = row["id"]
                if row["channel_type"] != account.channel_type:
                    await ChannelAccount.update({ChannelAccount.channel_type: account.channel_type}).where(
                        ChannelAccount.id == account.id)

    async def enqueue(self, name: str, *args: Any, job_id: str | None = None, defer: float = 0) -> bool:
        assert self.jobs is not None, "the desk is not started"
        return await self.jobs.enqueue(name, *args, job_id=job_id, defer=defer)


class _NoRunner:
    """For a web process told not to run jobs while no Redis is configured: jobs wait in the
    database until a process that runs them sweeps them up."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def enqueue(self, name: str, *args: Any, job_id: str | None = None, defer: float = 0) -> bool:
        return False
