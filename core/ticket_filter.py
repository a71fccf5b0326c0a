"""Ticket filters: the one place a list of tickets gets its SQL where-clause.

A `TicketFilter` is what a filter bar, a saved view or the REST API asks for (status, channel,
account, tag, assignee, team, priority, SLA state, language, created/updated date ranges, sort).
`parse` turns untrusted text (query parameters, a stored view) into one, refusing anything it
cannot name with InvalidRequest (400). `where` turns it, for one viewer at one moment, into a SQL
fragment with {} placeholders; every ticket list, view count and filtered search builds its
condition there, so a rule that holds for every list (team visibility, say) is added once.

Values are single per field: a filter bar of selects, and a view is a combination of fields.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from core.bounds import parse_id
from core.errors import InvalidRequest
from core.tables import OPEN_STATUSES, PRIORITIES, TICKET_STATUSES
from core.visibility import Viewer

DUE_SOON = timedelta(hours=1)  # the same hour as the "Due soon" queue (web/inbox/queues.py)
SLA_STATES = ("breached", "due_soon", "ok", "none")
SORTS = ("due", "newest", "oldest", "updated")
STATUS_VALUES = TICKET_STATUSES  # "open" means every unsolved status (new, open, pending, on-hold)
FIELDS = ("status", "channel", "account", "tag", "assignee", "team", "priority", "sla", "language",
          "created_from", "created_to", "updated_from", "updated_to", "sort")
DATE_FIELDS = ("created_from", "created_to", "updated_from", "updated_to")
_OPEN_SQL = "(" + ", ".join(f"'{s}'" for s in OPEN_STATUSES) + ")"


@dataclass(frozen=True)
class TicketFilter:
    status: str | None = None
    channel: str | None = None
    account: int | None = None
    tag: str | None = None
    assignee: str | None = None  # "me", "none" or an agent id (as text)
    team: str | None = None  # "none" or a team id (as text)
    priority: str | None = None
    sla: str | None = None
    language: str | None = None
    created_from: str | None = None  # YYYY-MM-DD (the viewer's day) or an ISO time with an offset
    created_to: str | None = None  # inclusive: a date means up to the end of that day
    updated_from: str | None = None
    updated_to: str | None = None
    sort: str | None = None
    customer: int | None = None  # the REST API's customer filter; not offered to views

    def params(self) -> dict[str, str]:
        """The non-empty fields as text (query parameters, a stored view)."""
        return {k: str(v) for k, v in dataclasses.asdict(self).items() if v not in (None, "")}

    def conditions(self) -> int:
        """How many fields narrow the list (the sort is not a condition)."""
        return sum(1 for k, v in self.params().items() if k != "sort")


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InvalidRequest(f"{name} must be one of {', '.join(allowed)}")
    return value


def _id_or(name: str, value: str, words: tuple[str, ...]) -> str:
    if value in words:
        return value
    if parse_id(value) is None:
        raise InvalidRequest(f"{name} must be {' or '.join(repr(w) for w in words)} or a row id")
    return str(int(value))


def _text(name: str, value: str, limit: int) -> str:
    if len(value) > limit:
        raise InvalidRequest(f"{name} may be at most {limit} characters long")
    if any(ord(c) < 32 for c in value):
        raise InvalidRequest(f"{name} holds a control character")
    return value


def _moment(name: str, value: str) -> str:
    """Check a date or a time with an offset (refused: anything else, a time without an offset)."""
    _text(name, value, 40)
    try:
        if len(value) == 10:
            date.fromisoformat(value)
            return value
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidRequest(f"{name} must be a date (YYYY-MM-DD) or an ISO 8601 time with an offset") from None
    if moment.tzinfo is None:
        raise InvalidRequest(f"{name} must carry a UTC offset (e.g. 2026-11-11T00:00:00+08:00)")
    return moment.isoformat()


def parse(values: Mapping[str, Any], *, allow_customer: bool = False) -> TicketFilter:
    """A filter from text fields; empty ones are left out, unknown values refused (400)."""
    out: dict[str, Any] = {}
    for field in (*FIELDS, *(("customer",) if allow_customer else ())):
        raw = values.get(field)
        if raw is None:
            continue
        value = str(raw).strip()
        if not value:
            continue
        if "\x00" in value:
            raise InvalidRequest(f"{field} holds a NUL byte")
        if field == "status":
            value = _choice(field, value, STATUS_VALUES)
        elif field == "priority":
            value = _choice(field, value, PRIORITIES)
        elif field == "sla":
            value = _choice(field, value, SLA_STATES)
        elif field == "sort":
            value = _choice(field, value, SORTS)
        elif field == "assignee":
            value = _id_or(field, value, ("me", "none"))
        elif field == "team":
            value = _id_or(field, value, ("none",))
        elif field in ("account", "customer"):
            chosen = parse_id(value)
            if chosen is None:
                raise InvalidRequest(f"{field} must be a row id")
            value = chosen
        elif field == "channel":
            value = _text(field, value, 64)
        elif field == "tag":
            value = _text(field, value, 64).lower()
        elif field == "language":
            value = _text(field, value, 16).lower()
        elif field in DATE_FIELDS:
            value = _moment(field, value)
        out[field] = value
    return TicketFilter(**out)


def _zone(viewer: Mapping[str, Any]) -> Any:
    try:
        return ZoneInfo(viewer.get("timezone") or "UTC")
    except (ValueError, KeyError, OSError):
        return timezone.utc


def bound(value: str, viewer: Mapping[str, Any], end: bool) -> datetime:
    """A date's first instant in the viewer's time zone (`end`: the next day's, exclusive), or the time given."""
    if len(value) == 10:
        day = date.fromisoformat(value) + (timedelta(days=1) if end else timedelta())
        return datetime.combine(day, time(), _zone(viewer)).astimezone(timezone.utc)
    return datetime.fromisoformat(value).astimezone(timezone.utc)


@dataclass
class Where:
    """A SQL condition with {} placeholders and its arguments, in order."""

    sql: str
    args: list[Any]

    def __and__(self, other: "Where") -> "Where":
        return Where(f"({self.sql}) AND ({other.sql})", self.args + other.args)


def where(f: TicketFilter, viewer: Mapping[str, Any], now: datetime, *, seen: Viewer, table: str = "tickets",
          extra: list[Where] | None = None) -> Where:
    """The condition a ticket of `table` (a table name or alias) meets to be in the list `f` asks
    for, as `viewer` (an agents row: id, role, timezone) sees it at `now`; `seen` leaves out the
    tickets of teams hidden from them (core.visibility; required, so no list can forget it).
    `extra` adds conditions of the caller's (a queue's own, a search's match). Every ticket list
    goes through here."""
    t = table
    now = now.astimezone(timezone.utc)
    parts: list[str] = []
    args: list[Any] = []

    def add(sql: str, *values: Any) -> None:
        parts.append(sql)
        args.extend(values)

    if f.status == "open":
        add(f"{t}.status IN {_OPEN_SQL}")
    elif f.status:
        add(f"{t}.status = {{}}", f.status)
    if f.channel:
        add(f"{t}.channel_type = {{}}", f.channel)
    if f.account is not None:
        add(f"{t}.account = {{}}", f.account)
    if f.customer is not None:
        add(f"{t}.customer = {{}}", f.customer)
    if f.tag:
        add(f"{t}.id IN (SELECT ticket FROM ticket_tags WHERE tag = {{}})", f.tag)
    if f.assignee == "none":
        add(f"{t}.assignee IS NULL")
    elif f.assignee:
        add(f"{t}.assignee = {{}}", viewer["id"] if f.assignee == "me" else int(f.assignee))
    if f.team == "none":
        add(f"{t}.team IS NULL")
    elif f.team:
        add(f"{t}.team = {{}}", int(f.team))
    if f.priority:
        add(f"{t}.priority = {{}}", f.priority)
    if f.sla == "none":
        add(f"{t}.sla_due_at IS NULL")
    elif f.sla == "breached":
        add(f"{t}.status IN {_OPEN_SQL} AND {t}.sla_due_at < {{}}", now)
    elif f.sla == "due_soon":
        add(f"{t}.status IN {_OPEN_SQL} AND {t}.sla_due_at >= {{}} AND {t}.sla_due_at < {{}}", now, now + DUE_SOON)
    elif f.sla == "ok":
        add(f"{t}.status IN {_OPEN_SQL} AND {t}.sla_due_at >= {{}}", now + DUE_SOON)
    if f.language:
        add(f"{t}.language = {{}}", f.language)
    for field, column, op, end in (("created_from", "created_at", ">=", False),
                                   ("created_to", "created_at", "<", True),
                                   ("updated_from", "updated_at", ">=", False),
                                   ("updated_to", "updated_at", "<", True)):
        value = getattr(f, field)
        if value:
            # an ISO time is itself the bound; a date's bound is a whole day in the viewer's zone
            exclusive_end = end and len(value) == 10
            add(f"{t}.{column} {op if exclusive_end or not end else '<='} {{}}", bound(value, viewer, end))
    if not seen.sees_all:  # team visibility: one place for every list
        hidden_sql, hidden_args = seen.sql(t)
        add(hidden_sql, *hidden_args)
    out = Where(" AND ".join(parts) or "1 = 1", args)
    for clause in extra or []:
        out = out & clause
    return out


def open_where(table: str = "tickets") -> Where:
    return Where(f"{table}.status IN {_OPEN_SQL}", [])
