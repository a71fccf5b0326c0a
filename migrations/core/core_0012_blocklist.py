"""Spam and the blocklist (core.spam): blocked senders, e-mail domains and phone numbers, and the
"spam" ticket status (a value of tickets.status, no schema change). The table is a frozen copy so
later edits to core/tables.py do not change what this migration creates; portable SQL."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

ID = "2026-12-02T10:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "blocklist of senders, domains and phone numbers; merged customers by target"


class Block(Table, tablename="blocklist"):
    kind = Varchar(length=16)
    value = Varchar(length=255)
    created_by = Varchar(length=100, default="")
    created_at = Timestamptz(default=TimestamptzNow())


STATEMENTS = (
    "CREATE UNIQUE INDEX IF NOT EXISTS blocklist_kind_value ON blocklist (kind, value)",
    # the Spam view lists spam tickets newest first
    "CREATE INDEX IF NOT EXISTS tickets_spam ON tickets (updated_at) WHERE status = 'spam'",
    # the customer panel lists the customers merged into this one (to undo a merge)
    "CREATE INDEX IF NOT EXISTS customers_merged_into ON customers (merged_into) WHERE merged_into IS NOT NULL",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def create():
        from core.db import engine

        Block._meta.db = engine()
        await Block.create_table(if_not_exists=True).run()
        for statement in STATEMENTS:
            await engine().run_ddl(statement)

    manager.add_raw(create)
    return manager
