"""Order actions from the ticket: cancel, refund, add a note, add tags.

Routes live under /api/v1/plugins/shopify/orders/{row_id}/... (row_id is the cached order's id that
the context and the panel carry). Permissions: every action needs the "agent" role; cancel and
refund move money and need `money_actions_role` (default "admin"). Every action needs
``"confirm": true`` in its body (the UI asks first), writes an audit entry, and refreshes the cached
order from Shopify. When Shopify refuses, its userErrors come back verbatim:
``422 {"error": {"code": "shopify_user_errors", "message": ..., "user_errors": [...]}}``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post

from core.plugin_api import audit, db
from core.plugin_api import Forbidden, InvalidRequest, NotFound
from core.plugin_api import Account
from plugins.shopify import cache, queries, state
from plugins.shopify.client import ShopifyError, UserErrors
from plugins.shopify.normalize import gid, graphql_order, money
from plugins.shopify.tables import ShopifyOrder
from web.plugin_api import ROLE_RANK, actor, current_agent, require
from web.plugin_api import i18n
from web.plugin_api import error_body

# Messages an agent reads in the UI (confirmation prompts, permission refusals) go through the
# plugin's catalogs; validation errors of the API body stay English, like the core API's.
_ = i18n.translator(Path(__file__).parent / "translations")

CANCEL_REASONS = ("CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "STAFF", "OTHER")


class CancelBody(msgspec.Struct, forbid_unknown_fields=True):
    confirm: bool = False
    reason: str = "CUSTOMER"
    refund: bool = True
    restock: bool = True
    notify_customer: bool = True
    staff_note: str | None = None
    ticket_id: int | None = None


class RefundLine(msgspec.Struct, forbid_unknown_fields=True):
    line_item_id: str
    quantity: int


class RefundBody(msgspec.Struct, forbid_unknown_fields=True):
    confirm: bool = False
    amount: str | None = None
    line_items: list[RefundLine] = []
    restock: bool = False
    note: str | None = None
    notify: bool = True
    ticket_id: int | None = None


class NoteBody(msgspec.Struct, forbid_unknown_fields=True):
    note: str
    confirm: bool = False
    ticket_id: int | None = None


class TagsBody(msgspec.Struct, forbid_unknown_fields=True):
    tags: list[str]
    confirm: bool = False
    ticket_id: int | None = None


def _decode(raw: bytes, kind: type) -> Any:
    try:
        return msgspec.json.decode(raw or b"{}", type=kind)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise InvalidRequest(f"the request body is not valid: {exc}") from None


def _confirm(confirmed: bool, what: str) -> None:
    if not confirmed:
        raise InvalidRequest(_('{what}: send "confirm": true to do it').format(what=what), code="confirmation_required")


async def _order(row_id: int) -> tuple[dict[str, Any], Account]:
    row = await ShopifyOrder.select().where(ShopifyOrder.id == row_id).output(load_json=True).first()
    if row is None:
        raise NotFound(f"no cached Shopify order {row_id}")
    account = state.desk.registry.account_by_id(row["account"]) if state.desk else None
    if account is None or account.plugin != "shopify":
        raise NotFound(f"the store of order {row_id} is no longer configured")
    return row, account


async def _need_money_role(request: Request) -> dict[str, Any]:
    agent = await current_agent(request)
    role = state.settings().money_actions_role
    if ROLE_RANK.get(agent["role"], -1) < ROLE_RANK[role]:
        raise Forbidden(_("cancelling and refunding need the {role} role; you are {agent_role}").format(
            role=role, agent_role=agent["role"]))
    return agent


def _shopify_failure(exc: ShopifyError) -> Response:
    if isinstance(exc, UserErrors):
        return Response(error_body(exc.code, exc.message, {"user_errors": exc.errors}), status_code=422)
    return Response(error_body("shopify_error", exc.message, {"platform_code": exc.platform_code,
                                                               "errors": exc.errors, "retryable": exc.retryable}),
                    status_code=502)


async def _refresh_and_audit(account: Account, row: dict[str, Any], agent: dict[str, Any], action: str,
                             changes: dict[str, Any]) -> dict[str, Any]:
    """Re-read the order from Shopify so the cache shows the result, and audit in one transaction."""
    client = state.client_for(account)
    fresh = None
    try:
        data = await client.graphql(queries.ORDER, {"id": gid("Order", row["order_id"])})
        if data.get("order"):
            fresh = graphql_order(data["order"])
    except ShopifyError as exc:  # the action succeeded; a stale cache is fixed by the next webhook
        changes = {**changes, "refresh_error": exc.message}
    async with db.transaction():
        if fresh is not None:
            await cache.upsert_order(account, fresh, trust_verified=state.settings().trust_verified_email, force=True)
        await audit.record(actor(agent), action, "shopify_order", row["id"],
                           {"account": account.name, "order": row["name"], "order_id": row["order_id"], **changes})
    return fresh or row["data"]


async def cancel_order(account: Account, row: dict[str, Any], agent: dict[str, Any], *, reason: str, refund: bool,
                       restock: bool, notify: bool, staff_note: str | None, ticket_id: int | None) -> dict[str, Any]:
    """orderCancel, then refresh and audit. Raises ShopifyError (userErrors verbatim)."""
    variables = {"orderId": gid("Order", row["order_id"]), "reason": reason, "refund": refund,
                 "restock": restock, "notifyCustomer": notify, "staffNote": staff_note}
    result = await state.client_for(account).mutate(
        queries.ORDER_CANCEL, variables, "orderCancel", ("orderCancelUserErrors", "userErrors"))
    job = result.get("job") or {}
    order = await _refresh_and_audit(account, row, agent, "shopify.order_cancelled", {
        "reason": reason, "refund": refund, "restock": restock, "notify": notify, "ticket_id": ticket_id,
        "job_id": job.get("id")})
    return {"job": job, "order": order}


async def refund_order(account: Account, row: dict[str, Any], agent: dict[str, Any], *, amount: Decimal | None,
                       line_items: list[RefundLine], restock: bool, notify: bool, note: str | None,
                       ticket_id: int | None, shipping: bool = False) -> dict[str, Any]:
    """refundCreate, then refresh and audit. The client never repeats the mutation once it may have
    reached Shopify (a lost answer raises ``answer_lost``). Raises ShopifyError or InvalidRequest."""
    client = state.client_for(account)
    refund_input: dict[str, Any] = {"orderId": gid("Order", row["order_id"]), "notify": notify}
    if note:
        refund_input["note"] = note
    if shipping:
        refund_input["shipping"] = {"fullRefund": True}  # ShippingRefundInput
    if line_items:
        refund_input["refundLineItems"] = [
            {"lineItemId": li.line_item_id if li.line_item_id.startswith("gid://") else gid("LineItem", li.line_item_id),
             "quantity": li.quantity, "restockType": "RETURN" if restock else "NO_RESTOCK"}
            for li in line_items]
    if amount is not None:
        # A money refund goes back through a successful sale or capture of the order.
        data = await client.graphql(queries.ORDER_TRANSACTIONS, {"id": gid("Order", row["order_id"])})
        parents = [t for t in ((data.get("order") or {}).get("transactions") or [])
                   if t.get("kind") in ("SALE", "CAPTURE") and t.get("status") == "SUCCESS"]
        if not parents:
            raise InvalidRequest(f"order {row['name']} has no successful payment to refund", code="no_payment")
        parent = parents[0]
        refund_input["transactions"] = [{"orderId": gid("Order", row["order_id"]), "parentId": parent["id"],
                                         "amount": money(amount), "gateway": parent.get("gateway"), "kind": "REFUND"}]
    result = await client.mutate(queries.REFUND_CREATE, {"input": refund_input}, "refundCreate")
    refund = result.get("refund") or {}
    order = await _refresh_and_audit(account, row, agent, "shopify.order_refunded", {
        "amount": money(amount) if amount is not None else None, "shipping": shipping, "restock": restock,
        "notify": notify, "line_items": [msgspec.to_builtins(li) for li in line_items], "ticket_id": ticket_id,
        "refund_id": refund.get("id")})
    return {"refund": refund, "order": order}


class ShopifyActions(Controller):
    path = "/api/v1/plugins/shopify"
    tags = ["shopify"]

    @get("/orders/{row_id:int}", guards=[require("readonly")])
    async def show(self, row_id: int) -> dict[str, Any]:
        row, account = await _order(row_id)
        return {"row_id": row["id"], "account": account.name, "order": row["data"]}

    @post("/orders/{row_id:int}/cancel", status_code=200, guards=[require("agent")])
    async def cancel(self, request: Request, row_id: int) -> Response:
        agent = await _need_money_role(request)
        body = _decode(await request.body(), CancelBody)
        if body.reason.upper() not in CANCEL_REASONS:
            raise InvalidRequest(f"reason must be one of {', '.join(CANCEL_REASONS)}")
        row, account = await _order(row_id)
        _confirm(body.confirm, (_("this cancels order {order} and refunds it") if body.refund
                                else _("this cancels order {order}")).format(order=row["name"]))
        try:
            result = await cancel_order(account, row, agent, reason=body.reason.upper(), refund=body.refund,
                                        restock=body.restock, notify=body.notify_customer,
                                        staff_note=body.staff_note, ticket_id=body.ticket_id)
        except ShopifyError as exc:
            return _shopify_failure(exc)
        return Response({"ok": True, **result}, status_code=200)

    @post("/orders/{row_id:int}/refund", status_code=200, guards=[require("agent")])
    async def refund(self, request: Request, row_id: int) -> Response:
        agent = await _need_money_role(request)
        body = _decode(await request.body(), RefundBody)
        if not body.amount and not body.line_items:
            raise InvalidRequest("give an amount or line_items to refund")
        amount = None
        if body.amount:
            try:
                amount = Decimal(body.amount)
            except InvalidOperation:
                raise InvalidRequest(f"amount {body.amount!r} is not a number") from None
            if amount <= 0:
                raise InvalidRequest("amount must be positive")
        if any(line.quantity < 1 for line in body.line_items):
            raise InvalidRequest("each line item's quantity must be at least 1")
        row, account = await _order(row_id)
        count = sum(li.quantity for li in body.line_items)
        sum_text = f"{money(amount)} {row['currency'] or ''}".strip() if amount else ""
        if amount and body.line_items:
            what = _.ngettext("this refunds {amount} and {count} item on order {order}",
                              "this refunds {amount} and {count} items on order {order}", count)
        elif body.line_items:
            what = _.ngettext("this refunds {count} item on order {order}",
                              "this refunds {count} items on order {order}", count)
        else:
            what = _("this refunds {amount} on order {order}")
        what = what.format(amount=sum_text, count=count, order=row["name"])
        _confirm(body.confirm, what)
        try:
            result = await refund_order(account, row, agent, amount=amount, line_items=body.line_items,
                                        restock=body.restock, notify=body.notify, note=body.note,
                                        ticket_id=body.ticket_id)
        except ShopifyError as exc:
            return _shopify_failure(exc)
        return Response({"ok": True, **result}, status_code=200)

    @post("/orders/{row_id:int}/note", status_code=200, guards=[require("agent")])
    async def add_note(self, request: Request, row_id: int) -> Response:
        agent = await current_agent(request)
        body = _decode(await request.body(), NoteBody)
        text = body.note.strip()
        if not text:
            raise InvalidRequest("note must not be empty")
        row, account = await _order(row_id)
        _confirm(body.confirm, _("this adds a note to order {order}").format(order=row["name"]))
        existing = (row["data"] or {}).get("note") or ""
        # orderUpdate replaces the note: append ours so the store's own note survives.
        new_note = f"{existing}\n{text}" if existing else text
        try:
            await state.client_for(account).mutate(
                queries.ORDER_UPDATE, {"input": {"id": gid("Order", row["order_id"]), "note": new_note}}, "orderUpdate")
        except ShopifyError as exc:
            return _shopify_failure(exc)
        order = await _refresh_and_audit(account, row, agent, "shopify.order_note_added",
                                         {"note": text, "ticket_id": body.ticket_id})
        return Response({"ok": True, "order": order}, status_code=200)

    @post("/orders/{row_id:int}/tags", status_code=200, guards=[require("agent")])
    async def add_tags(self, request: Request, row_id: int) -> Response:
        agent = await current_agent(request)
        body = _decode(await request.body(), TagsBody)
        tags = [t.strip() for t in body.tags if t.strip()]
        if not tags or any(len(t) > 255 for t in tags):
            raise InvalidRequest("tags must be non-empty strings of at most 255 characters")
        row, account = await _order(row_id)
        _confirm(body.confirm, _("this tags order {order} with {tags}").format(order=row["name"], tags=", ".join(tags)))
        try:
            await state.client_for(account).mutate(
                queries.TAGS_ADD, {"id": gid("Order", row["order_id"]), "tags": tags}, "tagsAdd")
        except ShopifyError as exc:
            return _shopify_failure(exc)
        order = await _refresh_and_audit(account, row, agent, "shopify.order_tagged",
                                         {"tags": tags, "ticket_id": body.ticket_id})
        return Response({"ok": True, "order": order}, status_code=200)
