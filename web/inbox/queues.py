"""Queues: unassigned, mine, all open, pending, SLA due soon and breached; a filter bar (status,
channel, account, tag, assignee, team, priority, SLA state, language, created/updated dates,
sort) over any of them; saved views (web/inbox/views.py); a search that keeps the filters and
pages on (keyset cursors); counts. Bulk work: web/inbox/bulk.py.

Every list is read through core.ticket_filter.where and core.ticket_lists: the queue's own
condition and the filters become one where-clause there."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any, Mapping
from urllib.parse import urlencode

from litestar import Request, get
from litestar.response import Redirect, Template

from core import clock, db, saved_views, search, ticket_filter, ticket_lists
from core import counts as ticket_counts
from core.errors import InvalidRequest, RelaydeskError
from core.tables import PRIORITIES
from core.ticket_filter import TicketFilter
from core.tickets import tags_of
from core.visibility import Viewer
from web.api import pagination
from web.api.params import OptionalId, text
from web.inbox.bulk import bulk_choices
from web.inbox.common import is_htmx, page
from web.sessions import page_guard, session_agent
from web.visibility import viewer

QUEUES = ticket_lists.QUEUES
PAGE_SIZE = 50
queue_where = ticket_lists.queue_where

# The columns a list row shows, and its customer's and assignee's names, in the page's own statement.
LIST_COLUMNS = ticket_lists.Columns(
    "tickets.subject, tickets.status, tickets.priority, tickets.customer, tickets.channel_type, tickets.assignee, "
    "tickets.team, tickets.language, c.name AS joined_customer_name, c.email AS joined_customer_email, "
    "a.name AS joined_assignee_name",
    "LEFT JOIN customers c ON c.id = tickets.customer LEFT JOIN agents a ON a.id = tickets.assignee")


async def page_of(where: ticket_filter.Where, cursor: dict[str, Any] | None, limit: int,
                  sort: str = "due") -> list[dict[str, Any]]:
    """The list rows of a page of tickets meeting `where`, in `sort` order after `cursor`."""
    return await ticket_lists.page(where, sort, cursor, limit, LIST_COLUMNS)


def request_filter(request: Request) -> TicketFilter:
    """The filter bar's fields from the query string (400 for a value it does not offer)."""
    return ticket_filter.parse({f: request.query_params.get(f) for f in ticket_filter.FIELDS})


async def read_list(agent: Mapping[str, Any], seen: Viewer, now: datetime, flt: TicketFilter, queue: str | None,
                    q: str, cursor: str | None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """A page of list rows and the cursor after it. A search looks through every ticket narrowed by
    the filters (not by the queue: a search from "All open" still finds a solved order), newest
    activity first; a list is the queue and the filters, in the filter's sort."""
    if len(q) > search.MAX_QUERY:
        raise InvalidRequest(f"a search may be at most {search.MAX_QUERY} characters long")
    position = pagination.decode(cursor)
    if q.strip():
        sort = ticket_lists.SEARCH
        keys = await ticket_lists.search_page(q, ticket_filter.where(flt, agent, now, seen=seen), position, PAGE_SIZE + 1,
                                              LIST_COLUMNS)
    else:
        sort = flt.sort or "due"
        extra = [queue_where(queue, agent["id"], now)] if queue else []
        keys = await ticket_lists.page(ticket_filter.where(flt, agent, now, seen=seen, extra=extra), sort, position,
                                       PAGE_SIZE + 1, LIST_COLUMNS)
    following = None
    if len(keys) > PAGE_SIZE:
        keys = keys[:PAGE_SIZE]
        following = ticket_lists.next_cursor(keys[-1], sort)
    return await decorate(keys), following


async def filter_choices() -> dict[str, Any]:
    """What the filter bar offers: channel accounts, teams and agents (a few rows each)."""
    # plain statements: this runs on every list page (piccolo's builder costs more than the query)
    accounts = await db.fetch("SELECT id, plugin, name, channel_type FROM channel_accounts "
                              "ORDER BY channel_type, plugin, name")
    return {"filter_accounts": accounts, "filter_channels": sorted({a["channel_type"] for a in accounts}),
            "filter_teams": await db.fetch("SELECT id, name FROM teams ORDER BY name"),
            "filter_statuses": ticket_filter.STATUS_VALUES, "filter_priorities": PRIORITIES,
            "filter_sla": ticket_filter.SLA_STATES, "filter_sorts": ticket_filter.SORTS}


async def counts(agent: Mapping[str, Any], now: datetime, seen: Viewer) -> dict[str, Any]:
    """Counts for the left navigation: the queues' from the counts the database keeps (core.counts),
    exact and with no scan of the open tickets; each saved view's capped at
    ticket_lists.COUNT_CAP ("1000+"), since a view is any combination of filters no kept count
    can foresee. Neither counts the tickets of teams hidden from the agent (core.visibility)."""
    out = await ticket_counts.navigation(agent["id"], now, seen.hidden)
    out["views"] = await view_counts(agent, now, seen)
    return out


# A view's count, per (agent, view, version), kept this long in the process: every live event
# redraws each open navigation (at most every 2 s per browser), and on a peak day twenty agents with
# five views each would otherwise count a hundred views every two seconds. Queue counts stay exact.
VIEW_COUNT_SECONDS = 5.0
_MAX_KEPT = 10_000
_kept_counts: dict[tuple[int, int, str], tuple[float, int | None]] = {}


async def view_counts(agent: Mapping[str, Any], now: datetime, seen: Viewer) -> list[dict[str, Any]]:
    views = []
    for view in await saved_views.visible(agent):
        key = (agent["id"], view["id"], f"{view['updated_at']}/{sorted(seen.hidden)}")
        kept = _kept_counts.get(key)
        n: int | None
        if kept is not None and kept[0] > time.monotonic():
            n = kept[1]
        else:
            try:
                n = await ticket_lists.capped_count(ticket_filter.where(saved_views.filter_of(view), agent, now,
                                                                                seen=seen))
            except RelaydeskError:  # a stored filter no longer valid: listed, not counted
                n = None
            if len(_kept_counts) >= _MAX_KEPT:
                _kept_counts.clear()
            _kept_counts[key] = (time.monotonic() + VIEW_COUNT_SECONDS, n)
        views.append({"id": view["id"], "name": view["name"], "shared": view["shared"], "n": n,
                      "more": n is not None and n > ticket_lists.COUNT_CAP, "cap": ticket_lists.COUNT_CAP})
    return views


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


def page_url(path: str, flt: TicketFilter, q: str = "", cursor: str | None = None, **more: Any) -> str:
    """A link to this list with its filters (and search, and cursor) kept."""
    params = {**flt.params(), **({"q": q} if q else {}), **{k: v for k, v in more.items() if v}}
    if cursor:
        params["cursor"] = cursor
    return path + ("?" + urlencode(params) if params else "")


async def render_list(request: Request, agent: Mapping[str, Any], *, queue: str | None, flt: TicketFilter,
                      q: str, cursor: str | None, view: dict[str, Any] | None = None,
                      edited: bool = False) -> Template:
    """The queue page (or its list alone, for htmx) of a queue or a saved view, filtered."""
    now = clock.now()
    seen = await viewer(request, dict(agent))  # team visibility: the same rule in lists, search and counts
    rows, following = await read_list(agent, seen, now, flt, queue, q, cursor)
    path = request.url.path
    keep = {"edited": "1"} if edited else {}
    next_cursor = pagination.encode(following) if following else None
    context = {"queue": queue or "", "rows": rows, "next_cursor": next_cursor,
               "next_url": page_url(path, flt, q, next_cursor, **keep) if next_cursor else None,
               "channel": flt.channel, "team": int(flt.team) if flt.team and flt.team.isdigit() else None,
               "tag": flt.tag, "q": q, "now": now, "cursor": cursor, "flt": flt.params(), "view": view,
               "filter_count": flt.conditions(), "searching": bool(q.strip()), "edited": edited}
    if is_htmx(request) and request.headers.get("hx-target") == "ticket-list":
        return await page(request, "inbox/_list.html", **context)
    context["counts"] = await counts(agent, now, seen)
    context["agents"] = await db.fetch("SELECT id, name FROM agents WHERE active = {} ORDER BY name", True)
    context["may_share"] = saved_views.may_share(agent)
    context["may_edit_view"] = view is not None and (not view["shared"] or saved_views.may_share(agent))
    context.update(await bulk_choices())
    context.update(await filter_choices())
    return await page(request, "inbox/queue.html", **context)


@get("/inbox", include_in_schema=False, guards=[page_guard("readonly")])
async def inbox_home() -> Redirect:
    return Redirect(path="/inbox/q/open")


@get("/inbox/q/{queue:str}", include_in_schema=False, guards=[page_guard("readonly")])
async def queue_page(request: Request, queue: str, cursor: str | None = text(pagination.MAX_CURSOR),
                     q: str | None = None) -> Template:
    agent = await session_agent(request)
    assert agent is not None
    if queue not in QUEUES:
        raise InvalidRequest(f"unknown queue {queue!r}")
    return await render_list(request, agent, queue=queue, flt=request_filter(request), q=q or "", cursor=cursor)


@get("/inbox/counts", include_in_schema=False, guards=[page_guard("readonly")])
async def counts_fragment(request: Request, queue: str | None = text(32), view: OptionalId = None) -> Template:
    agent = await session_agent(request)
    assert agent is not None
    flt = request_filter(request)
    seen = await viewer(request, agent)
    return await page(request, "inbox/_nav.html", counts=await counts(agent, clock.now(), seen), queue=queue or "",
                      channel=flt.channel, team=int(flt.team) if flt.team and flt.team.isdigit() else None,
                      tag=flt.tag, q="", view={"id": view} if view else None)


ROUTES = [inbox_home, queue_page, counts_fragment]
