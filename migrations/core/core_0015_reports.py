"""Reports (core/reports): report_facts, appended by triggers on tickets in the writer's own
transaction, and report_rollups, their hourly sums per channel, account, team, agent, language and
tag. The facts are seeded from the tickets as they stand, then folded into the rollups."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-02T13:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "report facts kept by triggers, hourly report rollups"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def create():
        from core.db import engine, is_sqlite
        from core.reports import rollups, schema

        for statement in schema.statements("sqlite" if is_sqlite() else "postgres"):
            await engine().run_ddl(statement)
        await rollups.seed_from_tickets()
        await rollups.rebuild()

    manager.add_raw(create)
    return manager
