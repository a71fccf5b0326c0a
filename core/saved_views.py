"""Saved views: a named ticket filter (core.ticket_filter), personal or shared.

A personal view belongs to the agent who saved it and nobody else sees it (to others it does not
exist: 404). A shared view shows in everyone's navigation; only supervisors and admins create,
change or delete one. "me" in a view means whoever looks at it, so one shared "Mine, urgent" view
serves the whole team.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from core import audit, clock, db
from core.errors import Forbidden, InvalidRequest, NotFound
from core.people import ROLE_RANK
from core.tables import SavedView
from core.ticket_filter import TicketFilter, parse

MAX_NAME = 100
MAX_PER_AGENT = 50  # personal views per agent, and shared views in all: a navigation, not a store
COLUMNS = (SavedView.id, SavedView.name, SavedView.owner, SavedView.shared, SavedView.filters,
           SavedView.position, SavedView.created_at, SavedView.updated_at)


def may_share(agent: Mapping[str, Any]) -> bool:
    return ROLE_RANK.get(agent["role"], 0) >= ROLE_RANK["supervisor"]


def _name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidRequest("a view needs a name")
    if len(name) > MAX_NAME:
        raise InvalidRequest(f"a view's name may be at most {MAX_NAME} characters long")
    if any(ord(c) < 32 for c in name):
        raise InvalidRequest("a view's name holds a control character")
    return name


def _filters(values: Mapping[str, Any]) -> dict[str, str]:
    chosen = parse(values).params()
    if not chosen:
        raise InvalidRequest("a view needs at least one filter or a sort")
    return chosen


def filter_of(view: Mapping[str, Any]) -> TicketFilter:
    """The view's filter; a stored value no longer valid (a status renamed) is refused, not guessed."""
    return parse(view["filters"] or {})


async def visible(agent: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The views `agent` sees: shared ones first, then their own, each in position order. A plain
    statement: every list page draws the navigation."""
    rows = await db.fetch("SELECT id, name, owner, shared, filters, position, created_at, updated_at FROM saved_views "
                          "WHERE shared = {} OR owner = {} ORDER BY shared DESC, position, id", True, agent["id"])
    for row in rows:
        row["shared"] = bool(row["shared"])
        if isinstance(row["filters"], str):
            row["filters"] = json.loads(row["filters"] or "{}")
    return rows


async def get(agent: Mapping[str, Any], view_id: int) -> dict[str, Any]:
    row = await SavedView.select(*COLUMNS).where(SavedView.id == view_id).first().output(load_json=True)
    if row is None or (not row["shared"] and row["owner"] != agent["id"]):
        raise NotFound(f"view {view_id} does not exist")
    return row


def _may_edit(agent: Mapping[str, Any], row: Mapping[str, Any]) -> None:
    if row["shared"] and not may_share(agent):
        raise Forbidden("only supervisors and admins change shared views")


async def create(agent: Mapping[str, Any], name: str, filters: Mapping[str, Any],
                 shared: bool = False) -> dict[str, Any]:
    if shared and not may_share(agent):
        raise Forbidden("only supervisors and admins share views")
    chosen = _filters(filters)
    name = _name(name)
    mine = SavedView.shared == True if shared else (  # noqa: E712
        (SavedView.owner == agent["id"]) & (SavedView.shared == False))  # noqa: E712
    if await SavedView.count().where(mine) >= MAX_PER_AGENT:
        raise InvalidRequest(f"at most {MAX_PER_AGENT} {'shared' if shared else 'personal'} views; delete one first")
    rows = await SavedView.insert(SavedView(name=name, owner=agent["id"], shared=shared, filters=chosen,
                                            position=0)).returning(SavedView.id)
    if shared:
        await audit.record(f"agent:{agent['id']}", "view.create", "saved_view", rows[0]["id"],
                           {"name": name, "filters": chosen})
    return await get(agent, rows[0]["id"])


async def update(agent: Mapping[str, Any], view_id: int, *, name: str | None = None,
                 filters: Mapping[str, Any] | None = None, shared: bool | None = None) -> dict[str, Any]:
    row = await get(agent, view_id)
    _may_edit(agent, row)
    changes: dict[Any, Any] = {SavedView.updated_at: clock.now()}
    if name is not None:
        changes[SavedView.name] = _name(name)
    if filters is not None:
        changes[SavedView.filters] = _filters(filters)
    if shared is not None and shared != row["shared"]:
        if not may_share(agent):
            raise Forbidden("only supervisors and admins share views")
        changes[SavedView.shared] = shared
        if not shared:
            changes[SavedView.owner] = agent["id"]  # unshared: it becomes the personal view of who did it
    await SavedView.update(changes).where(SavedView.id == view_id)
    if row["shared"] or shared:
        await audit.record(f"agent:{agent['id']}", "view.update", "saved_view", view_id,
                           {"name": name, "filters": dict(filters) if filters is not None else None, "shared": shared})
    return await get(agent, view_id)


async def delete(agent: Mapping[str, Any], view_id: int) -> None:
    row = await get(agent, view_id)
    _may_edit(agent, row)
    await SavedView.delete().where(SavedView.id == view_id)
    if row["shared"]:
        await audit.record(f"agent:{agent['id']}", "view.delete", "saved_view", view_id,
                           {"name": row["name"]})
