"""The commerce context of a customer and ticket, and the ticket view's eBay panel.

customer_context returns::

    {"orders": [order, ...],                # merged with other commerce plugins' orders
     "ebay": {"order": order | None,        # the order the conversation is about
              "disputes": [dispute, ...],   # the ticket's return and/or case
              "order_number", "order_status", "order_value", "item_id",
              "respond_by", "dispute_status", "dispute_actions"}}   # template variables, rule fields

Which orders are the customer's: those whose buyer is one of the customer's eBay identities (the
buyer's user name that the messages came from). An order the ticket is about (through its
conversation or dispute) shows too, flagged when it is another customer's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from markupsafe import escape

from core.plugin_api import clock
from core.plugin_api import Customer, Identity
from plugins.ebay import state
from plugins.ebay.catalog import _
from plugins.ebay.tables import EbayConversation, EbayDispute, EbayOrder

CHANNEL = "ebay"
ORDER_URL = "https://www.ebay.com/sh/ord/details?orderid={order_id}"
RETURN_URL = "https://www.ebay.com/rt/ReturnDetails?returnId={id}"
CASE_URL = "https://www.ebay.com/rt/CaseDetails?caseId={id}"


async def _customer_ids(customer: dict[str, Any]) -> list[int]:
    if not customer.get("id"):
        return []
    ids = {customer["id"]}
    frontier = set(ids)
    while frontier:
        rows = await Customer.select(Customer.id).where(Customer.merged_into.is_in(list(frontier)))
        frontier = {r["id"] for r in rows} - ids
        ids |= frontier
    return sorted(ids)


async def buyer_names(customer_ids: list[int]) -> list[str]:
    if not customer_ids:
        return []
    rows = await Identity.select(Identity.handle).where(
        (Identity.channel_type == CHANNEL) & Identity.customer.is_in(customer_ids))
    return sorted({r["handle"] for r in rows})


def _order_view(row: dict[str, Any], *, mentioned: bool, owned: bool) -> dict[str, Any]:
    data = row["data"] or {}
    account = state.desk.registry.account_by_id(row["account"]) if state.desk else None
    return {
        "source": "ebay", "account": account.name if account else None, "row_id": row["id"],
        "id": row["order_id"], "order_id": row["order_id"], "name": row["order_id"],
        "legacy_order_id": row["legacy_order_id"], "buyer": row["buyer_username"],
        "status": (data.get("cancel_state") == "CANCELED" and "cancelled") or row["fulfillment_status"].lower() or "open",
        "fulfillment_status": row["fulfillment_status"], "financial_status": row["payment_status"],
        "placed_at": data.get("created_at"), "total": data.get("total"), "currency": data.get("currency"),
        "items": data.get("items") or [], "item_ids": row["item_ids"] or [],
        "admin_url": ORDER_URL.format(order_id=escape(row["order_id"])),
        "mentioned": mentioned, "customer_match": owned,
    }


def _dispute_view(row: dict[str, Any]) -> dict[str, Any]:
    respond_by = row["respond_by"]
    return {
        "kind": row["kind"], "id": row["dispute_id"], "status": row["status"], "state": row["state"],
        "case_type": row["case_type"], "order_id": row["order_id"], "item_id": row["item_id"],
        "buyer": row["buyer_username"], "respond_by": respond_by.isoformat() if respond_by else None,
        "overdue": bool(respond_by and respond_by < clock.now()), "activity_due": row["activity_due"],
        "actions": list(row["actions"] or []),
        "url": (RETURN_URL if row["kind"] == "return" else CASE_URL).format(id=escape(row["dispute_id"])),
    }


async def build_context(customer: dict[str, Any], ticket: dict[str, Any] | None) -> dict[str, Any]:
    limit = state.settings().context_orders
    names = await buyer_names(await _customer_ids(customer))
    owned = await EbayOrder.select().output(load_json=True).where(EbayOrder.buyer_username.is_in(names)).order_by(
        EbayOrder.placed_at, ascending=False).limit(limit) if names else []
    disputes: list[dict[str, Any]] = []
    about: list[str] = []
    key = (ticket or {}).get("thread_key")
    account_id = (ticket or {}).get("account")
    if key and account_id:
        rows = await EbayDispute.select().output(load_json=True).where(
            (EbayDispute.account == account_id) & (EbayDispute.thread_key == key)).order_by(EbayDispute.id)
        disputes = [_dispute_view(r) for r in rows]
        about += [r["order_id"] for r in rows if r["order_id"]]
        conv = await EbayConversation.select(EbayConversation.order_id, EbayConversation.item_id).where(
            (EbayConversation.account == account_id) & (EbayConversation.thread_key == key)).first()
        if conv and conv["order_id"]:
            about.append(conv["order_id"])
    mentioned_rows = []
    if about:
        mentioned_rows = await EbayOrder.select().output(load_json=True).where(
            (EbayOrder.account == account_id) & EbayOrder.order_id.is_in(list(dict.fromkeys(about))))
    mentioned_ids = {r["id"] for r in mentioned_rows}
    orders = [_order_view(r, mentioned=True, owned=r["buyer_username"] in names) for r in mentioned_rows]
    orders += [_order_view(r, mentioned=False, owned=True) for r in owned if r["id"] not in mentioned_ids]
    primary = next((o for o in orders if o["mentioned"] and o["customer_match"]), None) \
        or next((o for o in orders if o["customer_match"]), None)
    return {"orders": orders, "ebay": {"order": primary, "disputes": disputes, **variables(primary, disputes)}}


def variables(order: dict[str, Any] | None, disputes: list[dict[str, Any]]) -> dict[str, Any]:
    """Template variables and rule fields: the order and the open return/case of the conversation."""
    current = next((d for d in reversed(disputes) if d["respond_by"]), disputes[-1] if disputes else None)
    value = None
    if order is not None:
        try:
            value = float(order.get("total") or 0)
        except ValueError:
            value = None
    return {
        "order_number": order["order_id"] if order else None,
        "order_status": order["status"] if order else None,
        "order_value": value,
        "item_id": (order["item_ids"][0] if order and order["item_ids"] else None),
        "respond_by": current["respond_by"] if current else None,
        "dispute_status": current["status"] if current else None,
        "dispute_actions": current["actions"] if current else [],
    }


def _date(value: Any) -> str:
    parsed = state.parse_time(value)
    return str(escape(parsed.strftime("%Y-%m-%d %H:%M UTC") if isinstance(parsed, datetime) else (value or "")))


def render_order(order: dict[str, Any]) -> str:
    t_mentioned_in_this_ticket = _("Mentioned in this ticket; it belongs to another customer record.")
    t_placed = _("Placed")
    t_total = _("Total")
    t_payment = _("Payment")
    t_buyer = _("Buyer")
    t_item = _("Item")
    title = escape(order["order_id"])
    parts = [f'<section class="ebay-order" data-order="{escape(order["order_id"])}">',
             f'<h4><a href="{escape(order["admin_url"])}" target="_blank" rel="noopener noreferrer">{title}</a> '
             f'<span class="status status-{escape(order["status"])}">{escape(order["status"])}</span>'
             f' <small>{escape(order.get("account") or "")}</small></h4>']
    if order["mentioned"] and not order["customer_match"]:
        parts.append(f'<p class="warning">{escape(t_mentioned_in_this_ticket)}</p>')
    parts.append(f'<p>{escape(t_placed)} {_date(order.get("placed_at"))} · {escape(t_total)} '
                 f'{escape(order.get("total") or "0.00")} {escape(order.get("currency") or "")} · '
                 f'{escape(t_payment)} {escape(order.get("financial_status") or "")} · '
                 f'{escape(t_buyer)} {escape(order.get("buyer") or "")}</p>')
    if order["items"]:
        parts.append('<ul class="items">')
        for item in order["items"]:
            parts.append(f"<li>{int(item.get('quantity') or 0)} × {escape(item.get('title') or '')} "
                         f"({escape(t_item)} {escape(item.get('item_id') or '')}) — "
                         f"{escape(item.get('price') or '')} {escape(item.get('currency') or '')}</li>")
        parts.append("</ul>")
    parts.append("</section>")
    return "".join(parts)


def render_dispute(d: dict[str, Any]) -> str:
    t_state = _("State")
    t_order = _("Order")
    t_overdue = _("overdue")
    t_respond_by = _("Respond by")
    t_ebay_expects = _("eBay expects")
    t_your_available_actions = _("Your available actions")
    t_no_action_is_open_to_you = _("No action is open to you right now.")
    label = _("Return") if d["kind"] == "return" else _("Case")
    parts = [f'<section class="ebay-dispute ebay-{escape(d["kind"])}" data-dispute="{escape(d["id"])}">',
             f'<h4>{escape(label)} <a href="{escape(d["url"])}" target="_blank" rel="noopener noreferrer">'
             f'{escape(d["id"])}</a> <span class="status">{escape(d["status"])}</span></h4>']
    details = []
    if d["case_type"]:
        details.append(escape(d["case_type"]))
    if d["state"] and d["state"] != d["status"]:
        details.append(f'{escape(t_state)}: {escape(d["state"])}')
    if d["order_id"]:
        details.append(f'{escape(t_order)} {escape(d["order_id"])}')
    if details:
        parts.append(f"<p>{' · '.join(str(x) for x in details)}</p>")
    if d["respond_by"]:
        overdue = f' <strong class="overdue">{escape(t_overdue)}</strong>' if d["overdue"] else ""
        parts.append(f'<p class="deadline">{escape(t_respond_by)}: {_date(d["respond_by"])}{overdue}</p>')
    if d["activity_due"]:
        parts.append(f'<p>{escape(t_ebay_expects)}: {escape(d["activity_due"])}</p>')
    if d["actions"]:
        parts.append(f'<p>{escape(t_your_available_actions)}:</p><ul class="actions">'
                     + "".join(f"<li>{escape(a)}</li>" for a in d["actions"]) + "</ul>")
    else:
        parts.append(f'<p class="muted">{escape(t_no_action_is_open_to_you)}</p>')
    parts.append("</section>")
    return "".join(parts)


def render_panel_html(context: dict[str, Any]) -> dict[str, Any] | None:
    ebay = context.get("ebay") or {}
    orders = [o for o in context.get("orders") or [] if o.get("source") == "ebay"]
    disputes = ebay.get("disputes") or []
    if not orders and not disputes:
        return None
    html = "".join(render_dispute(d) for d in disputes) + "".join(render_order(o) for o in orders)
    title = _("eBay returns and cases") if disputes else _("eBay orders")
    return {"title": title, "html": html}
