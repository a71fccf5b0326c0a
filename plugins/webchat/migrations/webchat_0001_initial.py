"""The webchat plugin's conversations table, on SQLite and PostgreSQL alike."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-02T13:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "webchat sessions and daily counters"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="webchat", description=DESCRIPTION)

    async def create():
        from core.plugin_api import engine
        from plugins.webchat.tables import WEBCHAT_TABLES

        for table in WEBCHAT_TABLES:
            table._meta.db = engine()
            await table.create_table(if_not_exists=True).run()
        await engine().run_ddl("CREATE UNIQUE INDEX IF NOT EXISTS webchat_stats_key ON webchat_stats (day, account, kind)")

    manager.add_raw(create)
    return manager
