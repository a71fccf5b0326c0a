"""PostgreSQL: a short pending list for the search index's GIN (gin_pending_list_limit 256 kB).

GIN adds new entries to a pending list that every search reads from start to end, until the list
outgrows its limit (4 MB by default) and is merged into the index. Under a steady inbound stream
(each message rewrites its ticket's row of terms) the list stayed near its limit: measured on 100k
tickets, a search for a rare word read 503 pending pages and took 15-33 ms instead of 0.1 ms, and the
writer that crossed the limit merged 4 MB at once. With 256 kB the list holds about 30 pages (under
half a millisecond to read) and each merge is a few tens of milliseconds. SQLite keeps its term
table: nothing changes there."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-02T09:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "a short GIN pending list for search_docs"

STATEMENT = "ALTER INDEX search_docs_terms SET (gin_pending_list_limit = 256)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def shorten():
        from core.db import engine, is_sqlite

        if is_sqlite():
            return
        await engine().run_ddl(STATEMENT)

    manager.add_raw(shorten)
    return manager
