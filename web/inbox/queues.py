"""Queues: unassigned, mine, all open, pending, SLA due soon and breached, narrowed by channel, team
and tag; sorted by SLA due time; cursor pagination; counts; search. Bulk work: web/inbox/bulk.py."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from litestar import Request, get
from litestar.response import Redirect, Template

from core import clock, db, search
from core import counts as ticket_counts
from core.errors import InvalidRequest
from core.tables import OPEN_STATUSES, Ticket, TicketTag
from core.tickets import tags_of
from web.api import pagination
from web.api.params import OptionalId, text
from web.inbox.bulk import bulk_choices
from web.inbox.common import is_htmx, page
from web.sessions import page_guard, session_agent
from web.visibility import viewer

QUEUES = ("mine", "unassigned", "open", "pending", "due_soon", "breached", "pool", "spam")
DUE_SOON = timedelta(hours=1)
PAGE_SIZE = 50


def queue_where(queue: str, agent_id: int, now: datetime) -> list[Any]:
    if queue not in QUEUES:
        raise InvalidRequest(f"unknown queue {queue!r}")
    is_open = Ticket.status.is_in(list(OPEN_STATUSES))
    return {
        "mine": [is_open, Ticket.assignee == agent_id],
        "unassigned": [is_open, Ticket.assignee.is_null()],
        "open": [is_open],
        "pending": [Ticket.status == "pending"],
        "due_soon": [is_open, Ticket.sla_due_at >= now, Ticket.sla_due_at < now + DUE_SOON],
        "breached": [is_open, Ticket.sla_due_at < now],
        # the claim pools (core.routing.claim): low-priority work nobody holds yet
        "pool": [is_open, Ticket.pooled_at.is_not_null(), Ticket.assignee.is_null()],
        # blocked senders and tickets marked as spam (core.spam): kept, out of every other queue
        "spam": [Ticket.status == "spam"],
    }[queue]


def filter_where(channel: str | None, team: int | None, tag: str | None) -> list[Any]:
    where: list[Any] = []
    if channel:
        where.append(Ticket.channel_type == channel)
    if team:
        where.append(Ticket.team == team)
    if tag:
        where.append(Ticket.id.is_in(TicketTag.select(TicketTag.ticket).where(TicketTag.tag == tag.lower())))
    return where


def _and(clauses: list[Any]) -> Any:
    condition = clauses[0]
    for clause in clauses[1:]:
        condition = condition & clause
    return condition


LIST_COLUMNS = (Ticket.id, Ticket.subject, Ticket.status, Ticket.priority, Ticket.customer, Ticket.channel_type,
                Ticket.assignee, Ticket.team, Ticket.sla_due_at, Ticket.last_message_at, Ticket.language,
                # the names a row shows, joined in the same query (decorate reads them)
                Ticket.customer.name.as_alias("joined_customer_name"),
                Ticket.customer.email.as_alias("joined_customer_email"),
                Ticket.assignee.name.as_alias("joined_assignee_name"))


async def page_of(where: list[Any], cursor: dict[str, Any] | None, limit: int) -> list[dict[str, Any]]:
    """Earliest SLA due first, then tickets without a due time by id; keyset pagination on both
    phases (SQLite and PostgreSQL sort NULLs differently, so they are two queries)."""
    rows: list[dict[str, Any]] = []
    value = cursor["v"] if cursor else None  # validated by pagination.decode
    last_id = cursor["i"] if cursor else 0
    if cursor is None or value is not None:
        extra = [Ticket.sla_due_at.is_not_null()]
        if value is not None:
            extra.append((Ticket.sla_due_at > value) | ((Ticket.sla_due_at == value) & (Ticket.id > last_id)))
        rows = await Ticket.select(*LIST_COLUMNS).where(_and(where + extra)).order_by(
            Ticket.sla_due_at, Ticket.id).limit(limit)
    if len(rows) < limit:
        extra = [Ticket.sla_due_at.is_null()]
        if cursor is not None and value is None:
            extra.append(Ticket.id > last_id)
        rows += await Ticket.select(*LIST_COLUMNS).where(_and(where + extra)).order_by(Ticket.id).limit(
            limit - len(rows))
    return rows


async def counts(agent_id: int, now: datetime, hidden: frozenset[int] = frozenset()) -> dict[str, Any]:
    """Counts for the left navigation, from the counts the database keeps (core.counts): exact on
    every page load, and no scan of the open tickets however busy the desk is. Without the
    tickets of `hidden` teams (core.visibility)."""
    return await ticket_counts.navigation(agent_id, now, hidden)


async def decorate(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add customer and assignee names (joined by the list's own query, LIST_COLUMNS) and tags
    (one query per page, not per row) to list rows."""
    if not rows:
        return rows
    tags = await tags_of([r["id"] for r in rows])
    for row in rows:
        name, email = row.pop("joined_customer_name"), row.pop("joined_customer_email")
        row["customer_name"] = name or email or f"#{row['customer']}"
        row["assignee_name"] = row.pop("joined_assignee_name") if row["assignee"] else None
        row["tags"] = tags.get(row["id"], [])
    return rows


@get("/inbox", include_in_schema=False, guards=[page_guard("readonly")])
async def inbox_home() -> Redirect:
    return Redirect(path="/inbox/q/open")


@get("/inbox/q/{queue:str}", include_in_schema=False, guards=[page_guard("readonly")])
async def queue_page(request: Request, queue: str, channel: str | None = text(64), team: OptionalId = None,
                     tag: str | None = text(100), cursor: str | None = text(pagination.MAX_CURSOR),
                     q: str | None = None) -> Template:
    agent = await session_agent(request)
    assert agent is not None
    seen = await viewer(request, agent)  # team visibility: the same rule in lists, search and counts
    now = clock.now()
    next_cursor = None
    if q and len(q) > search.MAX_QUERY:
        raise InvalidRequest(f"a search may be at most {search.MAX_QUERY} characters long")
    if q and q.strip():
        ids = await search.search(q, limit=PAGE_SIZE)
        rows = await Ticket.select(*LIST_COLUMNS).where(_and([Ticket.id.is_in(ids), *seen.where()])) if ids else []
        order = {i: n for n, i in enumerate(ids)}
        rows.sort(key=lambda r: order[r["id"]])
    else:
        where = queue_where(queue, agent["id"], now) + filter_where(channel, team, tag) + seen.where()
        rows = await page_of(where, pagination.decode(cursor), PAGE_SIZE + 1)
        if len(rows) > PAGE_SIZE:
            rows = rows[:PAGE_SIZE]
            last = rows[-1]
            next_cursor = pagination.encode({"v": last["sla_due_at"].isoformat() if last["sla_due_at"] else None,
                                             "i": last["id"]})
    rows = await decorate(rows)
    context = {"queue": queue, "rows": rows, "next_cursor": next_cursor, "channel": channel, "team": team,
               "tag": tag, "q": q or "", "now": now, "cursor": cursor}
    if is_htmx(request) and request.headers.get("hx-target") == "ticket-list":
        return await page(request, "inbox/_list.html", **context)
    context["counts"] = await counts(agent["id"], now, seen.hidden)
    context["agents"] = await db.fetch("SELECT id, name FROM agents WHERE active = {} ORDER BY name", True)
    context.update(await bulk_choices())
    return await page(request, "inbox/queue.html", **context)


@get("/inbox/counts", include_in_schema=False, guards=[page_guard("readonly")])
async def counts_fragment(request: Request, queue: str = "open", channel: str | None = text(64),
                          team: OptionalId = None, tag: str | None = text(100)) -> Template:
    agent = await session_agent(request)
    assert agent is not None
    hidden = (await viewer(request, agent)).hidden
    return await page(request, "inbox/_nav.html", counts=await counts(agent["id"], clock.now(), hidden), queue=queue,
                      channel=channel, team=team, tag=tag, q="")


ROUTES = [inbox_home, queue_page, counts_fragment]
