"""SLA targets, business-hours calendars, policies, the pending pause and the breach sweeper.

The sla_targets hook is synchronous and does no I/O, so `prepare` loads what it needs first (the
policies and calendars, cached for a second; the customer's tags) into the ticket dict. Due times
count only business minutes when the matched policy names a calendar, else calendar minutes.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core import clock
from core.errors import N_, Invalid

if TYPE_CHECKING:
    from core.desk import Desk

log = logging.getLogger("relaydesk.sla")

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
KINDS = ("first_response", "next_response", "resolution")
POLICY_CONDITIONS = ("priority", "channel", "customer_tag", "team")
# How long before a due time the sweeper warns, unless the ticket's policy says otherwise
# (sla_policies.warning_minutes, stored on the ticket as tickets.sla_warning_minutes).
WARNING_LEAD = timedelta(minutes=30)
MAX_WARNING_MINUTES = 7 * 24 * 60
CACHE_SECONDS = 1.0
_MAX_DAYS = 3 * 366  # a due time further out than this means a calendar with (almost) no hours


@dataclass(slots=True, frozen=True)
class SlaTargets:
    first_response_minutes: int | None = None
    next_response_minutes: int | None = None
    resolution_minutes: int | None = None
    # A Calendar: minutes count only inside its business hours. None: calendar minutes.
    calendar: "Calendar | None" = None
    # How long before a due time the sweeper warns; None: WARNING_LEAD.
    warning_minutes: int | None = None


def _minutes(text: str, where: str) -> int:
    try:
        hours, minutes = (int(part) for part in str(text).split(":"))
    except ValueError:
        raise Invalid(N_("{where}: {text} is not a time like \"09:00\""), where=where, text=repr(text)) from None
    if not (0 <= hours <= 24 and 0 <= minutes < 60) or (hours == 24 and minutes):
        raise Invalid(N_("{where}: {text} is not a time between 00:00 and 24:00"), where=where, text=repr(text))
    return hours * 60 + minutes


@dataclass(slots=True, frozen=True)
class Calendar:
    """Business hours per weekday in one time zone, minus holidays (local dates)."""

    timezone: str
    windows: tuple[tuple[tuple[int, int], ...], ...]  # per weekday (Monday first): (start, end) minutes
    holidays: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def from_config(cls, tz: str, hours: dict[str, Any], holidays: list[str] | None = None) -> "Calendar":
        """Validate and build; a ValueError says what is wrong and where."""
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise Invalid(N_("timezone: {tz} is not an IANA time zone such as \"Europe/Berlin\""), tz=repr(tz)) from None
        if not isinstance(hours, dict):
            raise Invalid(N_("hours: must be an object like {example}"), example='{"mon": [["09:00", "17:00"]]}')
        unknown = set(hours) - set(WEEKDAYS)
        if unknown:
            raise Invalid(N_("hours: unknown day(s) {unknown}; use {days}"), unknown=", ".join(sorted(unknown)),
                          days=", ".join(WEEKDAYS))
        days: list[tuple[tuple[int, int], ...]] = []
        for day in WEEKDAYS:
            spans = []
            for i, span in enumerate(hours.get(day) or []):
                where = f"hours.{day}[{i}]"
                if not isinstance(span, (list, tuple)) or len(span) != 2:
                    raise Invalid(N_("{where}: must be a pair [\"start\", \"end\"]"), where=where)
                start, end = _minutes(span[0], where), _minutes(span[1], where)
                if start >= end:
                    raise Invalid(N_("{where}: starts at {start} but ends at {end}; the end must be later"), where=where,
                                  start=span[0], end=span[1])
                spans.append((start, end))
            spans.sort()
            for (_, end), (start, _) in zip(spans, spans[1:]):
                if start < end:
                    raise Invalid(N_("hours.{day}: the windows overlap"), day=day)
            days.append(tuple(spans))
        if not any(days):
            raise Invalid(N_("hours: at least one day needs business hours, or no due time could ever be reached"))
        parsed: set[date] = set()
        for i, text in enumerate(holidays or []):
            try:
                parsed.add(date.fromisoformat(str(text)))
            except ValueError:
                raise Invalid(N_("holidays[{i}]: {text} is not a date like \"2026-12-25\""), i=i, text=repr(text)) from None
        return cls(tz, tuple(days), frozenset(parsed))

    def _day_windows(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's business windows as UTC instants. Local wall times go through the zone, so a
        window that spans a DST change is as long as the clocks say it really is."""
        if day in self.holidays:
            return []
        zone = ZoneInfo(self.timezone)
        out = []
        for start, end in self.windows[day.weekday()]:
            out.append((_local(day, start, zone), _local(day, end, zone)))
        return out

    def add(self, start: datetime, minutes: float) -> datetime:
        """The instant `minutes` business minutes after `start`."""
        remaining = timedelta(minutes=minutes)
        day = start.astimezone(ZoneInfo(self.timezone)).date()
        for _ in range(_MAX_DAYS):
            for opens, closes in self._day_windows(day):
                if closes <= start:
                    continue
                begin = max(opens, start)
                available = closes - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
            day += timedelta(days=1)
        raise Invalid(N_("calendar {timezone}: no business time within {days} days"), timezone=self.timezone, days=_MAX_DAYS)

    def between(self, start: datetime, end: datetime) -> float:
        """Business minutes in [start, end)."""
        if end <= start:
            return 0.0
        zone = ZoneInfo(self.timezone)
        day, last = start.astimezone(zone).date(), end.astimezone(zone).date()
        total = timedelta()
        while day <= last:
            for opens, closes in self._day_windows(day):
                overlap = min(closes, end) - max(opens, start)
                if overlap > timedelta():
                    total += overlap
            day += timedelta(days=1)
        return total.total_seconds() / 60


def _local(day: date, minute: int, zone: ZoneInfo) -> datetime:
    if minute == 24 * 60:
        day, minute = day + timedelta(days=1), 0
    return datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=zone).astimezone(timezone.utc)


def due(start: datetime, minutes: int | None, calendar: Calendar | None = None) -> datetime | None:
    if minutes is None:
        return None
    return calendar.add(start, minutes) if calendar else start + timedelta(minutes=minutes)


def earliest(*times: datetime | None) -> datetime | None:
    """The ticket's sla_due_at: the earliest due time still running."""
    present = [t for t in times if t is not None]
    return min(present) if present else None


def targets_for(registry: Any, ticket: dict[str, Any]) -> SlaTargets:
    return registry.hook.sla_targets(ticket=ticket) or SlaTargets()


# --- policies -------------------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class Policy:
    id: int
    name: str
    conditions: dict[str, list[Any]]
    targets: SlaTargets
    starts_at: datetime | None = None  # a peak profile's period
    ends_at: datetime | None = None
    notice: str | None = None


def validate_conditions(conditions: Any) -> dict[str, list[Any]]:
    if not isinstance(conditions, dict):
        raise Invalid(N_("conditions: must be an object such as {example}"), example='{"priority": ["urgent"]}')
    unknown = set(conditions) - set(POLICY_CONDITIONS)
    if unknown:
        raise Invalid(N_("conditions: unknown key(s) {unknown}; use {known}"), unknown=", ".join(sorted(unknown)),
                      known=", ".join(POLICY_CONDITIONS))
    for key, values in conditions.items():
        if not isinstance(values, list) or not values:
            raise Invalid(N_("conditions.{key}: must be a non-empty list of accepted values"), key=key)
    return conditions


def policy_matches(policy: Policy, ticket: dict[str, Any]) -> bool:
    if policy.starts_at is not None or policy.ends_at is not None:
        when = ticket.get("created_at") or clock.now()
        if (policy.starts_at is not None and when < policy.starts_at) or (policy.ends_at is not None and when >= policy.ends_at):
            return False
    c = policy.conditions
    if "priority" in c and ticket.get("priority") not in c["priority"]:
        return False
    if "channel" in c and ticket.get("channel_type") not in c["channel"]:
        return False
    if "team" in c and ticket.get("team") not in c["team"]:
        return False
    if "customer_tag" in c and not set(c["customer_tag"]) & set(ticket.get("customer_tags") or ()):
        return False
    return True


def match_policy(policies: tuple[Policy, ...], ticket: dict[str, Any]) -> SlaTargets | None:
    """The first policy (by position) whose conditions all hold."""
    policy = matching_policy(policies, ticket)
    return policy.targets if policy else None


def matching_policy(policies: tuple[Policy, ...], ticket: dict[str, Any]) -> Policy | None:
    for policy in policies:
        if policy_matches(policy, ticket):
            return policy
    return None


def validate_warning(minutes: Any) -> None:
    if minutes is None:
        return
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= MAX_WARNING_MINUTES:
        raise Invalid(N_("warning_minutes: must be a whole number of minutes from 1 to {max} (7 days), "
                         "or empty for the default {default}"),
                      max=MAX_WARNING_MINUTES, default=int(WARNING_LEAD.total_seconds() // 60))


_cache: dict[str, Any] = {"at": -1.0, "policies": (), "generation": 0, "calendars": {}, "max_warning": None}


def invalidate() -> None:
    """Forget the cached policies (after an admin edit, or a new desk on another database)."""
    _cache["at"] = -1.0
    _cache["generation"] += 1


def _loads(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


async def load_policies() -> tuple[Policy, ...]:
    """Active policies with their calendars, cached for CACHE_SECONDS: ingest asks on every new
    ticket, and an edit taking a second to show is fine."""
    if time.monotonic() - _cache["at"] < CACHE_SECONDS:
        return _cache["policies"]
    from core.tables import BusinessCalendar, SlaPolicy

    generation = _cache["generation"]
    calendars, by_name = {}, {}
    for row in await BusinessCalendar.select():
        try:
            calendars[row["id"]] = by_name[row["name"]] = Calendar.from_config(
                row["timezone"], _loads(row["hours"]), _loads(row["holidays"]))
        except ValueError as exc:  # validated on the way in; a hand-edited row must not stop ingest
            log.error("business calendar %s is invalid: %s", row["name"], exc)
    policies = []
    max_warning = None
    for row in await SlaPolicy.select().order_by(SlaPolicy.position).order_by(SlaPolicy.id):
        if row["warning_minutes"] is not None:  # inactive ones too: their tickets still carry the lead
            max_warning = max(max_warning or 0, row["warning_minutes"])
        if not row["active"]:
            continue
        targets = SlaTargets(row["first_response_minutes"], row["next_response_minutes"], row["resolution_minutes"],
                             calendars.get(row["calendar"]), row["warning_minutes"])
        policies.append(Policy(row["id"], row["name"], _loads(row["conditions"]) or {}, targets,
                               row["starts_at"], row["ends_at"], row["notice"]))
    if generation != _cache["generation"]:  # invalidated while we read: do not cache what may be stale
        return tuple(policies)
    _cache.update(at=time.monotonic(), policies=tuple(policies), calendars=by_name, max_warning=max_warning)
    return _cache["policies"]


async def load_calendars() -> dict[str, Calendar]:
    """The business calendars by name (rules' business-hours condition), cached with the policies."""
    await load_policies()
    return _cache["calendars"]


async def sweep_window(default: timedelta = WARNING_LEAD) -> timedelta:
    """How far ahead the sweeper must read: the longest warning lead any ticket can carry."""
    await load_policies()
    longest = _cache["max_warning"]
    return max(default, timedelta(minutes=longest)) if longest else default


async def prepare(conn: Any, ticket: dict[str, Any]) -> dict[str, Any]:
    """Put what the sla_targets hook reads into the ticket dict: policies and customer tags."""
    ticket["sla_policies"] = await load_policies()
    if "customer_tags" not in ticket and ticket.get("customer") is not None:
        tags = await conn.fetchval("SELECT tags FROM customers WHERE id = $1", ticket["customer"])
        ticket["customer_tags"] = list(_loads(tags) or [])
    if "tags" not in ticket and ticket.get("id") is not None:
        # The ticket's own tags (a claimed conversation's kind): one string, so fetchval serves both
        # the ingest connection and the piccolo one.
        joined = await conn.fetchval(
            "SELECT " + ("STRING_AGG(tag, ',')" if _is_postgres(conn) else "GROUP_CONCAT(tag, ',')")
            + " FROM ticket_tags WHERE ticket = $1", ticket["id"])
        ticket["tags"] = sorted(t for t in (joined or "").split(",") if t)
    return ticket


def _is_postgres(conn: Any) -> bool:
    if hasattr(conn, "postgres"):
        return bool(conn.postgres)
    from core import db

    return not db.is_sqlite()


class _PiccoloConn:
    """The two reads `prepare` needs, through piccolo (outside the ingest path)."""

    async def fetchval(self, sql: str, *args: Any) -> Any:
        from core import db

        rows = await db.fetch(sql.replace("$1", "{}"), *args)
        return next(iter(rows[0].values())) if rows else None


async def targets_of(registry: Any, ticket: dict[str, Any]) -> SlaTargets:
    return targets_for(registry, await prepare(_PiccoloConn(), dict(ticket)))


# --- pause while waiting on the customer ------------------------------------------------------------


async def pause(ticket_id: int, now: datetime) -> None:
    """Stop the clock: the sweeper stops seeing the ticket until `resume`. Idempotent."""
    from core.tables import SlaPause, Ticket

    if not await SlaPause.exists().where(SlaPause.ticket == ticket_id):
        await SlaPause.insert(SlaPause(ticket=ticket_id, paused_at=now))
    await Ticket.update({Ticket.sla_due_at: None}).where(Ticket.id == ticket_id)


async def resume(registry: Any, ticket_id: int, now: datetime) -> dict[str, Any]:
    """Restart the clock: every running due time moves later by the (business) time spent paused.
    Returns the new due columns (empty when the ticket was not paused)."""
    from core.tables import SlaPause, Ticket

    row = await SlaPause.select().where(SlaPause.ticket == ticket_id).first()
    if row is None:
        return {}
    await SlaPause.delete().where(SlaPause.ticket == ticket_id)
    ticket = await Ticket.select().where(Ticket.id == ticket_id).first()
    if ticket is None:
        return {}
    calendar = (await targets_of(registry, ticket)).calendar
    paused_at = row["paused_at"]
    values: dict[str, Any] = {}
    for kind in KINDS:
        values[f"{kind}_due_at"] = _shift(ticket[f"{kind}_due_at"], paused_at, now, calendar)
    values["sla_due_at"] = earliest(*(values[f"{k}_due_at"] for k in KINDS if not ticket[f"{k}_breached"]))
    await Ticket.update({getattr(Ticket, k): v for k, v in values.items()}).where(Ticket.id == ticket_id)
    return values


async def discard_pause(ticket_id: int) -> None:
    """The ticket left pending for solved/closed: nothing runs any more."""
    from core.tables import SlaPause

    await SlaPause.delete().where(SlaPause.ticket == ticket_id)


def _shift(when: datetime | None, paused_at: datetime, now: datetime, calendar: Calendar | None) -> datetime | None:
    if when is None or when <= paused_at:
        return when  # nothing running, or already overdue when the pause began
    if calendar is None:
        return now + (when - paused_at)
    return calendar.add(now, calendar.between(paused_at, when))


# --- the sweeper -------------------------------------------------------------------------------------


@dataclass(slots=True)
class SweepResult:
    seen: int = 0
    warnings: int = 0
    breaches: int = 0
    paused: int = 0


async def sweep(desk: "Desk", now: datetime | None = None, lead: timedelta | None = None,
                limit: int = 1000) -> SweepResult:
    """Warn about and breach the tickets due by now + the longest warning lead. Reads only those
    rows, through the tickets_sla_due index. Each ticket is warned `sla_warning_minutes` (its
    policy's lead) or `lead` (default WARNING_LEAD) before a due time. Each warning and breach is
    claimed by a conditional UPDATE, so it fires once even when several workers sweep at once."""
    from core.events import Event, publish
    from core.tables import Ticket

    now = now or clock.now()
    default_lead = lead or WARNING_LEAD
    window = await sweep_window(default_lead)
    result = SweepResult()
    rows = await Ticket.select(
        Ticket.id, Ticket.status, Ticket.sla_due_at, Ticket.sla_warned_at, Ticket.sla_warning_minutes,
        Ticket.first_response_due_at, Ticket.next_response_due_at, Ticket.resolution_due_at,
        Ticket.first_response_breached, Ticket.next_response_breached, Ticket.resolution_breached,
    ).where(Ticket.sla_due_at <= now + window).order_by(Ticket.sla_due_at).limit(limit)
    events: list[Event] = []
    for row in rows:
        result.seen += 1
        lead = timedelta(minutes=row["sla_warning_minutes"]) if row["sla_warning_minutes"] else default_lead
        if row["status"] == "pending":  # set pending without a pause (an old row): stop the clock now
            await pause(row["id"], now)
            result.paused += 1
            continue
        breached = {k for k in KINDS if row[f"{k}_breached"]}
        for kind in KINDS:
            when = row[f"{kind}_due_at"]
            if when is None or when > now or kind in breached:
                continue
            column = getattr(Ticket, f"{kind}_breached")
            claimed = await Ticket.update({column: True}).where((Ticket.id == row["id"]) & (column == False)).returning(Ticket.id)  # noqa: E712
            breached.add(kind)
            if claimed:
                result.breaches += 1
                events.append(Event("sla_breach", row["id"], data={"target": kind, "due_at": when.isoformat()}))
        running = earliest(*(row[f"{k}_due_at"] for k in KINDS if k not in breached))
        if running != row["sla_due_at"]:
            await Ticket.update({Ticket.sla_due_at: running}).where(Ticket.id == row["id"])
        if running is not None and now < running <= now + lead:
            # Warned at most once per due time: a warning older than (due - lead) was for an earlier one.
            threshold = running - lead
            claimed = await Ticket.update({Ticket.sla_warned_at: now}).where(
                (Ticket.id == row["id"]) & (Ticket.sla_warned_at.is_null() | (Ticket.sla_warned_at < threshold))
            ).returning(Ticket.id)
            if claimed:
                kind = next(k for k in KINDS if row[f"{k}_due_at"] == running)
                result.warnings += 1
                events.append(Event("sla_warning", row["id"], data={"target": kind, "due_at": running.isoformat()}))
    await publish(desk, events)
    return result


async def sweep_job(ctx: dict[str, Any]) -> None:
    await sweep(ctx["desk"])


# --- peak profiles: telling customers that answers take longer --------------------------------------


def is_peak(policy: Policy) -> bool:
    return policy.starts_at is not None or policy.ends_at is not None


async def send_peak_notice(desk: "Desk", ticket_id: int) -> bool:
    """A new ticket whose SLA came from a peak profile (a policy with starts_at/ends_at, e.g. 11.11)
    gets one automatic reply saying that answers take longer: the profile's own `notice` when the
    admin wrote one, else the catalog's text (core/notices.py) in the ticket's language with the
    profile's name and first-response target. Once per ticket (peak_notices is unique on ticket).
    The reply is automatic: it does not count as the first response and leaves the SLA running."""
    from core import db, notices, outbound
    from core.errors import RelaydeskError
    from core.tables import Ticket

    if not any(is_peak(policy) for policy in await load_policies()):
        return False  # the usual case, from the policy cache: no read per new ticket
    ticket = await Ticket.select().where(Ticket.id == ticket_id).first()
    if ticket is None or ticket["account"] is None:
        return False
    prepared = await prepare(_PiccoloConn(), dict(ticket))
    policy = matching_policy(prepared["sla_policies"], prepared)
    if policy is None or not is_peak(policy):
        return False
    claimed = await db.fetch(
        "INSERT INTO peak_notices (ticket, policy, sent_at) VALUES ({}, {}, {}) ON CONFLICT DO NOTHING RETURNING id",
        ticket_id, policy.id, clock.now())
    if not claimed:
        return False
    minutes = policy.targets.first_response_minutes
    text = (policy.notice or "").strip() or notices.peak_notice(
        ticket["language"], policy.name, -(-minutes // 60) if minutes else None)
    try:
        await outbound.reply(desk, ticket_id, author_id=None, text=text, automatic=True)
    except RelaydeskError as exc:
        log.warning("peak notice for ticket %s not sent: %s", ticket_id, exc)
        return False
    return True
