"""Open-ticket counts for the left navigation, kept as tickets change instead of recounted per page.

Triggers (migration core_0009) append (kind, key, +1/-1) rows to ticket_counts in the same
transaction as the change, on both databases and whichever code path made it, so a count is exact
the moment the change commits. A count is the sum of its rows; `compact` folds them into one row
per key now and then (readers do it when the rows pile up). Kinds:

  open ''            every open ticket          channel <type>   open tickets per channel
  team <id>          ... per team               assignee <id>    ... per agent ("mine")
  unassigned ''      ... nobody holds           pending ''       ... waiting on the customer
  pool ''            ... in a claim pool        tag <tag>        ... per tag
  due <hour>         ... per SLA due hour (hours since 1970, zero-padded)

and the same per team (migration core_0013), for tickets with a team: tchannel <team>|<type>,
tunassigned <team>, tpending <team>, tpool <team>, tdue <team>|<hour>, ttag <team>|<tag> (the
team's open count is `team`). An agent who may not see some teams (core.visibility) gets every
figure minus those teams' rows, plus the few of their tickets assigned to the agent (an assignee
always sees their tickets): still no scan of the open tickets.

Breached and due-soon depend on the clock: whole past hours come from the due rows; only the
tickets due within the current hour and the next are counted, by the sla_due_at index.
`rebuild` (the `relaydesk counts` command) recounts everything from the tickets.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from core import db

OPEN = "('new', 'open', 'pending', 'on-hold')"
DUE_SOON = timedelta(hours=1)
DUE_HOUR = {
    "postgres": "lpad(floor(extract(epoch FROM {t}.sla_due_at) / 3600)::bigint::text, 10, '0')",
    "sqlite": "printf('%010d', CAST(strftime('%s', {t}.sla_due_at) AS INTEGER) / 3600)",
}
COMPACT_AFTER = 2000  # rows beyond one per key before a reader folds them
_LOCK = 7_250_001  # PostgreSQL advisory lock: one compaction or rebuild at a time


def _engine() -> str:
    return "sqlite" if db.is_sqlite() else "postgres"


def hour_key(moment: datetime) -> str:
    return f"{int(moment.timestamp()) // 3600:010d}"


def _recount_sql() -> str:
    """Every (kind, key, n) from a scan of the open tickets: what the triggers keep, computed anew."""
    due = DUE_HOUR[_engine()].format(t="tickets")
    where = f"FROM tickets WHERE status IN {OPEN}"
    parts = [
        f"SELECT 'open' AS kind, '' AS key, COUNT(*) AS n {where}",
        f"SELECT 'channel', channel_type, COUNT(*) {where} GROUP BY channel_type",
        f"SELECT 'team', CAST(team AS TEXT), COUNT(*) {where} AND team IS NOT NULL GROUP BY team",
        f"SELECT 'assignee', CAST(assignee AS TEXT), COUNT(*) {where} AND assignee IS NOT NULL GROUP BY assignee",
        f"SELECT 'unassigned', '', COUNT(*) {where} AND assignee IS NULL",
        f"SELECT 'pending', '', COUNT(*) {where} AND status = 'pending'",
        f"SELECT 'pool', '', COUNT(*) {where} AND pooled_at IS NOT NULL AND assignee IS NULL",
        f"SELECT 'due', {due}, COUNT(*) {where} AND sla_due_at IS NOT NULL GROUP BY {due}",
        f"SELECT 'tag', tt.tag, COUNT(*) FROM ticket_tags tt JOIN tickets t ON t.id = tt.ticket "
        f"WHERE t.status IN {OPEN} GROUP BY tt.tag",
        f"SELECT 'tchannel', CAST(team AS TEXT) || '|' || channel_type, COUNT(*) {where} AND team IS NOT NULL "
        "GROUP BY team, channel_type",
        f"SELECT 'tunassigned', CAST(team AS TEXT), COUNT(*) {where} AND team IS NOT NULL AND assignee IS NULL "
        "GROUP BY team",
        f"SELECT 'tpending', CAST(team AS TEXT), COUNT(*) {where} AND team IS NOT NULL AND status = 'pending' "
        "GROUP BY team",
        f"SELECT 'tpool', CAST(team AS TEXT), COUNT(*) {where} AND team IS NOT NULL AND pooled_at IS NOT NULL "
        "AND assignee IS NULL GROUP BY team",
        f"SELECT 'tdue', CAST(team AS TEXT) || '|' || {due}, COUNT(*) {where} AND team IS NOT NULL "
        f"AND sla_due_at IS NOT NULL GROUP BY team, {due}",
        f"SELECT 'ttag', CAST(t.team AS TEXT) || '|' || tt.tag, COUNT(*) FROM ticket_tags tt JOIN tickets t "
        f"ON t.id = tt.ticket WHERE t.status IN {OPEN} AND t.team IS NOT NULL GROUP BY t.team, tt.tag",
    ]
    return "SELECT kind, key, n FROM (" + " UNION ALL ".join(parts) + ") AS r WHERE n <> 0"


async def recount() -> dict[tuple[str, str], int]:
    """The counts from a full scan (for `rebuild` and for checking the kept ones)."""
    return {(r["kind"], r["key"]): int(r["n"]) for r in await db.fetch(_recount_sql())}


async def kept() -> dict[tuple[str, str], int]:
    """The counts as kept: the sum of each key's rows, zeros left out."""
    rows = await db.fetch("SELECT kind, key, SUM(n) AS n FROM ticket_counts GROUP BY kind, key")
    return {(r["kind"], r["key"]): int(r["n"]) for r in rows if int(r["n"])}


async def rebuild() -> int:
    """Replace the kept counts with a recount; returns how many keys there are. Safe while the desk
    runs: on PostgreSQL the delete and the recount are one statement (one snapshot), so a change
    committed meanwhile is either in the recount or in a row appended after it, never both."""
    recount_sql = _recount_sql()
    async with db.transaction():
        if _engine() == "postgres":
            await db.fetch(f"SELECT pg_advisory_xact_lock({_LOCK})")
            await db.fetch("WITH gone AS (DELETE FROM ticket_counts) "
                           f"INSERT INTO ticket_counts (kind, key, n) {recount_sql}")
        else:
            await db.fetch("DELETE FROM ticket_counts")
            await db.fetch(f"INSERT INTO ticket_counts (kind, key, n) {recount_sql}")
    return len(await kept())


async def compact() -> bool:
    """Fold each key's rows into one. Rows that writers append meanwhile are not seen by the delete
    and stay as they are, so no count changes. Returns False when another process is compacting."""
    async with db.transaction():
        if _engine() == "postgres":
            rows = await db.fetch(f"SELECT pg_try_advisory_xact_lock({_LOCK}) AS ok")
            if not rows[0]["ok"]:
                return False
            await db.fetch("WITH gone AS (DELETE FROM ticket_counts RETURNING kind, key, n) "
                           "INSERT INTO ticket_counts (kind, key, n) SELECT kind, key, SUM(n) FROM gone "
                           "GROUP BY kind, key HAVING SUM(n) <> 0")
        else:  # one writer at a time: the transaction holds the write lock
            sums = await db.fetch("SELECT kind, key, SUM(n) AS n FROM ticket_counts GROUP BY kind, key "
                                  "HAVING SUM(n) <> 0")
            await db.fetch("DELETE FROM ticket_counts")
            for start in range(0, len(sums), 300):
                chunk = sums[start:start + 300]
                marks = ", ".join("({}, {}, {})" for _ in chunk)
                await db.fetch(f"INSERT INTO ticket_counts (kind, key, n) VALUES {marks}",
                               *[v for r in chunk for v in (r["kind"], r["key"], r["n"])])
    return True


async def compact_job(ctx: dict[str, Any]) -> bool:
    """The periodic fold, for desks whose navigation nobody loads (readers fold as they go)."""
    return await compact()


def _outside(hidden: frozenset[int], agent_id: int, t: str = "tickets") -> tuple[str, list[Any]]:
    """SQL that leaves out the tickets of `hidden` teams (except those assigned to the agent)."""
    if not hidden:
        return "", []
    marks = ", ".join("{}" for _ in hidden)
    return (f" AND ({t}.team IS NULL OR {t}.team NOT IN ({marks}) OR {t}.assignee = {{}})",
            [*sorted(hidden), agent_id])


async def _due_near(hour_start: datetime, now: datetime, hidden: frozenset[int] = frozenset(),
                    agent_id: int = 0) -> tuple[int, int]:
    """(breached since the hour began, due within DUE_SOON): one range of the sla_due_at index."""
    outside, args = _outside(hidden, agent_id)
    rows = await db.fetch("SELECT SUM(CASE WHEN sla_due_at < {} THEN 1 ELSE 0 END) AS past, "
                          "SUM(CASE WHEN sla_due_at >= {} THEN 1 ELSE 0 END) AS soon FROM tickets "
                          f"WHERE sla_due_at >= {{}} AND sla_due_at < {{}} AND status IN {OPEN}{outside}",
                          now, now, hour_start, now + DUE_SOON, *args)
    return int(rows[0]["past"] or 0), int(rows[0]["soon"] or 0)


TEAM_KINDS = {"tchannel": "channel", "tunassigned": "unassigned", "tpending": "pending", "tpool": "pool",
              "tdue": "due", "ttag": "tag"}


async def _leave_out(sums: dict[str, dict[str, int]], hidden: frozenset[int], agent_id: int) -> None:
    """Take the hidden teams' tickets out of the sums, then put back those assigned to the agent
    (at most their own workload: one index range of tickets_assignee_status_due)."""
    for team in hidden:
        team_key = str(team)
        sums.setdefault("open", {})[""] = sums.get("open", {}).get("", 0) - sums.get("team", {}).get(team_key, 0)
        sums.get("team", {}).pop(team_key, None)
        for kind, base in TEAM_KINDS.items():
            for key, n in sums.get(kind, {}).items():
                owner, _, rest = key.partition("|")
                if owner == team_key:
                    target = sums.setdefault(base, {})
                    target[rest] = target.get(rest, 0) - n
    marks = ", ".join("{}" for _ in hidden)
    mine = await db.fetch(f"SELECT id, status, channel_type, sla_due_at FROM tickets WHERE assignee = {{}} "
                          f"AND status IN {OPEN} AND team IN ({marks})", agent_id, *sorted(hidden))
    if not mine:
        return
    ids = [r["id"] for r in mine]
    tags = await db.fetch(f"SELECT tag FROM ticket_tags WHERE ticket IN ({', '.join('{}' for _ in ids)})", *ids)

    def add(kind: str, key: str) -> None:
        sums.setdefault(kind, {})[key] = sums.get(kind, {}).get(key, 0) + 1

    for row in mine:
        add("open", "")
        add("channel", row["channel_type"])
        if row["status"] == "pending":
            add("pending", "")
        if row["sla_due_at"] is not None:
            add("due", hour_key(_aware(row["sla_due_at"])))
    for row in tags:
        add("tag", row["tag"])


def _aware(moment: Any) -> datetime:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


async def navigation(agent_id: int, now: datetime, hidden: frozenset[int] = frozenset()) -> dict[str, Any]:
    """What the left navigation shows: every queue's count, and open tickets per channel, team and
    (the 12 largest) tag. A few hundred kept rows and two index ranges of at most an hour's due
    tickets each; never a scan of the open tickets. `hidden`: teams whose tickets the agent may not
    see (core.visibility), left out of every figure and of the team list."""
    rows = await db.fetch("SELECT kind, key, SUM(n) AS n, COUNT(*) AS parts FROM ticket_counts GROUP BY kind, key")
    if sum(int(r["parts"]) for r in rows) > len(rows) + COMPACT_AFTER:
        await compact()
    sums: dict[str, dict[str, int]] = {}
    for row in rows:
        if int(row["n"]):
            sums.setdefault(row["kind"], {})[row["key"]] = int(row["n"])
    if hidden:
        await _leave_out(sums, hidden, agent_id)
    for kind in list(sums):
        sums[kind] = {k: n for k, n in sums[kind].items() if n}
    now = now.astimezone(timezone.utc)
    this_hour = hour_key(now)
    hour_start = datetime.fromtimestamp(int(now.timestamp()) // 3600 * 3600, timezone.utc)
    past_hours = sum(n for key, n in sums.get("due", {}).items() if key < this_hour)
    this_hour_past, soon = await _due_near(hour_start, now, hidden, agent_id)

    def one(kind: str, key: str = "") -> int:
        return sums.get(kind, {}).get(key, 0)

    out: dict[str, Any] = {
        "open": one("open"), "mine": one("assignee", str(agent_id)), "unassigned": one("unassigned"),
        "pending": one("pending"), "pool": one("pool"),
        "breached": past_hours + this_hour_past, "due_soon": soon,
        "channels": [{"key": k, "n": n} for k, n in sorted(sums.get("channel", {}).items())],
    }
    teams = await db.fetch("SELECT id, name FROM teams ORDER BY name")
    out["teams"] = [{"key": t["id"], "name": t["name"], "n": one("team", str(t["id"]))} for t in teams
                    if t["id"] not in hidden]
    tags = sorted(((n, k) for k, n in sums.get("tag", {}).items() if n > 0), key=lambda p: (-p[0], p[1]))
    out["tags"] = [{"key": k, "n": n} for n, k in tags[:12]]
    return out


async def navigation_by_scan(agent_id: int, now: datetime, hidden: frozenset[int] = frozenset()) -> dict[str, Any]:
    """The same figures from a scan of the open tickets: what `navigation` must always equal."""
    soon = now + DUE_SOON
    outside, extra = _outside(hidden, agent_id)
    tagged, tag_extra = _outside(hidden, agent_id, "t")
    rows = await db.fetch(
        "SELECT channel_type AS key, COUNT(*) AS n, "
        "SUM(CASE WHEN assignee = {} THEN 1 ELSE 0 END) AS mine, "
        "SUM(CASE WHEN assignee IS NULL THEN 1 ELSE 0 END) AS unassigned, "
        "SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) AS pending, "
        "SUM(CASE WHEN sla_due_at >= {} AND sla_due_at < {} THEN 1 ELSE 0 END) AS due_soon, "
        "SUM(CASE WHEN sla_due_at < {} THEN 1 ELSE 0 END) AS breached, "
        "SUM(CASE WHEN pooled_at IS NOT NULL AND assignee IS NULL THEN 1 ELSE 0 END) AS pool "
        f"FROM tickets WHERE status IN {OPEN}{outside} GROUP BY channel_type ORDER BY channel_type",
        agent_id, now, soon, now, *extra)
    out: dict[str, Any] = {"open": sum(int(r["n"]) for r in rows)}
    for name in ("mine", "unassigned", "pending", "due_soon", "breached", "pool"):
        out[name] = sum(int(r[name] or 0) for r in rows)
    out["channels"] = [{"key": r["key"], "n": int(r["n"])} for r in rows]
    teams = await db.fetch(f"SELECT teams.id AS key, teams.name AS name, COUNT(tickets.id) AS n FROM teams "
                           f"LEFT JOIN tickets ON tickets.team = teams.id AND tickets.status IN {OPEN} "
                           "GROUP BY teams.id, teams.name ORDER BY teams.name")
    out["teams"] = [{"key": t["key"], "name": t["name"], "n": int(t["n"])} for t in teams if t["key"] not in hidden]
    tags = await db.fetch(f"SELECT tt.tag AS key, COUNT(*) AS n FROM ticket_tags tt JOIN tickets t ON t.id = tt.ticket "
                          f"WHERE t.status IN {OPEN}{tagged} GROUP BY tt.tag ORDER BY COUNT(*) DESC, tt.tag LIMIT 12",
                          *tag_extra)
    out["tags"] = [{"key": t["key"], "n": int(t["n"])} for t in tags]
    return out
