"""The order panel's actions in the inbox: refund (whole order or chosen lines) and cancel, each in
two steps (calculate and show, then confirm), answered as HTML fragments in the agent's language.

Routes live under /inbox/plugins/shopify/ (signed-in session, CSRF like every inbox post) and need
the role `money_actions_role`. The refund's amount is Shopify's own calculation
(Order.suggestedRefund); the confirmation repeats exactly what was shown and is refused when the
order's refunded total moved since (another refund, or this one whose answer was lost). A refund
is never sent twice by the desk: after a lost answer the agent is told to check the order.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal, InvalidOperation
from typing import Any

from litestar import Controller, Request, Response, get, post
from markupsafe import Markup

from core.plugin_api import InvalidRequest, NotFound
from plugins.shopify import queries, state
from plugins.shopify.actions import CANCEL_REASONS, RefundLine, _order, cancel_order, refund_order
from plugins.shopify.client import ShopifyError, UserErrors
from plugins.shopify.normalize import gid, money
from plugins.shopify.templates import _, render
from web.plugin_api import ROLE_RANK
from web.plugin_api import page_guard, session_agent

def _reason_labels() -> list[tuple[str, str]]:
    # the literal msgids, so pybabel finds them
    labels = {"CUSTOMER": _("The customer changed or cancelled the order"), "DECLINED": _("The payment was declined"),
              "FRAUD": _("The order was fraudulent"), "INVENTORY": _("Items were not available"),
              "STAFF": _("A staff error"), "OTHER": _("Another reason")}
    return [(code, labels[code]) for code in CANCEL_REASONS]


def may_move_money(agent: dict[str, Any] | None) -> bool:
    role = state.settings().money_actions_role
    return bool(agent) and ROLE_RANK.get(agent["role"], -1) >= ROLE_RANK[role]  # type: ignore[index]


def actions_html(order: dict[str, Any], ticket_id: int | None, message: str = "", error: bool = False) -> str:
    return render("actions.html", order=order, ticket_id=ticket_id, reasons=_reason_labels(), message=message,
                  error=error)


_locks: dict[int, asyncio.Lock] = {}


def _refund_lock(row_id: int) -> asyncio.Lock:
    return _locks.setdefault(row_id, asyncio.Lock())


def _fragment(html: str, status: int = 200) -> Response:
    return Response(html, status_code=status, media_type="text/html")


def _note(message: str, status: int) -> Response:
    return _fragment(str(Markup('<p class="order-result error">{}</p>').format(message)), status)


def failure_text(exc: ShopifyError, what: str) -> str:
    """Shopify's refusal in the agent's language; Shopify's own words (userErrors) stay as it wrote them."""
    if isinstance(exc, UserErrors):
        detail = "; ".join(str(e.get("message")) for e in exc.errors)
        return _("Shopify refused the {what}: {detail}").format(what=what, detail=detail)
    if exc.platform_code == "answer_lost" or (not exc.retryable and (exc.platform_code or "").startswith("5")):
        return _("Shopify's answer was lost, so the {what} may have been made. Check the order in Shopify (or "
                 "reload this ticket) before trying again.").format(what=what)
    if exc.retryable:
        return _("Shopify is busy or out of reach; nothing was changed. Try again in a minute.")
    return _("Shopify answered with an error: {detail}").format(detail=exc.message)


def _flag(form: Any, key: str) -> bool:
    return str(form.get(key) or "") in ("1", "true", "on")


def _ticket_id(form: Any) -> int | None:
    value = str(form.get("ticket_id") or "")
    return int(value) if value.isdigit() and len(value) < 12 else None


def _lines(form: Any, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ticked lines with their quantities, checked against the order's lines."""
    by_id = {str(i.get("id")): i for i in items}
    chosen = form.getall("line") if hasattr(form, "getall") else form.get("line") or []
    if isinstance(chosen, str):
        chosen = [chosen]
    lines = []
    for line_id in dict.fromkeys(str(c) for c in chosen):
        item = by_id.get(line_id)
        if item is None:
            raise InvalidRequest(_("Line {line} is not on this order.").format(line=line_id))
        raw = str(form.get(f"qty_{line_id}") or "1")
        if not raw.isdigit() or not 1 <= int(raw) <= int(item.get("quantity") or 0):
            raise InvalidRequest(_("The quantity for {title} must be between 1 and {most}.").format(
                title=item.get("title") or line_id, most=int(item.get("quantity") or 0)))
        lines.append({"id": line_id, "title": item.get("title") or "", "quantity": int(raw)})
    return lines


def _view(row: dict[str, Any]) -> dict[str, Any]:
    from plugins.shopify.context import _view as view

    return view(row, mentioned=False, owned=True)


async def _guarded(request: Request, row_id: int) -> tuple[dict[str, Any], Any, dict[str, Any]]:
    agent = await session_agent(request)
    if not may_move_money(agent):
        raise PermissionError(_("Refunds and cancellations need the {role} role.").format(
            role=state.settings().money_actions_role))
    row, account = await _order(row_id)
    return row, account, agent  # type: ignore[return-value]


class ShopifyInbox(Controller):
    path = "/inbox/plugins/shopify"
    include_in_schema = False

    @get("/orders/{row_id:int}/actions", guards=[page_guard("agent")])
    async def actions(self, request: Request, row_id: int, ticket_id: str = "") -> Response:
        try:
            row, _account, _agent = await _guarded(request, row_id)
        except PermissionError as exc:
            return _note(str(exc), 403)
        return _fragment(actions_html(_view(row), int(ticket_id) if ticket_id.isdigit() and len(ticket_id) < 12 else None))

    @post("/orders/{row_id:int}/refund/preview", guards=[page_guard("agent")])
    async def refund_preview(self, request: Request, row_id: int) -> Response:
        try:
            row, account, _agent = await _guarded(request, row_id)
        except PermissionError as exc:
            return _note(str(exc), 403)
        form = await request.form()
        order = _view(row)
        whole = str(form.get("scope") or "lines") == "all"
        try:
            lines = [{"id": str(i["id"]), "title": i.get("title") or "", "quantity": int(i.get("quantity") or 0)}
                     for i in order["items"] if int(i.get("quantity") or 0) > 0] if whole else _lines(form, order["items"])
        except InvalidRequest as exc:
            return _note(exc.message, 400)
        if not lines and not whole:
            return _note(_("Tick at least one line to refund, or choose the whole order."), 400)
        variables = {"id": gid("Order", row["order_id"]), "refundShipping": whole,
                     "refundLineItems": [{"lineItemId": gid("LineItem", li["id"]), "quantity": li["quantity"]}
                                         for li in lines]}
        try:
            data = await state.client_for(account).graphql(queries.SUGGESTED_REFUND, variables)
        except ShopifyError as exc:
            return _note(failure_text(exc, _("refund calculation")), 502)
        found = data.get("order") or {}
        suggested = found.get("suggestedRefund") or {}
        amount = money(((suggested.get("amountSet") or {}).get("shopMoney") or {}).get("amount"))
        currency = ((suggested.get("amountSet") or {}).get("shopMoney") or {}).get("currencyCode") or order["currency"] or ""
        shipping = money((((suggested.get("shipping") or {}).get("amountSet") or {}).get("shopMoney") or {}).get("amount"))
        transactions = suggested.get("suggestedTransactions") or []
        html = render("refund_confirm.html", order=order, ticket_id=_ticket_id(form), lines=lines,
                      amount=amount, amount_text=f"{amount} {currency}".strip(), shipping=whole,
                      shipping_text=f"{shipping} {currency}".strip() if whole and Decimal(shipping) > 0 else "",
                      restock=_flag(form, "restock"), notify=_flag(form, "notify"),
                      gateway=", ".join(dict.fromkeys(str(t.get("gateway")) for t in transactions if t.get("gateway"))),
                      seen_refunded=money(((found.get("totalRefundedSet") or {}).get("shopMoney") or {}).get("amount")))
        return _fragment(html)

    @post("/orders/{row_id:int}/refund", guards=[page_guard("agent")])
    async def refund(self, request: Request, row_id: int) -> Response:
        try:
            row, account, agent = await _guarded(request, row_id)
        except PermissionError as exc:
            return _note(str(exc), 403)
        form = await request.form()
        order = _view(row)
        ticket_id = _ticket_id(form)
        try:
            lines = _lines(form, order["items"])
            amount = Decimal(str(form.get("amount") or "0"))
            seen = Decimal(str(form.get("seen_refunded") or "0"))
        except InvalidOperation:
            return _note(_("The refund form is incomplete; calculate the refund again."), 400)
        except InvalidRequest as exc:
            return _note(exc.message, 400)
        if amount < 0 or (not lines and not _flag(form, "shipping")):
            return _note(_("The refund form is incomplete; calculate the refund again."), 400)
        async with _refund_lock(row_id):  # two clicks in this process: the second sees the first's refund
            return await self._refund_checked(row, account, agent, form, order, lines, amount, seen, ticket_id)

    async def _refund_checked(self, row: dict[str, Any], account: Any, agent: dict[str, Any], form: Any,
                              order: dict[str, Any], lines: list[dict[str, Any]], amount: Decimal, seen: Decimal,
                              ticket_id: int | None) -> Response:
        row_id = row["id"]
        client = state.client_for(account)
        try:  # the order as Shopify has it now: a refund made since the calculation stops this one
            data = await client.graphql(queries.ORDER, {"id": gid("Order", row["order_id"])})
        except ShopifyError as exc:
            return _fragment(self._order_html(row, ticket_id, failure_text(exc, _("refund")), True), 502)
        now = Decimal(money((((data.get("order") or {}).get("totalRefundedSet") or {}).get("shopMoney") or {}).get("amount")))
        if now != seen:
            return _fragment(self._order_html(row, ticket_id, _(
                "Order {order} was refunded since you calculated this refund (refunded so far: {amount}). Nothing "
                "was refunded now; calculate again if more is due.").format(order=row["name"], amount=money(now)), True), 409)
        try:
            result = await refund_order(account, row, agent, amount=amount if amount > 0 else None,
                                        line_items=[RefundLine(line_item_id=li["id"], quantity=li["quantity"]) for li in lines],
                                        restock=_flag(form, "restock"), notify=_flag(form, "notify"), note=None,
                                        ticket_id=ticket_id, shipping=_flag(form, "shipping"))
        except ShopifyError as exc:
            return _fragment(self._order_html(row, ticket_id, failure_text(exc, _("refund")), True),
                             422 if isinstance(exc, UserErrors) else 502)
        except InvalidRequest as exc:
            return _fragment(self._order_html(row, ticket_id, exc.message, True), 400)
        refund = result.get("refund") or {}
        refunded = money(((refund.get("totalRefundedSet") or {}).get("shopMoney") or {}).get("amount") or amount)
        message = _("Shopify refunded {amount} on order {order}.").format(
            amount=f"{refunded} {order['currency'] or ''}".strip(), order=row["name"])
        return _fragment(await self._fresh_html(row_id, ticket_id, message))

    @post("/orders/{row_id:int}/cancel/preview", guards=[page_guard("agent")])
    async def cancel_preview(self, request: Request, row_id: int) -> Response:
        try:
            row, _account, _agent = await _guarded(request, row_id)
        except PermissionError as exc:
            return _note(str(exc), 403)
        form = await request.form()
        order = _view(row)
        reason = str(form.get("reason") or "CUSTOMER").upper()
        if reason not in CANCEL_REASONS:
            return _note(_("Choose a reason for the cancellation."), 400)
        paid = Decimal(money(order.get("total"))) - Decimal(money(order.get("total_refunded")))
        html = render("cancel_confirm.html", order=order, ticket_id=_ticket_id(form), reason=reason,
                      reason_label=dict(_reason_labels())[reason], refund=_flag(form, "refund"),
                      amount_text=f"{money(max(paid, Decimal(0)))} {order['currency'] or ''}".strip(),
                      restock=_flag(form, "restock"), notify=_flag(form, "notify"))
        return _fragment(html)

    @post("/orders/{row_id:int}/cancel", guards=[page_guard("agent")])
    async def cancel(self, request: Request, row_id: int) -> Response:
        try:
            row, account, agent = await _guarded(request, row_id)
        except PermissionError as exc:
            return _note(str(exc), 403)
        form = await request.form()
        ticket_id = _ticket_id(form)
        reason = str(form.get("reason") or "").upper()
        if reason not in CANCEL_REASONS:
            return _note(_("Choose a reason for the cancellation."), 400)
        try:
            await cancel_order(account, row, agent, reason=reason, refund=_flag(form, "refund"),
                               restock=_flag(form, "restock"), notify=_flag(form, "notify"), staff_note=None,
                               ticket_id=ticket_id)
        except ShopifyError as exc:
            return _fragment(self._order_html(row, ticket_id, failure_text(exc, _("cancellation")), True),
                             422 if isinstance(exc, UserErrors) else 502)
        message = _("Shopify is cancelling order {order}; the panel shows it cancelled once Shopify has "
                    "finished.").format(order=row["name"])
        return _fragment(await self._fresh_html(row_id, ticket_id, message))

    @staticmethod
    def _order_html(row: dict[str, Any], ticket_id: int | None, message: str, error: bool) -> str:
        from plugins.shopify.context import render_order

        return render_order(_view(row), can_act=True, ticket_id=ticket_id, message=message, error=error)

    async def _fresh_html(self, row_id: int, ticket_id: int | None, message: str) -> str:
        """The order as the cache now has it (refreshed from Shopify after the action), with the result."""
        try:
            row, _account = await _order(row_id)
        except NotFound:
            return str(Markup('<p class="order-result ok">{}</p>').format(message))
        return self._order_html(row, ticket_id, message, False)

