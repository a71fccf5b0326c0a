"""Notifications keep the parameters of their text, so the inbox can show a system notification
(a claim-pool alert) in the reader's language; `text` stays the English rendering."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "notification params"

STATEMENTS = ("ALTER TABLE notifications ADD COLUMN params JSON NULL",)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def alter():
        from core.db import engine

        for statement in STATEMENTS:
            await engine().run_ddl(statement)

    manager.add_raw(alter)
    return manager
