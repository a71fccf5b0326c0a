"""The knowledge base's tables, on SQLite and PostgreSQL alike."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-02T13:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "knowledge base: brands, categories, articles, translations, revisions, terms, stats, uses"

INDEXES = (
    "CREATE UNIQUE INDEX IF NOT EXISTS kb_translations_article_language ON kb_translations (article, language)",
    "CREATE UNIQUE INDEX IF NOT EXISTS kb_revisions_number ON kb_revisions (article, language, number)",
    "CREATE UNIQUE INDEX IF NOT EXISTS kb_categories_slug ON kb_categories (parent, slug)",
    "CREATE UNIQUE INDEX IF NOT EXISTS kb_stats_key ON kb_stats (day, kind, brand, language)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="kb", description=DESCRIPTION)

    async def create():
        from core.plugin_api import engine
        from plugins.kb.tables import KB_TABLES

        for table in KB_TABLES:
            table._meta.db = engine()
            await table.create_table(if_not_exists=True).run()
        for statement in INDEXES:
            await engine().run_ddl(statement)

    manager.add_raw(create)
    return manager
