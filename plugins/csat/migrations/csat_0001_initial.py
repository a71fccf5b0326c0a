"""The CSAT plugin's survey table, on SQLite and PostgreSQL alike."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-23T18:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "csat surveys and ratings"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="csat", description=DESCRIPTION)

    async def create():
        from core.plugin_api import engine
        from plugins.csat.tables import CSAT_TABLES

        for table in CSAT_TABLES:
            table._meta.db = engine()
            await table.create_table(if_not_exists=True).run()
        await engine().run_ddl("CREATE UNIQUE INDEX IF NOT EXISTS csat_surveys_ticket_round "
                               "ON csat_surveys (ticket, round)")

    manager.add_raw(create)
    return manager
