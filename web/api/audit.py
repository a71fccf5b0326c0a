"""/api/v1/audit: who changed what (settings, rules, roles, merges, privacy, order actions, sign-ins).

Admins only: entries carry addresses and the details of changes. Newest first, keyset paging.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, get
from litestar.params import Parameter

from core import audit
from core.errors import InvalidRequest
from web.api import pagination
from web.api.openapi import errors
from web.api.params import OptionalId, text
from web.auth import require


def _aware(value: datetime | None, name: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise InvalidRequest(f"{name} needs a time zone, e.g. 2026-11-11T00:00:00+08:00")
    return value


class AuditController(Controller):
    path = "/api/v1/audit"
    tags = ["audit"]
    guards = [require("admin")]

    @get("/", responses=errors())
    async def list_entries(self, actor: str | None = text(100, "e.g. agent:3, cli, system:routing"),
                           action: str | None = text(64, "e.g. set_role, merge, refund"),
                           entity_type: str | None = text(32), entity_id: OptionalId = None,
                           since: datetime | None = Parameter(default=None, description="from this time (inclusive)"),
                           until: datetime | None = Parameter(default=None, description="before this time"),
                           limit: int = Parameter(default=50, ge=1, le=200),
                           cursor: str | None = text(pagination.MAX_CURSOR)) -> dict[str, Any]:
        rows, more = await audit.entries(
            actor=actor, action=action, entity_type=entity_type, entity_id=entity_id,
            since=_aware(since, "since"), until=_aware(until, "until"),
            before_id=(pagination.decode(cursor) or {}).get("i"), limit=pagination.clamp_limit(limit))
        return {"items": rows, "next_cursor": pagination.encode({"i": rows[-1]["id"]}) if more else None}
