"""The translate plugin's cache and usage tables, on SQLite and PostgreSQL alike."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-23T18:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "translation cache and daily character usage"

INDEXES = (
    "CREATE UNIQUE INDEX IF NOT EXISTS translate_usage_provider_day ON translate_usage (provider, day)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="translate", description=DESCRIPTION)

    async def create():
        from core.plugin_api import engine
        from plugins.translate.tables import TRANSLATE_TABLES

        for table in TRANSLATE_TABLES:
            table._meta.db = engine()
            await table.create_table(if_not_exists=True).run()
        for statement in INDEXES:
            await engine().run_ddl(statement)

    manager.add_raw(create)
    return manager
