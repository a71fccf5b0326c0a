"""The assist plugin's answers table, on SQLite and PostgreSQL alike."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-02T13:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "answers assist sent or prepared"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="assist", description=DESCRIPTION)

    async def create():
        from core.plugin_api import engine
        from plugins.assist.tables import ASSIST_TABLES

        for table in ASSIST_TABLES:
            table._meta.db = engine()
            await table.create_table(if_not_exists=True).run()

    manager.add_raw(create)
    return manager
