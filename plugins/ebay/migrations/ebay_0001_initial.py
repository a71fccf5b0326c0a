"""The eBay plugin's tables and their unique keys, on SQLite and PostgreSQL alike."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "ebay order cache, returns and cases, conversation links, account deletion receipts"

INDEXES = (
    "CREATE UNIQUE INDEX IF NOT EXISTS ebay_orders_account_order ON ebay_orders (account, order_id)",
    "CREATE UNIQUE INDEX IF NOT EXISTS ebay_disputes_account_kind_id ON ebay_disputes (account, kind, dispute_id)",
    "CREATE UNIQUE INDEX IF NOT EXISTS ebay_conversations_account_id ON ebay_conversations (account, conversation_id)",
    "CREATE UNIQUE INDEX IF NOT EXISTS ebay_deletions_notification ON ebay_deletions (notification_id)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="ebay", description=DESCRIPTION)

    async def create():
        from core.plugin_api import engine
        from plugins.ebay.tables import EBAY_TABLES

        for table in EBAY_TABLES:
            table._meta.db = engine()
            await table.create_table(if_not_exists=True).run()
        for statement in INDEXES:
            await engine().run_ddl(statement)

    manager.add_raw(create)
    return manager
