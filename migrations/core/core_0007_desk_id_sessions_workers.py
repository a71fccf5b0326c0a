"""The desk's own id (made here, once: a fresh desk gets it at init, an older one on its next
migrate), agents' sessions in the database, and the workers' heartbeats.

Tables are frozen copies here so later edits to core/tables.py do not change what this migration
creates. All SQL is portable between SQLite and PostgreSQL.
"""

import secrets

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

ID = "2026-12-02T06:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "desk id, sessions in the database, worker heartbeats"


class DeskIdentity(Table, tablename="desk_identity"):
    desk_id = Varchar(length=32, primary_key=True)
    created_at = Timestamptz(default=TimestamptzNow())


class WebSession(Table, tablename="web_sessions"):
    key = Varchar(length=128, primary_key=True)
    data = Text()
    expires_at = Timestamptz(null=True, default=None)


class WorkerHeartbeat(Table, tablename="worker_heartbeats"):
    name = Varchar(length=200, primary_key=True)
    state = Varchar(length=32, default="running")
    started_at = Timestamptz(default=TimestamptzNow())
    seen_at = Timestamptz(default=TimestamptzNow())
    metrics = Text(default="[]")


STATEMENTS = (
    # expired sessions are purged by this index
    "CREATE INDEX IF NOT EXISTS web_sessions_expires ON web_sessions (expires_at)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def create():
        from core.db import engine

        for table in (DeskIdentity, WebSession, WorkerHeartbeat):
            table._meta.db = engine()
            await table.create_table(if_not_exists=True).run()
        for statement in STATEMENTS:
            await engine().run_ddl(statement)
        if not await DeskIdentity.exists():
            await DeskIdentity.insert(DeskIdentity(desk_id=secrets.token_hex(8))).run()

    manager.add_raw(create)
    return manager
