"""The agent inbox: sign-out-everywhere generation, login throttling, reply templates, the search
index (words + CJK bigrams, the same on SQLite and PostgreSQL) and ticket viewers.

Tables are frozen copies here so later edits to core/tables.py do not change what this migration
creates. All SQL is portable between SQLite and PostgreSQL.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

ID = "2026-11-23T18:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "inbox: sessions, login throttle, macros, search index, ticket viewers"


class LoginThrottle(Table, tablename="login_throttle"):
    key = Varchar(length=300, unique=True)
    failures = Integer(default=0)
    window_started_at = Timestamptz(default=TimestamptzNow())
    locked_until = Timestamptz(null=True, default=None)


class Macro(Table, tablename="macros"):
    name = Varchar(length=200)
    shortcut = Varchar(length=64)
    channel_type = Varchar(length=64, null=True, default=None)
    language = Varchar(length=16, null=True, default=None)
    body = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class SearchTerm(Table, tablename="search_terms"):
    term = Varchar(length=64)
    ticket = Integer()


class SearchState(Table, tablename="search_state"):
    name = Varchar(length=32, unique=True)
    last_id = Integer(default=0)


class TicketViewer(Table, tablename="ticket_viewers"):
    ticket = Integer()
    agent = Integer()
    seen_at = Timestamptz(default=TimestamptzNow())
    typing_at = Timestamptz(null=True, default=None)


STATEMENTS = (
    "ALTER TABLE agents ADD COLUMN session_generation INTEGER NOT NULL DEFAULT 0",
    # one row per (term, ticket): the search looks terms up by equality and intersects tickets
    "CREATE UNIQUE INDEX IF NOT EXISTS search_terms_term_ticket ON search_terms (term, ticket)",
    "CREATE INDEX IF NOT EXISTS search_terms_ticket ON search_terms (ticket)",
    "CREATE UNIQUE INDEX IF NOT EXISTS ticket_viewers_ticket_agent ON ticket_viewers (ticket, agent)",
    "CREATE UNIQUE INDEX IF NOT EXISTS macros_shortcut_channel_language ON macros (shortcut, channel_type, language)",
    "CREATE INDEX IF NOT EXISTS tickets_channel_status_due ON tickets (channel_type, status, sla_due_at, id)",
    # search results come newest first; the planner can walk this and probe the term index
    "CREATE INDEX IF NOT EXISTS tickets_last_message ON tickets (last_message_at, id)",
    # merge candidates by exact name in the customer panel
    "CREATE INDEX IF NOT EXISTS customers_name ON customers (name)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def create():
        from core.db import engine

        for table in (LoginThrottle, Macro, SearchTerm, SearchState, TicketViewer):
            table._meta.db = engine()
            await table.create_table(if_not_exists=True).run()
        for statement in STATEMENTS:
            await engine().run_ddl(statement)

    manager.add_raw(create)
    return manager
