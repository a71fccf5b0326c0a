"""Which job holds an outbox row's lease: a retry of that job (after the database came back) takes
the row again at once instead of waiting for the lease to run out."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-02T06:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "outbox lease owner"

STATEMENTS = ("ALTER TABLE outbox ADD COLUMN lease_owner VARCHAR(200) NULL",)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def alter():
        from core.db import engine

        for statement in STATEMENTS:
            await engine().run_ddl(statement)

    manager.add_raw(alter)
    return manager
