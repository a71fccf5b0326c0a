"""/api/v1/views: saved views (core.saved_views), the same the inbox's navigation lists. A view's
tickets: GET /api/v1/tickets?view={id} (with q to search in it)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, patch, post

from core import clock, saved_views, ticket_filter, ticket_lists
from core.errors import RelaydeskError
from web.api.openapi import errors, with_body
from web.auth import current_agent, require
from web.visibility import viewer

Value = Annotated[str, msgspec.Meta(max_length=40)]


class Filters(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """A view's filters, as GET /api/v1/tickets takes them (all optional; at least one, or a sort)."""

    status: Value | None = None
    channel: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    account: Value | None = None
    tag: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    assignee: Value | None = None
    team: Value | None = None
    priority: Value | None = None
    sla: Value | None = None
    language: Annotated[str, msgspec.Meta(max_length=16)] | None = None
    created_from: Value | None = None
    created_to: Value | None = None
    updated_from: Value | None = None
    updated_to: Value | None = None
    sort: Value | None = None


class ViewIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=saved_views.MAX_NAME)]
    filters: Filters
    shared: bool = msgspec.field(default=False)


class ViewUpdate(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=saved_views.MAX_NAME)] | None = None
    filters: Filters | None = None
    shared: bool | None = None


class ViewOut(msgspec.Struct):
    id: int
    name: str
    shared: bool
    owner: int
    filters: dict[str, str]
    created_at: datetime
    updated_at: datetime
    count: int | None = None
    count_capped: bool = False


def _plain(filters: Filters) -> dict[str, str]:
    return {k: v for k, v in msgspec.structs.asdict(filters).items() if v is not None}


def _out(row: dict[str, Any], count: int | None = None) -> ViewOut:
    capped = count is not None and count > ticket_lists.COUNT_CAP
    return ViewOut(id=row["id"], name=row["name"], shared=bool(row["shared"]), owner=row["owner"],
                   filters=dict(row["filters"] or {}), created_at=row["created_at"], updated_at=row["updated_at"],
                   count=min(count, ticket_lists.COUNT_CAP) if count is not None else None, count_capped=capped)


class ViewController(Controller):
    path = "/api/v1/views"
    tags = ["views"]

    @get("/", guards=[require("readonly")], responses=errors())
    async def list_views(self, request: Request, counts: bool = False) -> list[ViewOut]:
        """The views the token's agent sees: shared ones and their own personal ones. With
        counts=true, each view's ticket count, up to 1000 (`count_capped`: more than that)."""
        agent = await current_agent(request)
        out = []
        now = clock.now()
        seen = await viewer(request, agent)  # team visibility: a hidden team's tickets are not counted
        for row in await saved_views.visible(agent):
            n = None
            if counts:
                try:
                    n = await ticket_lists.capped_count(ticket_filter.where(saved_views.filter_of(row), agent, now,
                                                                            seen=seen))
                except RelaydeskError:
                    n = None
            out.append(_out(row, n))
        return out

    @post("/", guards=[require("readonly")], status_code=201, responses=with_body())
    async def create_view(self, request: Request, data: ViewIn) -> ViewOut:
        """Save a view: personal (only its owner sees it), or shared (supervisors and admins: 403 otherwise)."""
        agent = await current_agent(request)
        return _out(await saved_views.create(agent, data.name, _plain(data.filters), shared=data.shared))

    @get("/{view_id:int}", guards=[require("readonly")], responses=errors(404))
    async def get_view(self, request: Request, view_id: int) -> ViewOut:
        """One view (someone else's personal view: 404)."""
        agent = await current_agent(request)
        return _out(await saved_views.get(agent, view_id))

    @patch("/{view_id:int}", guards=[require("readonly")], responses=with_body(404))
    async def update_view(self, request: Request, view_id: int, data: ViewUpdate) -> ViewOut:
        """Rename, refilter, share or unshare a view (a shared one: supervisors and admins)."""
        agent = await current_agent(request)
        return _out(await saved_views.update(agent, view_id, name=data.name,
                                             filters=_plain(data.filters) if data.filters is not None else None,
                                             shared=data.shared))

    @delete("/{view_id:int}", guards=[require("readonly")], status_code=204, responses=errors(404))
    async def delete_view(self, request: Request, view_id: int) -> None:
        agent = await current_agent(request)
        await saved_views.delete(agent, view_id)
