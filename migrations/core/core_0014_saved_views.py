"""Saved views (core.saved_views) and the indexes their lists and counts use: the newest/oldest
sorts and created-date ranges (tickets by created_at), and open tickets in SLA order (what most
views and the "Open" queue read first). The table is a frozen copy so later edits to
core/tables.py do not change what this migration creates; portable SQL."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import JSON, Boolean, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

ID = "2026-12-02T13:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "saved views; ticket indexes for created-date sorts and ranges and open tickets by SLA"


class SavedView(Table, tablename="saved_views"):
    name = Varchar(length=100)
    owner = Integer()
    shared = Boolean(default=False)
    filters = JSON(default={})
    position = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


STATEMENTS = (
    "CREATE INDEX IF NOT EXISTS saved_views_owner ON saved_views (owner, position, id)",
    "CREATE INDEX IF NOT EXISTS saved_views_shared ON saved_views (position, id) WHERE shared",
    "CREATE INDEX IF NOT EXISTS tickets_created ON tickets (created_at, id)",
    "CREATE INDEX IF NOT EXISTS tickets_open_due ON tickets (sla_due_at, id) "
    "WHERE status IN ('new', 'open', 'pending', 'on-hold')",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def create():
        from core.db import engine

        SavedView._meta.db = engine()
        await SavedView.create_table(if_not_exists=True).run()
        for statement in STATEMENTS:
            await engine().run_ddl(statement)

    manager.add_raw(create)
    return manager
