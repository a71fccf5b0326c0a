"""The Shopify plugin's tables and their unique keys, on SQLite and PostgreSQL alike."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-23T18:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "shopify order cache, fulfillments, webhook receipts, ticket links, privacy requests"

INDEXES = (
    "CREATE UNIQUE INDEX IF NOT EXISTS shopify_orders_account_order ON shopify_orders (account, order_id)",
    "CREATE UNIQUE INDEX IF NOT EXISTS shopify_fulfillments_order_fid ON shopify_fulfillments (order_row, fulfillment_id)",
    "CREATE UNIQUE INDEX IF NOT EXISTS shopify_webhooks_account_id ON shopify_webhooks (account, webhook_id)",
    "CREATE UNIQUE INDEX IF NOT EXISTS shopify_ticket_orders_ticket_name ON shopify_ticket_orders (ticket, order_name)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="shopify", description=DESCRIPTION)

    async def create():
        from core.plugin_api import engine
        from plugins.shopify.tables import SHOPIFY_TABLES

        for table in SHOPIFY_TABLES:
            table._meta.db = engine()
            await table.create_table(if_not_exists=True).run()
        for statement in INDEXES:
            await engine().run_ddl(statement)

    manager.add_raw(create)
    return manager
