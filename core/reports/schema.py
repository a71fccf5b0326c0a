"""The reports' SQL for both databases: tables, the triggers on tickets that append facts, and the
statement that folds facts into the hourly rollups.

Triggers, like core/counts.py's, because every path that changes a ticket (ingest's raw SQL, the
reply, an agent's status change, the SLA sweeper, bulk work, merges) then records what happened in
the writer's own transaction; a fact is one short INSERT, and only when the change is one a report
counts. Facts are folded into rollups by rollups.fold (readers fold before they read).

What starts and stops each clock is in docs/reports.md; in short:
  created         a ticket row is inserted (hour of created_at); +1 open if it starts open;
                  value 1 when it is stored as spam (not counted as new)
  spam, unspam    marked as spam / taken back: -1 / +1 new ticket in the hour it was created
  first_response  first_responded_at goes from NULL to a time: value = that time - created_at;
                  sla 1/-1 if a first-response due time was running and it was met/missed
  fr_breach       first_response_breached turns true (the sweeper): hour of the due time
  solved          status becomes 'solved': value = solved_at - created_at, replies = agents'
                  replies so far, first_time = never solved before, sla = resolution target met/missed
                  (judged at the first solve only); -1 open if it was open
  res_breach      resolution_breached turns true
  reopened        status goes from solved/closed to an open status: +1 open
  status          any other move in or out of the open statuses (closed, spam, back from spam,
                  a deleted open ticket): +1/-1 open
"""

from __future__ import annotations

OPEN = "('new', 'open', 'pending', 'on-hold')"
DIMS = ("all", "channel", "account", "team", "agent", "language")  # plus "tag", folded by join

_HOUR = {
    "postgres": "floor(extract(epoch FROM {x}) / 3600)::bigint",
    "sqlite": "(CAST(strftime('%s', {x}) AS INTEGER) / 3600)",
}
_SECONDS = {
    "postgres": "CAST(extract(epoch FROM ({a}) - ({b})) AS BIGINT)",
    "sqlite": "(CAST(strftime('%s', {a}) AS INTEGER) - CAST(strftime('%s', {b}) AS INTEGER))",
}
_NOT_LATER = {  # a <= b for timestamps (SQLite stores text that may be written two ways)
    "postgres": "({a}) <= ({b})",
    "sqlite": "julianday({a}) <= julianday({b})",
}
_NOW = {"postgres": "now()", "sqlite": "CURRENT_TIMESTAMP"}

FACT_COLUMNS = "hour, ticket, kind, value, replies, first_time, sla, delta, channel, account, team, agent, language"


def hour_sql(engine: str, x: str) -> str:
    return _HOUR[engine].format(x=x)


def seconds_sql(engine: str, a: str, b: str) -> str:
    return _SECONDS[engine].format(a=a, b=b)


def not_later_sql(engine: str, a: str, b: str) -> str:
    return _NOT_LATER[engine].format(a=a, b=b)


def replies_sql(t: str) -> str:
    """An agent's replies on the ticket so far (automatic replies have no author and do not count)."""
    return (f"(SELECT COUNT(*) FROM messages WHERE ticket = {t}.id AND direction = 'outbound' "
            "AND author IS NOT NULL)")


def _fact(engine: str, kind: str, at: str, when: str, t: str = "NEW", *, value: str = "0", replies: str = "0",
          first_time: str = "0", sla: str = "0", delta: str = "0") -> str:
    return (f"INSERT INTO report_facts ({FACT_COLUMNS}) SELECT {hour_sql(engine, at)}, {t}.id, '{kind}', {value}, "
            f"{replies}, {first_time}, {sla}, {delta}, {t}.channel_type, {t}.account, {t}.team, {t}.assignee, "
            f"{t}.language WHERE {when}")


def insert_facts(engine: str) -> list[str]:
    # value 1: stored as spam (a blocked sender), not a new ticket
    return [_fact(engine, "created", "NEW.created_at", "TRUE", value="CASE WHEN NEW.status = 'spam' THEN 1 ELSE 0 END",
                  delta=f"CASE WHEN NEW.status IN {OPEN} THEN 1 ELSE 0 END")]


def update_facts(engine: str) -> list[str]:
    solved_at = "COALESCE(NEW.solved_at, NEW.updated_at)"
    fr_sla = (f"CASE WHEN OLD.first_response_due_at IS NULL OR NEW.first_response_breached THEN 0 "
              f"WHEN {not_later_sql(engine, 'NEW.first_responded_at', 'OLD.first_response_due_at')} THEN 1 ELSE -1 END")
    res_sla = (f"CASE WHEN OLD.solved_at IS NOT NULL OR NEW.resolution_due_at IS NULL OR NEW.resolution_breached "
               f"THEN 0 WHEN {not_later_sql(engine, solved_at, 'NEW.resolution_due_at')} THEN 1 ELSE -1 END")
    was_open, is_open = f"OLD.status IN {OPEN}", f"NEW.status IN {OPEN}"
    return [
        _fact(engine, "first_response", "NEW.first_responded_at",
              "OLD.first_responded_at IS NULL AND NEW.first_responded_at IS NOT NULL",
              value=seconds_sql(engine, "NEW.first_responded_at", "NEW.created_at"), sla=fr_sla),
        _fact(engine, "fr_breach", "COALESCE(NEW.first_response_due_at, NEW.updated_at)",
              "NEW.first_response_breached AND NOT OLD.first_response_breached", sla="-1"),
        _fact(engine, "res_breach", "COALESCE(NEW.resolution_due_at, NEW.updated_at)",
              "NEW.resolution_breached AND NOT OLD.resolution_breached", sla="-1"),
        _fact(engine, "solved", solved_at, "NEW.status = 'solved' AND OLD.status <> 'solved'",
              value=seconds_sql(engine, solved_at, "NEW.created_at"), replies=replies_sql("NEW"),
              first_time="CASE WHEN OLD.solved_at IS NULL THEN 1 ELSE 0 END", sla=res_sla,
              delta=f"CASE WHEN {was_open} THEN -1 ELSE 0 END"),
        _fact(engine, "reopened", "NEW.updated_at", f"OLD.status IN ('solved', 'closed') AND {is_open}", delta="1"),
        # marked as spam (or taken back): no longer (again) a new ticket, in the hour it was created
        _fact(engine, "spam", "NEW.created_at", "NEW.status = 'spam' AND OLD.status <> 'spam'"),
        _fact(engine, "unspam", "NEW.created_at", "OLD.status = 'spam' AND NEW.status <> 'spam'"),
        _fact(engine, "status", "NEW.updated_at",
              f"({was_open}) <> ({is_open}) AND NEW.status <> 'solved' AND OLD.status NOT IN ('solved', 'closed')",
              delta=f"CASE WHEN {is_open} THEN 1 ELSE -1 END"),
    ]


def delete_facts(engine: str) -> list[str]:
    return [_fact(engine, "status", _NOW[engine], f"OLD.status IN {OPEN}", t="OLD", delta="-1")]


WATCHED = ("status", "first_responded_at", "solved_at", "first_response_breached", "resolution_breached")


def statements(engine: str) -> list[str]:
    """The DDL of migration core_0015 (idempotent)."""
    serial = "BIGSERIAL" if engine == "postgres" else "INTEGER"
    big = "BIGINT"
    out = [
        f"CREATE TABLE IF NOT EXISTS report_facts (id {serial} PRIMARY KEY, hour {big} NOT NULL, "
        "ticket INTEGER NOT NULL, kind VARCHAR(16) NOT NULL, value BIGINT NOT NULL DEFAULT 0, "
        "replies INTEGER NOT NULL DEFAULT 0, first_time INTEGER NOT NULL DEFAULT 0, sla INTEGER NOT NULL DEFAULT 0, "
        "delta INTEGER NOT NULL DEFAULT 0, channel VARCHAR(64), account INTEGER, team INTEGER, agent INTEGER, "
        "language VARCHAR(16), folded BOOLEAN NOT NULL DEFAULT FALSE)",
        "CREATE INDEX IF NOT EXISTS report_facts_unfolded ON report_facts (id) WHERE NOT folded",
        f"CREATE TABLE IF NOT EXISTS report_rollups (id {serial} PRIMARY KEY, dim VARCHAR(16) NOT NULL, "
        f"hour {big} NOT NULL, key VARCHAR(80) NOT NULL, "
        + ", ".join(f"{m} BIGINT NOT NULL DEFAULT 0" for m in METRICS) + ")",
        "CREATE UNIQUE INDEX IF NOT EXISTS report_rollups_dim_hour_key ON report_rollups (dim, hour, key)",
        # event days an admin adds to the forecast (Prime Day's dates, a store's own sale)
        f"CREATE TABLE IF NOT EXISTS forecast_events (id {serial} PRIMARY KEY, name VARCHAR(64) NOT NULL, "
        "day VARCHAR(10) NOT NULL, multiplier DOUBLE PRECISION, created_by VARCHAR(100) NOT NULL DEFAULT '')",
        "CREATE UNIQUE INDEX IF NOT EXISTS forecast_events_name_day ON forecast_events (name, day)",
    ]
    ins, upd, dele = insert_facts(engine), update_facts(engine), delete_facts(engine)
    if engine == "postgres":
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in WATCHED)
        for name, body, when in (("insert", ins, "AFTER INSERT"), ("update", upd, f"AFTER UPDATE OF {', '.join(WATCHED)}"),
                                 ("delete", dele, "AFTER DELETE")):
            out += [
                f"CREATE OR REPLACE FUNCTION report_facts_{name}() RETURNS trigger AS $$ BEGIN "
                + "; ".join(body) + "; RETURN NULL; END $$ LANGUAGE plpgsql",
                f"DROP TRIGGER IF EXISTS report_facts_{name} ON tickets",
                f"CREATE TRIGGER report_facts_{name} {when} ON tickets FOR EACH ROW "
                + (f"WHEN ({changed}) " if name == "update" else "") + f"EXECUTE FUNCTION report_facts_{name}()",
            ]
    else:
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in WATCHED)
        out += [
            "CREATE TRIGGER IF NOT EXISTS report_facts_insert AFTER INSERT ON tickets BEGIN "
            + "; ".join(ins) + "; END",
            f"CREATE TRIGGER IF NOT EXISTS report_facts_update AFTER UPDATE OF {', '.join(WATCHED)} ON tickets "
            f"WHEN {changed} BEGIN " + "; ".join(upd) + "; END",
            "CREATE TRIGGER IF NOT EXISTS report_facts_delete AFTER DELETE ON tickets BEGIN "
            + "; ".join(dele) + "; END",
        ]
    return out


# --- folding -------------------------------------------------------------------------------------

# Each rollup column as a sum over facts (alias f).
METRICS: dict[str, str] = {
    "created": "CASE WHEN f.kind = 'created' AND f.value = 0 THEN 1 WHEN f.kind = 'unspam' THEN 1 "
               "WHEN f.kind = 'spam' THEN -1 ELSE 0 END",
    "solved": "CASE WHEN f.kind = 'solved' THEN 1 ELSE 0 END",
    "first_solved": "CASE WHEN f.kind = 'solved' THEN f.first_time ELSE 0 END",
    "fcr": "CASE WHEN f.kind = 'solved' AND f.first_time = 1 AND f.replies <= 1 THEN 1 ELSE 0 END",
    "replies": "CASE WHEN f.kind = 'solved' THEN f.replies ELSE 0 END",
    "res_seconds": "CASE WHEN f.kind = 'solved' THEN f.value ELSE 0 END",
    "reopened": "CASE WHEN f.kind = 'reopened' THEN 1 ELSE 0 END",
    "frt_n": "CASE WHEN f.kind = 'first_response' THEN 1 ELSE 0 END",
    "frt_seconds": "CASE WHEN f.kind = 'first_response' THEN f.value ELSE 0 END",
    "fr_met": "CASE WHEN f.kind = 'first_response' AND f.sla = 1 THEN 1 ELSE 0 END",
    "fr_breached": "CASE WHEN f.kind IN ('first_response', 'fr_breach') AND f.sla = -1 THEN 1 ELSE 0 END",
    "res_met": "CASE WHEN f.kind = 'solved' AND f.sla = 1 THEN 1 ELSE 0 END",
    "res_breached": "CASE WHEN f.kind IN ('solved', 'res_breach') AND f.sla = -1 THEN 1 ELSE 0 END",
    "backlog": "f.delta",
}

_KEY = ("CASE d.column1 WHEN 'all' THEN '' WHEN 'channel' THEN COALESCE(f.channel, '') "
        "WHEN 'account' THEN COALESCE(CAST(f.account AS TEXT), '') WHEN 'team' THEN COALESCE(CAST(f.team AS TEXT), '') "
        "WHEN 'agent' THEN COALESCE(CAST(f.agent AS TEXT), '') ELSE COALESCE(f.language, '') END")


def _upsert(select: str) -> str:
    columns = ", ".join(METRICS)
    updates = ", ".join(f"{m} = report_rollups.{m} + excluded.{m}" for m in METRICS)
    return (f"INSERT INTO report_rollups (dim, hour, key, {columns}) {select} "
            f"ON CONFLICT (dim, hour, key) DO UPDATE SET {updates}")


def fold_selects(source: str) -> tuple[str, ...]:
    """The upserts that fold the facts in `source` (a table expression aliased f) into the rollups:
    per dimension and per tag, by the hour and by the UTC day (dim "<name>@d", hour = the day's
    first hour), so a year's figures read 365 rows per key instead of 8760. Tags are the ticket's
    tags when the fact is folded."""
    sums = ", ".join(f"SUM({expr})" for expr in METRICS.values())
    dims = " UNION ALL ".join(f"SELECT '{d}' AS column1" for d in DIMS)
    out = []
    for suffix, hour in (("", "f.hour"), ("@d", "(f.hour / 24) * 24")):
        out.append(_upsert(f"SELECT d.column1 || '{suffix}', {hour}, {_KEY}, {sums} FROM {source} "
                           f"CROSS JOIN ({dims}) AS d WHERE TRUE GROUP BY d.column1, {hour}, {_KEY}"))
        out.append(_upsert(f"SELECT 'tag{suffix}', {hour}, tt.tag, {sums} FROM {source} "
                           f"JOIN ticket_tags tt ON tt.ticket = f.ticket WHERE TRUE GROUP BY {hour}, tt.tag"))
    return tuple(out)
