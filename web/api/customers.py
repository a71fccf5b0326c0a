"""/api/v1/customers: list, read with identities."""

from __future__ import annotations

from typing import Any

from typing import Annotated

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import Parameter
from litestar.response import Stream

from core.errors import InvalidRequest, NotFound
from core.tables import Customer, Identity
from web.api import pagination
from core.bounds import Id
from web.api.params import text
from web.api.openapi import errors, with_body
from web.auth import actor, current_agent, require
from web import customer_data


class MergeIn(msgspec.Struct, forbid_unknown_fields=True):
    source_id: Id


class EraseIn(msgspec.Struct, forbid_unknown_fields=True):
    confirm: bool = False
    reason: Annotated[str, msgspec.Meta(max_length=200)] = "erased on request"


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

    @get("/{customer_id:int}/export", guards=[require("admin")], responses=errors(404),
         media_type="application/zip")
    async def export(self, request: Request, customer_id: int) -> Stream:
        """Everything stored about the customer (and customers merged into them) as a zip:
        customer.json plus each attachment's file. Audited as customer.exported."""
        return await customer_data.export_response(request, customer_id, actor(await current_agent(request)))

    @post("/{customer_id:int}/erase", guards=[require("admin")], status_code=200, responses=errors(404, 413))
    async def erase(self, request: Request, customer_id: int, data: EraseIn) -> dict[str, Any]:
        """Delete the customer (with merged ones), their identities, tickets, messages and attachments.
        Needs {"confirm": true}; audited as customer.erased with the reason, never the erased data."""
        if not data.confirm:
            raise InvalidRequest('erasing cannot be undone: send {"confirm": true}')
        return await customer_data.erase(request, customer_id, actor(await current_agent(request)), data.reason)

    @post("/{customer_id:int}/merge", guards=[require("agent")], status_code=200, responses=with_body(404))
    async def merge(self, request: Request, customer_id: int, data: MergeIn) -> dict[str, Any]:
        """Merge customer source_id into this one: identities, tickets and messages move here; the
        source remembers where it went. Undo with POST /customers/{source_id}/split."""
        from core.merge import merge_customers

        agent = await current_agent(request)
        return await _visible_only(request, agent, await merge_customers(data.source_id, customer_id, actor=actor(agent)))

    @post("/{customer_id:int}/split", guards=[require("agent")], status_code=200, responses=errors(404))
    async def split(self, request: Request, customer_id: int) -> dict[str, Any]:
        """Undo the merge of this customer into another: each identity, ticket and message that came
        from it goes back to it."""
        from core.merge import split

        agent = await current_agent(request)
        return await _visible_only(request, agent, await split(customer_id, actor=actor(agent)))


async def _visible_only(request: Request, agent: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A merge's or split's answer names the tickets that moved: only those the agent may see
    (core.visibility); the audit log keeps them all."""
    from core.visibility import visible_ids
    from web.visibility import viewer

    tickets = [int(t) for t in changes.get("tickets", [])]
    shown = await visible_ids(await viewer(request, agent), tickets)
    return {**changes, "tickets": [t for t in tickets if t in shown]}
