"""Counts of open tickets kept by the database itself (core.counts): triggers on tickets and
ticket_tags append +1/-1 rows to ticket_counts in the writer's own transaction, whichever code path
changed the ticket, so the left navigation sums a few hundred rows instead of scanning the open
tickets. Appending (never updating one counter row) means concurrent writers never wait on each
other; core.counts folds the rows together now and then. Then the table is filled by a recount."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.counts import DUE_HOUR, OPEN  # the open statuses and the due-hour key, shared with the reader

ID = "2026-12-02T06:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "ticket counts kept by triggers"

# What the counts depend on; an UPDATE that changes none of these appends nothing.
WATCHED = ("status", "channel_type", "team", "assignee", "pooled_at", "sla_due_at")


def _dimensions(t: str, sign: int, engine: str) -> str:
    """The (kind, key, n) rows one ticket row contributes while it is open."""
    due = DUE_HOUR[engine].format(t=t)
    return (
        f"SELECT v.column1 AS kind, v.column2 AS key, {sign} AS n FROM (VALUES ('open', ''), "
        f"('channel', {t}.channel_type), ('team', CAST({t}.team AS TEXT)), "
        f"(CASE WHEN {t}.assignee IS NULL THEN 'unassigned' ELSE 'assignee' END, COALESCE(CAST({t}.assignee AS TEXT), '')), "
        f"('pending', CASE WHEN {t}.status = 'pending' THEN '' END), "
        f"('pool', CASE WHEN {t}.pooled_at IS NOT NULL AND {t}.assignee IS NULL THEN '' END), "
        f"('due', CASE WHEN {t}.sla_due_at IS NOT NULL THEN {due} END)) AS v "
        f"WHERE v.column2 IS NOT NULL AND {t}.status IN {OPEN}")


def _tags(t: str, sign: int, other: str | None = None) -> str:
    """The ticket's tags, counted while it is open (on an update: only when it opens or closes)."""
    also = f" AND NOT ({other}.status IN {OPEN})" if other else ""
    return (f"SELECT 'tag' AS kind, tag AS key, {sign} AS n FROM ticket_tags "
            f"WHERE ticket = {t}.id AND {t}.status IN {OPEN}{also}")


def _append(*selects: str) -> str:
    union = " UNION ALL ".join(selects)
    return (f"INSERT INTO ticket_counts (kind, key, n) SELECT kind, key, SUM(n) FROM ({union}) AS d "
            "GROUP BY kind, key HAVING SUM(n) <> 0")


def _tag_change(tag: str, ticket: str, sign: int) -> str:
    return (f"INSERT INTO ticket_counts (kind, key, n) SELECT 'tag', {tag}, {sign} FROM tickets "
            f"WHERE id = {ticket} AND status IN {OPEN}")


def statements(engine: str) -> list[str]:
    insert = _append(_dimensions("NEW", 1, engine))
    update = _append(_dimensions("OLD", -1, engine), _dimensions("NEW", 1, engine),
                     _tags("OLD", -1, other="NEW"), _tags("NEW", 1, other="OLD"))
    delete = _append(_dimensions("OLD", -1, engine))
    out = [
        "CREATE TABLE IF NOT EXISTS ticket_counts (id " + ("BIGSERIAL" if engine == "postgres" else "INTEGER")
        + " PRIMARY KEY, kind VARCHAR(16) NOT NULL, key VARCHAR(80) NOT NULL, n INTEGER NOT NULL)",
        "CREATE INDEX IF NOT EXISTS ticket_counts_kind_key ON ticket_counts (kind, key)",
    ]
    if engine == "postgres":
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in WATCHED)
        out += [
            f"CREATE OR REPLACE FUNCTION ticket_counts_insert() RETURNS trigger AS $$ BEGIN {insert}; "
            "RETURN NULL; END $$ LANGUAGE plpgsql",
            f"CREATE OR REPLACE FUNCTION ticket_counts_update() RETURNS trigger AS $$ BEGIN {update}; "
            "RETURN NULL; END $$ LANGUAGE plpgsql",
            # Before the row goes: its tags first (their trigger still sees the ticket open), then the row.
            "CREATE OR REPLACE FUNCTION ticket_counts_delete() RETURNS trigger AS $$ BEGIN "
            f"DELETE FROM ticket_tags WHERE ticket = OLD.id; {delete}; RETURN OLD; END $$ LANGUAGE plpgsql",
            # A tag change locks its ticket as an UPDATE would, so a concurrent close or reopen of that
            # ticket is ordered before or after it and both see the other's result.
            "CREATE OR REPLACE FUNCTION ticket_counts_tag() RETURNS trigger AS $$ BEGIN "
            "IF TG_OP IN ('DELETE', 'UPDATE') THEN PERFORM 1 FROM tickets WHERE id = OLD.ticket FOR NO KEY UPDATE; "
            f"{_tag_change('OLD.tag', 'OLD.ticket', -1)}; END IF; "
            "IF TG_OP IN ('INSERT', 'UPDATE') THEN PERFORM 1 FROM tickets WHERE id = NEW.ticket FOR NO KEY UPDATE; "
            f"{_tag_change('NEW.tag', 'NEW.ticket', 1)}; END IF; RETURN NULL; END $$ LANGUAGE plpgsql",
            "DROP TRIGGER IF EXISTS ticket_counts_insert ON tickets",
            "CREATE TRIGGER ticket_counts_insert AFTER INSERT ON tickets FOR EACH ROW EXECUTE FUNCTION ticket_counts_insert()",
            "DROP TRIGGER IF EXISTS ticket_counts_update ON tickets",
            f"CREATE TRIGGER ticket_counts_update AFTER UPDATE OF {', '.join(WATCHED)} ON tickets FOR EACH ROW "
            f"WHEN ({changed}) EXECUTE FUNCTION ticket_counts_update()",
            "DROP TRIGGER IF EXISTS ticket_counts_delete ON tickets",
            "CREATE TRIGGER ticket_counts_delete BEFORE DELETE ON tickets FOR EACH ROW EXECUTE FUNCTION ticket_counts_delete()",
            "DROP TRIGGER IF EXISTS ticket_counts_tag ON ticket_tags",
            "CREATE TRIGGER ticket_counts_tag AFTER INSERT OR DELETE OR UPDATE OF ticket, tag ON ticket_tags "
            "FOR EACH ROW EXECUTE FUNCTION ticket_counts_tag()",
        ]
    else:
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in WATCHED)
        out += [
            f"CREATE TRIGGER IF NOT EXISTS ticket_counts_insert AFTER INSERT ON tickets BEGIN {insert}; END",
            f"CREATE TRIGGER IF NOT EXISTS ticket_counts_update AFTER UPDATE OF {', '.join(WATCHED)} ON tickets "
            f"WHEN {changed} BEGIN {update}; END",
            "CREATE TRIGGER IF NOT EXISTS ticket_counts_delete BEFORE DELETE ON tickets BEGIN "
            f"DELETE FROM ticket_tags WHERE ticket = OLD.id; {delete}; END",
            "CREATE TRIGGER IF NOT EXISTS ticket_counts_tag_insert AFTER INSERT ON ticket_tags BEGIN "
            f"{_tag_change('NEW.tag', 'NEW.ticket', 1)}; END",
            "CREATE TRIGGER IF NOT EXISTS ticket_counts_tag_delete AFTER DELETE ON ticket_tags BEGIN "
            f"{_tag_change('OLD.tag', 'OLD.ticket', -1)}; END",
            "CREATE TRIGGER IF NOT EXISTS ticket_counts_tag_update AFTER UPDATE OF ticket, tag ON ticket_tags BEGIN "
            f"{_tag_change('OLD.tag', 'OLD.ticket', -1)}; {_tag_change('NEW.tag', 'NEW.ticket', 1)}; END",
        ]
    return out


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def create():
        from core import counts
        from core.db import engine, is_sqlite

        for statement in statements("sqlite" if is_sqlite() else "postgres"):
            await engine().run_ddl(statement)
        await counts.rebuild()

    manager.add_raw(create)
    return manager
