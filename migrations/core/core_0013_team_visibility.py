"""Team visibility (core.visibility): teams.visibility is "everyone" (the default, as before) or
"members" (the team's tickets are seen only by its members, supervisors and admins).

The navigation counts (core.counts) learn a team dimension, so an agent who may not see some teams'
tickets gets counts without them by subtracting those teams' kept rows, never by scanning tickets:
the count triggers of core_0009 are replaced by ones that also append, for a ticket with a team,
tchannel/tunassigned/tpending/tpool/tdue/ttag rows keyed "<team>" or "<team>|<key>" (the per-team
open count is the existing `team` kind). Written out in full here (not imported from 0009) so the
migration stays what it was when later migrations change the triggers again. Then a recount."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-02T13:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "team visibility; counts per team"

OPEN = "('new', 'open', 'pending', 'on-hold')"
DUE_HOUR = {
    "postgres": "lpad(floor(extract(epoch FROM {t}.sla_due_at) / 3600)::bigint::text, 10, '0')",
    "sqlite": "printf('%010d', CAST(strftime('%s', {t}.sla_due_at) AS INTEGER) / 3600)",
}
WATCHED = ("status", "channel_type", "team", "assignee", "pooled_at", "sla_due_at")
SAME = {"postgres": "IS NOT DISTINCT FROM", "sqlite": "IS"}


def _dimensions(t: str, sign: int, engine: str) -> str:
    """The (kind, key, n) rows one ticket row contributes while it is open; a NULL key adds nothing."""
    due = DUE_HOUR[engine].format(t=t)
    team = f"CAST({t}.team AS TEXT)"
    return (
        f"SELECT v.column1 AS kind, v.column2 AS key, {sign} AS n FROM (VALUES ('open', ''), "
        f"('channel', {t}.channel_type), ('team', {team}), "
        f"(CASE WHEN {t}.assignee IS NULL THEN 'unassigned' ELSE 'assignee' END, COALESCE(CAST({t}.assignee AS TEXT), '')), "
        f"('pending', CASE WHEN {t}.status = 'pending' THEN '' END), "
        f"('pool', CASE WHEN {t}.pooled_at IS NOT NULL AND {t}.assignee IS NULL THEN '' END), "
        f"('due', CASE WHEN {t}.sla_due_at IS NOT NULL THEN {due} END), "
        # the same per team (NULL when the ticket has no team)
        f"('tchannel', {team} || '|' || {t}.channel_type), "
        f"('tunassigned', CASE WHEN {t}.assignee IS NULL THEN {team} END), "
        f"('tpending', CASE WHEN {t}.status = 'pending' THEN {team} END), "
        f"('tpool', CASE WHEN {t}.pooled_at IS NOT NULL AND {t}.assignee IS NULL THEN {team} END), "
        f"('tdue', CASE WHEN {t}.sla_due_at IS NOT NULL THEN {team} || '|' || {due} END)) AS v "
        f"WHERE v.column2 IS NOT NULL AND {t}.status IN {OPEN}")


def _tags(t: str, sign: int, other: str, engine: str) -> str:
    """On an update: the ticket's tags, counted when it opens or closes; per team also when its
    team changes."""
    return (f"SELECT 'tag' AS kind, tag AS key, {sign} AS n FROM ticket_tags "
            f"WHERE ticket = {t}.id AND {t}.status IN {OPEN} AND NOT ({other}.status IN {OPEN}) "
            f"UNION ALL SELECT 'ttag', CAST({t}.team AS TEXT) || '|' || tag, {sign} FROM ticket_tags "
            f"WHERE ticket = {t}.id AND {t}.team IS NOT NULL AND {t}.status IN {OPEN} "
            f"AND NOT ({other}.status IN {OPEN} AND {other}.team {SAME[engine]} {t}.team)")


def _append(*selects: str) -> str:
    union = " UNION ALL ".join(selects)
    return (f"INSERT INTO ticket_counts (kind, key, n) SELECT kind, key, SUM(n) FROM ({union}) AS d "
            "GROUP BY kind, key HAVING SUM(n) <> 0")


def _tag_change(tag: str, ticket: str, sign: int) -> str:
    return (f"INSERT INTO ticket_counts (kind, key, n) SELECT 'tag', {tag}, {sign} FROM tickets "
            f"WHERE id = {ticket} AND status IN {OPEN} UNION ALL "
            f"SELECT 'ttag', CAST(team AS TEXT) || '|' || {tag}, {sign} FROM tickets "
            f"WHERE id = {ticket} AND status IN {OPEN} AND team IS NOT NULL")


def statements(engine: str) -> list[str]:
    insert = _append(_dimensions("NEW", 1, engine))
    update = _append(_dimensions("OLD", -1, engine), _dimensions("NEW", 1, engine),
                     _tags("OLD", -1, "NEW", engine), _tags("NEW", 1, "OLD", engine))
    delete = _append(_dimensions("OLD", -1, engine))
    if engine == "postgres":
        return [
            "ALTER TABLE teams ADD COLUMN IF NOT EXISTS visibility VARCHAR(16) NOT NULL DEFAULT 'everyone'",
            f"CREATE OR REPLACE FUNCTION ticket_counts_insert() RETURNS trigger AS $$ BEGIN {insert}; "
            "RETURN NULL; END $$ LANGUAGE plpgsql",
            f"CREATE OR REPLACE FUNCTION ticket_counts_update() RETURNS trigger AS $$ BEGIN {update}; "
            "RETURN NULL; END $$ LANGUAGE plpgsql",
            "CREATE OR REPLACE FUNCTION ticket_counts_delete() RETURNS trigger AS $$ BEGIN "
            f"DELETE FROM ticket_tags WHERE ticket = OLD.id; {delete}; RETURN OLD; END $$ LANGUAGE plpgsql",
            "CREATE OR REPLACE FUNCTION ticket_counts_tag() RETURNS trigger AS $$ BEGIN "
            "IF TG_OP IN ('DELETE', 'UPDATE') THEN PERFORM 1 FROM tickets WHERE id = OLD.ticket FOR NO KEY UPDATE; "
            f"{_tag_change('OLD.tag', 'OLD.ticket', -1)}; END IF; "
            "IF TG_OP IN ('INSERT', 'UPDATE') THEN PERFORM 1 FROM tickets WHERE id = NEW.ticket FOR NO KEY UPDATE; "
            f"{_tag_change('NEW.tag', 'NEW.ticket', 1)}; END IF; RETURN NULL; END $$ LANGUAGE plpgsql",
        ]
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in WATCHED)
    return [
        "ALTER TABLE teams ADD COLUMN visibility VARCHAR(16) NOT NULL DEFAULT 'everyone'",
        "DROP TRIGGER IF EXISTS ticket_counts_insert",
        "DROP TRIGGER IF EXISTS ticket_counts_update",
        "DROP TRIGGER IF EXISTS ticket_counts_delete",
        "DROP TRIGGER IF EXISTS ticket_counts_tag_insert",
        "DROP TRIGGER IF EXISTS ticket_counts_tag_delete",
        "DROP TRIGGER IF EXISTS ticket_counts_tag_update",
        f"CREATE TRIGGER ticket_counts_insert AFTER INSERT ON tickets BEGIN {insert}; END",
        f"CREATE TRIGGER ticket_counts_update AFTER UPDATE OF {', '.join(WATCHED)} ON tickets "
        f"WHEN {changed} BEGIN {update}; END",
        "CREATE TRIGGER ticket_counts_delete BEFORE DELETE ON tickets BEGIN "
        f"DELETE FROM ticket_tags WHERE ticket = OLD.id; {delete}; END",
        "CREATE TRIGGER ticket_counts_tag_insert AFTER INSERT ON ticket_tags BEGIN "
        f"{_tag_change('NEW.tag', 'NEW.ticket', 1)}; END",
        "CREATE TRIGGER ticket_counts_tag_delete AFTER DELETE ON ticket_tags BEGIN "
        f"{_tag_change('OLD.tag', 'OLD.ticket', -1)}; END",
        "CREATE TRIGGER ticket_counts_tag_update AFTER UPDATE OF ticket, tag ON ticket_tags BEGIN "
        f"{_tag_change('OLD.tag', 'OLD.ticket', -1)}; {_tag_change('NEW.tag', 'NEW.ticket', 1)}; END",
    ]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def create():
        from core import counts
        from core.db import engine, is_sqlite

        sqlite = is_sqlite()
        for statement in statements("sqlite" if sqlite else "postgres"):
            if sqlite and statement.startswith("ALTER TABLE teams"):
                columns = await engine().run_ddl("PRAGMA table_info(teams)")
                if any(c["name"] == "visibility" for c in columns or []):
                    continue  # SQLite has no ADD COLUMN IF NOT EXISTS
            await engine().run_ddl(statement)
        await counts.rebuild()

    manager.add_raw(create)
    return manager
