"""Saved views in the inbox: open one (its list, filtered and searchable like a queue), save the
current filters as a view, change or delete it (core.saved_views says who may)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template

from core import saved_views, ticket_filter
from core.bounds import MAX_ID
from core.errors import InvalidRequest, NotFound
from web.api import pagination
from web.api.params import text
from web.inbox.common import form_value
from web.inbox.queues import QUEUES, render_list, request_filter
from web.sessions import page_guard, session_agent

# A queue saved as a view becomes the filters that mean the same (the claim pool's "pooled" has
# no filter: its view lists the unassigned open tickets).
QUEUE_FILTERS: dict[str, dict[str, str]] = {
    "mine": {"status": "open", "assignee": "me"}, "unassigned": {"status": "open", "assignee": "none"},
    "open": {"status": "open"}, "pending": {"status": "pending"},
    "due_soon": {"status": "open", "sla": "due_soon"}, "breached": {"status": "open", "sla": "breached"},
    "pool": {"status": "open", "assignee": "none"}, "spam": {"status": "spam"},
}


def _view_id(view_id: int) -> int:
    if not 1 <= view_id <= MAX_ID:
        raise NotFound(f"view {view_id} does not exist")
    return view_id


def form_filters(form: Any) -> dict[str, str]:
    """The filters a save form carries: its queue's meaning, then the filter bar's fields over it."""
    queue = form_value(form, "queue")
    if queue and queue not in QUEUES:
        raise InvalidRequest(f"unknown queue {queue!r}")
    chosen = dict(QUEUE_FILTERS.get(queue, {}))
    for field in ticket_filter.FIELDS:
        value = form_value(form, field)
        if value:
            chosen[field] = value
    return chosen


@get("/inbox/v/{view_id:int}", include_in_schema=False, guards=[page_guard("readonly")])
async def view_page(request: Request, view_id: int, cursor: str | None = text(pagination.MAX_CURSOR),
                    q: str | None = None, edited: str | None = text(1)) -> Template:
    """A saved view's list; with `edited=1` the filter bar's fields replace the view's (until saved)."""
    agent = await session_agent(request)
    assert agent is not None
    view = await saved_views.get(agent, _view_id(view_id))
    flt = request_filter(request) if edited else saved_views.filter_of(view)
    return await render_list(request, agent, queue=None, flt=flt, q=q or "", cursor=cursor, view=view,
                             edited=bool(edited))


@post("/inbox/views", include_in_schema=False, guards=[page_guard("readonly")])
async def create_view(request: Request) -> Redirect:
    agent = await session_agent(request)
    form = await request.form()
    view = await saved_views.create(agent, form_value(form, "name"), form_filters(form),
                                    shared=form_value(form, "shared") == "1")
    return Redirect(path=f"/inbox/v/{view['id']}")


@post("/inbox/v/{view_id:int}", include_in_schema=False, guards=[page_guard("readonly")])
async def update_view(request: Request, view_id: int) -> Redirect:
    """Rename, share or unshare, and (with `save_filters=1`) take the filter bar's fields."""
    agent = await session_agent(request)
    form = await request.form()
    filters = form_filters(form) if form_value(form, "save_filters") == "1" else None
    shared = None
    if "shared" in form or form_value(form, "sharing") == "1":
        shared = form_value(form, "shared") == "1"
    await saved_views.update(agent, _view_id(view_id), name=form_value(form, "name") or None, filters=filters,
                             shared=shared)
    return Redirect(path=f"/inbox/v/{view_id}")


@post("/inbox/v/{view_id:int}/delete", include_in_schema=False, guards=[page_guard("readonly")])
async def delete_view(request: Request, view_id: int) -> Redirect:
    agent = await session_agent(request)
    await saved_views.delete(agent, _view_id(view_id))
    return Redirect(path="/inbox/q/open")


ROUTES = [view_page, create_view, update_view, delete_view]
