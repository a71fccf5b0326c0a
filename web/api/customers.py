"""/api/v1/customers: list, read with identities."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get
from litestar.params import Parameter

from core.errors import NotFound
from core.tables import Customer, Identity
from web.api import pagination
from web.api.params import text
from web.api.openapi import errors
from web.auth import require


def _customer_out(row: dict[str, Any]) -> dict[str, Any]:
    import json

    out = dict(row)
    if isinstance(out.get("tags"), str):
        out["tags"] = json.loads(out["tags"] or "[]")
    return out


class CustomerController(Controller):
    path = "/api/v1/customers"
    tags = ["customers"]
    guards = [require("readonly")]

    @get("/", responses=errors())
    async def list_customers(self, email: str | None = text(254), phone: str | None = text(32),
                             limit: int = Parameter(default=50, ge=1, le=200),
                             cursor: str | None = text(pagination.MAX_CURSOR)) -> dict[str, Any]:
        limit = pagination.clamp_limit(limit)
        query = Customer.select()
        clauses = []
        if email:
            clauses.append(Customer.email == email.strip().lower())
        if phone:
            clauses.append(Customer.phone == phone.strip())
        after = (pagination.decode(cursor) or {}).get("i")  # validated: an id in range
        if after:
            clauses.append(Customer.id < after)
        for clause in clauses:
            query = query.where(clause)
        rows = await query.order_by(Customer.id, ascending=False).limit(limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return {"items": [_customer_out(r) for r in rows],
                "next_cursor": pagination.encode({"i": rows[-1]["id"]}) if more else None}

    @get("/{customer_id:int}", responses=errors(404))
    async def get_customer(self, customer_id: int) -> dict[str, Any]:
        row = await Customer.select().where(Customer.id == customer_id).first()
        if row is None:
            raise NotFound(f"customer {customer_id} does not exist")
        out = _customer_out(row)
        out["identities"] = await Identity.select(
            Identity.id, Identity.channel_type, Identity.handle, Identity.display_name, Identity.email,
            Identity.phone, Identity.email_verified, Identity.phone_verified,
        ).where(Identity.customer == customer_id).order_by(Identity.id)
        return out
