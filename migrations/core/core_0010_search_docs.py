"""PostgreSQL keeps the search terms per ticket under a GIN index (core.search): a few bytes per
(term, ticket) instead of a B-tree table row and two index entries; search_vocab lists each CJK term
once, for one-character (prefix) queries. The rows of search_terms are converted, the GIN index is
built after them (a bulk build is compact) and the old table emptied. SQLite keeps the term table:
nothing changes there."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-02T06:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "search terms per ticket under GIN on PostgreSQL"

_CJK_TERM = r"'^[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]{1,2}$'"
STATEMENTS = (
    # no row without its ticket: deleting a ticket (or TRUNCATE ... CASCADE) takes its terms along
    "CREATE TABLE IF NOT EXISTS search_docs (ticket INTEGER PRIMARY KEY REFERENCES tickets (id) ON DELETE CASCADE, "
    "terms TEXT[] NOT NULL)",
    "CREATE TABLE IF NOT EXISTS search_vocab (term VARCHAR(8) PRIMARY KEY)",
    "INSERT INTO search_docs (ticket, terms) SELECT s.ticket, array_agg(s.term) FROM search_terms s "
    "JOIN tickets t ON t.id = s.ticket GROUP BY s.ticket ON CONFLICT (ticket) DO NOTHING",
    f"INSERT INTO search_vocab (term) SELECT DISTINCT term FROM search_terms WHERE term ~ {_CJK_TERM} "
    "ON CONFLICT (term) DO NOTHING",
    "CREATE INDEX IF NOT EXISTS search_docs_terms ON search_docs USING gin (terms)",
    "TRUNCATE search_terms",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def convert():
        from core.db import engine, is_sqlite

        if is_sqlite():
            return
        for statement in STATEMENTS:
            await engine().run_ddl(statement)

    manager.add_raw(convert)
    return manager
