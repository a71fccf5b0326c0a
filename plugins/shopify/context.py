"""The commerce context of a customer and ticket: orders for the ticket view, template variables and
rule fields; the order panel; and links between tickets and the orders their messages mention.

customer_context returns::

    {"orders": [order, ...],            # merged with other commerce plugins' orders
     "shopify": {"order": order | None, # the order the conversation is about
                 "order_number": "#1001", "tracking_url": ..., "delivery_estimate": ...,
                 "order_status": ..., "order_value": 12.5, "days_since_fulfillment": 3}}

Only orders linked to the customer feed the variables and fields (an auto-reply must never quote
someone else's tracking link); an order merely mentioned in the ticket shows in the panel, flagged.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from markupsafe import Markup, escape

from core.plugin_api import clock, db
from core.plugin_api import Customer, Message
from plugins.shopify import state
from plugins.shopify.cache import parse_time
from plugins.shopify.tables import ShopifyOrder, ShopifyTicketOrder
from web.plugin_api import i18n

_ = i18n.translator(Path(__file__).parent / "translations")  # the panel's strings (docs/writing-a-plugin.md)


def N_(message: str) -> str:
    """Mark a msgid for extraction without translating it here."""
    return message


# display_status codes as the panel shows them; the codes themselves stay English (rule fields, CSS).
STATUS_LABELS = {"cancelled": N_("cancelled"), "refunded": N_("refunded"), "voided": N_("voided"),
                 "delivered": N_("delivered"), "shipped": N_("shipped"), "partially_shipped": N_("partially shipped"),
                 "paid": N_("paid"), "open": N_("open"), "pending": N_("pending"), "authorized": N_("authorized"),
                 "partially_paid": N_("partially paid"), "partially_refunded": N_("partially refunded")}

# "#1001" (Shopify's default order name) and "order 1001" / "order no. 1001" / "order number #1001".
ORDER_NAME = re.compile(r"(?<![\w#&])#(\d{3,12})\b")
ORDER_WORD = re.compile(r"\border\s*(?:no\.?|number|nr\.?|#)?\s*#?(\d{4,12})\b", re.IGNORECASE)


def order_names_in(text: str) -> list[str]:
    found = [f"#{m}" for m in ORDER_NAME.findall(text or "")] + [f"#{m}" for m in ORDER_WORD.findall(text or "")]
    return list(dict.fromkeys(found))


def display_status(order: dict[str, Any]) -> str:
    if order.get("cancelled_at"):
        return "cancelled"
    if order.get("financial_status") in ("refunded", "voided"):
        return order["financial_status"]
    fulfillments = order.get("fulfillments") or []
    if any((f.get("shipment_status") or "") == "delivered" for f in fulfillments):
        return "delivered"
    if order.get("fulfillment_status") in ("fulfilled", "partial", "partially_fulfilled"):
        return "shipped" if order["fulfillment_status"] == "fulfilled" else "partially_shipped"
    if order.get("financial_status") in ("paid", "partially_refunded"):
        return "paid"
    return order.get("financial_status") or "open"


def _safe_url(url: Any) -> str | None:
    if not url:
        return None
    parsed = urlparse(str(url))
    return str(url) if parsed.scheme in ("http", "https") and parsed.netloc else None


def _view(row: dict[str, Any], *, mentioned: bool, owned: bool) -> dict[str, Any]:
    data = row["data"] or {}
    account = state.desk.registry.account_by_id(row["account"]) if state.desk else None
    shop = account.settings.shop if account else None
    fulfillments = []
    for f in data.get("fulfillments") or []:
        fulfillments.append({**f, "tracking": [{**t, "url": _safe_url(t.get("url"))} for t in f.get("tracking") or []]})
    return {
        "source": "shopify", "account": account.name if account else None, "store": shop,
        "row_id": row["id"], "id": data.get("id"), "order_id": row["order_id"], "name": row["name"],
        "status": display_status(data), "financial_status": data.get("financial_status"),
        "fulfillment_status": data.get("fulfillment_status"), "cancelled_at": data.get("cancelled_at"),
        "placed_at": data.get("created_at"), "total": data.get("total"), "currency": data.get("currency"),
        "total_refunded": data.get("total_refunded"), "payment_gateways": data.get("payment_gateways") or [],
        "items": data.get("line_items") or [], "fulfillments": fulfillments, "refunds": data.get("refunds") or [],
        "note": data.get("note") or "", "tags": data.get("tags") or [],
        "status_url": _safe_url(data.get("status_url")),
        "admin_url": f"https://{shop}/admin/orders/{row['order_id']}" if shop else None,
        "mentioned": mentioned, "customer_match": owned,
    }


async def _customer_ids(customer: dict[str, Any]) -> list[int]:
    if not customer.get("id"):
        return []
    ids = {customer["id"]}
    frontier = set(ids)
    while frontier:  # customers merged into this one keep their orders
        rows = await Customer.select(Customer.id).where(Customer.merged_into.is_in(list(frontier)))
        frontier = {r["id"] for r in rows} - ids
        ids |= frontier
    return sorted(ids)


async def build_context(customer: dict[str, Any], ticket: dict[str, Any] | None) -> dict[str, Any]:
    limit = state.settings().context_orders
    ids = await _customer_ids(customer)
    owned_rows = await ShopifyOrder.select().output(load_json=True).where(ShopifyOrder.customer.is_in(ids)).order_by(
        ShopifyOrder.placed_at, ascending=False).limit(limit) if ids else []
    mentioned_rows: list[dict[str, Any]] = []
    if ticket and ticket.get("id"):
        links = await ShopifyTicketOrder.select(ShopifyTicketOrder.order_row).where(
            (ShopifyTicketOrder.ticket == ticket["id"]) & ShopifyTicketOrder.order_row.is_not_null()
        ).order_by(ShopifyTicketOrder.id, ascending=False)
        row_ids = [link["order_row"] for link in links]
        if row_ids:
            found = {r["id"]: r for r in await ShopifyOrder.select().output(load_json=True).where(ShopifyOrder.id.is_in(row_ids))}
            mentioned_rows = [found[i] for i in row_ids if i in found]
    mentioned_ids = {r["id"] for r in mentioned_rows}
    orders = [_view(r, mentioned=True, owned=r["customer"] in ids) for r in mentioned_rows]
    orders += [_view(r, mentioned=False, owned=True) for r in owned_rows if r["id"] not in mentioned_ids]
    primary = next((o for o in orders if o["mentioned"] and o["customer_match"]), None) \
        or next((o for o in orders if o["customer_match"]), None)
    return {"orders": orders, "shopify": {"order": primary, **variables(primary)}} if orders else {
        "orders": [], "shopify": {"order": None, **variables(None)}}


def variables(order: dict[str, Any] | None) -> dict[str, Any]:
    """Template variables and rule fields of the order a conversation is about."""
    if order is None:
        return {"order_number": None, "tracking_url": None, "delivery_estimate": None, "order_status": None,
                "order_value": None, "days_since_fulfillment": None}
    fulfillments = sorted(order["fulfillments"], key=lambda f: f.get("created_at") or "")
    latest = fulfillments[-1] if fulfillments else None
    tracking_url = None
    if latest:
        tracking_url = next((t["url"] for t in latest.get("tracking") or [] if t.get("url")), None)
    days = None
    if latest and parse_time(latest.get("created_at")):
        days = max(0, (clock.now() - parse_time(latest["created_at"])).days)
    try:
        value = float(order.get("total") or 0)
    except ValueError:
        value = None
    return {"order_number": order["name"], "tracking_url": tracking_url,
            "delivery_estimate": latest.get("estimated_delivery_at") if latest else None,
            "order_status": order["status"], "order_value": value, "days_since_fulfillment": days}


def _money(amount: Any, currency: Any) -> str:
    return f"{escape(amount or '0.00')} {escape(currency or '')}".strip()


def _date(value: Any) -> str:
    parsed = parse_time(value)
    return escape(parsed.strftime("%Y-%m-%d") if isinstance(parsed, datetime) else (value or ""))


def render_order(order: dict[str, Any], *, can_act: bool = False, money_role: str | None = None,
                 ticket_id: int | None = None, message: str = "", error: bool = False) -> str:
    """One order. `can_act`: the viewer may refund and cancel (the action forms follow);
    `money_role`: the viewer is an agent without that role (a note says who may)."""
    t_mentioned_in_this_ticket = _("Mentioned in this ticket; it belongs to another customer record.")
    t_placed = _("Placed")
    t_total = _("Total")
    t_payment = _("Payment")
    t_fulfillment = _("Fulfillment")
    t_refund = _("Refund")
    t_note = _("Note")
    t_tags = _("Tags")
    parts = [f'<section class="shopify-order" data-order-row="{int(order["row_id"])}">']
    title = escape(order["name"] or order["order_id"])
    if order.get("admin_url"):
        title = f'<a href="{escape(order["admin_url"])}" target="_blank" rel="noopener noreferrer">{title}</a>'
    status = _(STATUS_LABELS[order["status"]]) if order["status"] in STATUS_LABELS else order["status"]
    parts.append(f'<h4>{title} <span class="status status-{escape(order["status"])}">{escape(status)}</span>'
                 f' <small>{escape(order.get("store") or "")}</small></h4>')
    if order["mentioned"] and not order["customer_match"]:
        parts.append(f'<p class="warning">{escape(t_mentioned_in_this_ticket)}</p>')
    via = escape(_("via {gateways}")).format(gateways=", ".join(order["payment_gateways"])) \
        if order["payment_gateways"] else ""
    parts.append(f'<p>{escape(t_placed)} {_date(order.get("placed_at"))} · {escape(t_total)} '
                 f'{_money(order["total"], order["currency"])}'
                 f' · {escape(t_payment)} {escape(order.get("financial_status") or "")}{" " + via if via else ""}</p>')
    if order["items"]:
        parts.append("<ul class=\"items\">")
        for item in order["items"]:
            variant = f" ({escape(item['variant_title'])})" if item.get("variant_title") else ""
            parts.append(f"<li>{int(item.get('quantity') or 0)} × {escape(item.get('title') or '')}{variant}"
                         f" — {_money(item.get('price'), order['currency'])}</li>")
        parts.append("</ul>")
    for f in order["fulfillments"]:
        links = []
        for t in f.get("tracking") or []:
            label = escape(" ".join(p for p in (t.get("company"), t.get("number")) if p) or _("tracking"))
            links.append(f'<a href="{escape(t["url"])}" target="_blank" rel="noopener noreferrer">{label}</a>'
                         if t.get("url") else str(label))
        eta = " · " + escape(_("arrives {date}")).format(date=Markup(_date(f.get("estimated_delivery_at")))) \
            if f.get("estimated_delivery_at") else ""
        parts.append(f'<p class="fulfillment">{escape(t_fulfillment)} {escape(f.get("status") or "")}'
                     f'{" / " + escape(f["shipment_status"]) if f.get("shipment_status") else ""}'
                     f' {_date(f.get("created_at"))}{eta}{": " + ", ".join(links) if links else ""}</p>')
    for r in order["refunds"]:
        parts.append(f'<p class="refund">{escape(t_refund)} {_money(r.get("amount"), order["currency"])} {_date(r.get("created_at"))}'
                     f'{" — " + escape(r["note"]) if r.get("note") else ""}</p>')
    if order["note"]:
        parts.append(f'<p class="note">{escape(t_note)}: {escape(order["note"])}</p>')
    if order["tags"]:
        parts.append(f'<p class="tags">{escape(t_tags)}: {escape(", ".join(order["tags"]))}</p>')
    if can_act:
        from plugins.shopify.inbox import actions_html

        parts.append(actions_html(order, ticket_id, message, error))
    elif money_role:
        parts.append(f'<p class="muted order-actions-note">'
                     f'{escape(_("Refunds and cancellations need the {role} role.").format(role=money_role))}</p>')
    parts.append("</section>")
    return "".join(parts)


def render_panel_html(context: dict[str, Any], agent: dict[str, Any] | None = None,
                      ticket_id: int | None = None) -> dict[str, Any] | None:
    """The panel; the money actions only for an agent whose role may take them (none for read-only)."""
    orders = [o for o in context.get("orders") or [] if o.get("source") == "shopify"]
    if not orders:
        return None
    from plugins.shopify.inbox import may_move_money

    can_act = may_move_money(agent)
    writer = bool(agent) and agent.get("role") in ("agent", "admin")  # type: ignore[union-attr]
    money_role = state.settings().money_actions_role if writer and not can_act else None
    return {"title": _("Shopify orders"), "html": "".join(
        render_order(o, can_act=can_act, money_role=money_role, ticket_id=ticket_id) for o in orders)}


async def link_mentions(ticket_id: int, message_id: int) -> list[str]:
    """Link the ticket to the orders its message names (the channel's order ids and "#1001" in the text)."""
    message = await Message.select(Message.text, Message.subject, Message.metadata).where(Message.id == message_id).output(load_json=True).first()
    if message is None:
        return []
    names = order_names_in(f"{message['subject'] or ''}\n{message['text'] or ''}")
    channel_ids = [str(o) for o in (message["metadata"] or {}).get("order_ids") or []]
    names += [o if o.startswith("#") else f"#{o}" for o in channel_ids if o.lstrip("#").isdigit()]
    names = list(dict.fromkeys(names))
    if not names and not channel_ids:
        return []
    where = ShopifyOrder.name.is_in(names) if names else None
    numeric = [o for o in channel_ids if o.isdigit()]
    if numeric:
        where = ShopifyOrder.order_id.is_in(numeric) if where is None else where | ShopifyOrder.order_id.is_in(numeric)
    rows = await ShopifyOrder.select(ShopifyOrder.id, ShopifyOrder.name).where(where) if where is not None else []
    linked: list[str] = []
    async with db.transaction():
        for row in rows:
            linked.append(await _link(ticket_id, row["name"] or f"#{row['id']}", row["id"], message_id))
        for name in names:
            if not any(r["name"] == name for r in rows):
                linked.append(await _link(ticket_id, name, None, message_id))  # resolved when the order arrives
    return [n for n in linked if n]


async def _link(ticket_id: int, name: str, row_id: int | None, message_id: int) -> str:
    exists = await ShopifyTicketOrder.exists().where(
        (ShopifyTicketOrder.ticket == ticket_id) & (ShopifyTicketOrder.order_name == name))
    if exists:
        if row_id is not None:
            await ShopifyTicketOrder.update({ShopifyTicketOrder.order_row: row_id}).where(
                (ShopifyTicketOrder.ticket == ticket_id) & (ShopifyTicketOrder.order_name == name)
                & ShopifyTicketOrder.order_row.is_null())
        return ""
    await ShopifyTicketOrder.insert(ShopifyTicketOrder(ticket=ticket_id, order_name=name, order_row=row_id,
                                                       message=message_id, created_at=clock.now()))
    return name
