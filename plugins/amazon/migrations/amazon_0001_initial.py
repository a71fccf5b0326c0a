"""The Amazon plugin's tables and their unique keys, on SQLite and PostgreSQL alike."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T05:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "amazon conversations, ticket-order links, order cache, poll state, proactive messages"

INDEXES = (
    "CREATE UNIQUE INDEX IF NOT EXISTS amazon_orders_account_order ON amazon_orders (account, order_id)",
    "CREATE UNIQUE INDEX IF NOT EXISTS amazon_ticket_orders_ticket_order ON amazon_ticket_orders (ticket, order_id)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="amazon", description=DESCRIPTION)

    async def create():
        from core.plugin_api import engine
        from plugins.amazon.tables import AMAZON_TABLES

        for table in AMAZON_TABLES:
            table._meta.db = engine()
            await table.create_table(if_not_exists=True).run()
        for statement in INDEXES:
            await engine().run_ddl(statement)

    manager.add_raw(create)
    return manager
