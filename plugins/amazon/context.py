"""The commerce context of an Amazon conversation: orders for the ticket view, template variables
and rule fields, and the panel.

customer_context returns::

    {"orders": [order, ...],               # merged with other commerce plugins' orders
     "amazon": {"conversation": bool, "marketplace": "amazon.de", "buyer_address": ...,
                "asin": ..., "product": ..., "order": order | None, "order_number": "302-...",
                "order_status": "Shipped", "order_value": 25.0, "latest_delivery_date": ...}}

Orders come from the cache: those of the customer (attached through the buyer's relay address)
and those the ticket names. Only an order of this customer feeds the variables, so a template never
quotes another buyer's order.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from markupsafe import escape

from plugins.amazon.catalog import _
from plugins.amazon.orders import parse_time
from plugins.amazon.tables import AmazonConversation, AmazonOrder, AmazonTicketOrder


def _view(row: dict[str, Any], *, mentioned: bool, owned: bool) -> dict[str, Any]:
    data = row["data"] or {}
    return {
        "source": "amazon", "row_id": row["id"], "id": row["order_id"], "order_id": row["order_id"],
        "name": row["order_id"], "marketplace": data.get("marketplace"), "status": data.get("status") or row["status"],
        "placed_at": data.get("purchased_at"), "total": data.get("total"), "currency": data.get("currency"),
        "fulfillment_channel": data.get("fulfillment_channel"), "is_prime": data.get("is_prime"),
        "latest_ship_date": data.get("latest_ship_date"), "latest_delivery_date": data.get("latest_delivery_date"),
        "items": data.get("items") or [], "mentioned": mentioned, "customer_match": owned,
    }


def variables(conversation: dict[str, Any] | None, order: dict[str, Any] | None) -> dict[str, Any]:
    value = None
    if order is not None:
        try:
            value = float(order.get("total") or 0)
        except ValueError:
            value = None
    return {
        "conversation": conversation is not None,
        "marketplace": conversation["marketplace"] if conversation else None,
        "buyer_address": conversation["buyer_address"] if conversation else None,
        "asin": conversation["asin"] if conversation else None,
        "product": conversation["product"] if conversation else None,
        "order": order, "order_number": order["order_id"] if order else (conversation or {}).get("order_id"),
        "order_status": order["status"] if order else None, "order_value": value,
        "latest_delivery_date": order["latest_delivery_date"] if order else None,
    }


async def build_context(customer: dict[str, Any], ticket: dict[str, Any] | None, limit: int) -> dict[str, Any]:
    customer_id = customer.get("id")
    owned_rows = await AmazonOrder.select().output(load_json=True).where(AmazonOrder.customer == customer_id).order_by(
        AmazonOrder.purchased_at, ascending=False).limit(limit) if customer_id else []
    conversation = None
    mentioned_rows: list[dict[str, Any]] = []
    pending: list[str] = []
    if ticket and ticket.get("id"):
        conversation = await AmazonConversation.select().where(AmazonConversation.ticket == ticket["id"]).first()
        links = await AmazonTicketOrder.select().where(AmazonTicketOrder.ticket == ticket["id"]).order_by(AmazonTicketOrder.id)
        ids = [link["order_row"] for link in links if link["order_row"]]
        pending = [link["order_id"] for link in links if not link["order_row"]]
        if ids:
            found = {r["id"]: r for r in await AmazonOrder.select().output(load_json=True).where(AmazonOrder.id.is_in(ids))}
            mentioned_rows = [found[i] for i in ids if i in found]
    mentioned_ids = {r["id"] for r in mentioned_rows}
    orders = [_view(r, mentioned=True, owned=r["customer"] == customer_id) for r in mentioned_rows]
    orders += [_view(r, mentioned=False, owned=True) for r in owned_rows if r["id"] not in mentioned_ids]
    if not orders and conversation is None:
        return {"orders": [], "amazon": variables(None, None)}
    primary = next((o for o in orders if o["mentioned"] and o["customer_match"]), None) \
        or next((o for o in orders if o["customer_match"]), None)
    amazon = variables(conversation, primary)
    amazon["pending_orders"] = pending
    return {"orders": orders, "amazon": amazon}


def _date(value: Any) -> str:
    parsed = parse_time(value)
    return str(escape(parsed.strftime("%Y-%m-%d") if parsed else (value or "")))


def render_order(order: dict[str, Any], language: str | None = None, *, can_message: bool = False,
                 ticket_id: int | None = None) -> str:
    """One cached order, in `language` (the inbox's current language when None). `can_message`: the
    viewer may send proactive messages (a button asks Amazon which ones the order allows now)."""
    t_order = _("Order", language)
    t_named_in_this_ticket_it_ = _("Named in this ticket; it belongs to another customer record.", language)
    t_placed = _("Placed", language)
    t_total = _("Total", language)
    t_ship_by = _("Ship by", language)
    t_deliver_by = _("Deliver by", language)
    parts = [f'<section class="amazon-order" data-order-row="{int(order["row_id"])}">',
             f'<h4>{escape(t_order)} {escape(order["order_id"])} <span class="status">{escape(order["status"] or "")}</span>'
             f' <small>{escape(order.get("marketplace") or "")}</small></h4>']
    if order["mentioned"] and not order["customer_match"]:
        parts.append(f'<p class="warning">{escape(t_named_in_this_ticket_it_)}</p>')
    parts.append(f'<p>{escape(t_placed)} {_date(order.get("placed_at"))} · {escape(t_total)} '
                 f'{escape(order.get("total") or "0.00")} {escape(order.get("currency") or "")}'
                 f'{" · Prime" if order.get("is_prime") else ""}'
                 f'{" · " + escape(order["fulfillment_channel"]) if order.get("fulfillment_channel") else ""}</p>')
    if order.get("latest_ship_date") or order.get("latest_delivery_date"):
        parts.append(f'<p>{escape(t_ship_by)} {_date(order.get("latest_ship_date"))} · '
                     f'{escape(t_deliver_by)} {_date(order.get("latest_delivery_date"))}</p>')
    if order["items"]:
        parts.append('<ul class="items">')
        for item in order["items"]:
            parts.append(f'<li>{int(item.get("quantity") or 0)} × {escape(item.get("title") or "")} '
                         f'<small>{escape(item.get("asin") or "")}</small></li>')
        parts.append("</ul>")
    if can_message:
        t_message_the_buyer = _("Message the buyer…", language)
        url = f"/inbox/plugins/amazon/orders/{quote(str(order['order_id']), safe='-')}/actions?ticket_id={int(ticket_id or 0) or ''}"
        parts.append(f'<div class="amazon-actions order-actions"><button type="button" hx-get="{escape(url)}" '
                     f'hx-target="closest .amazon-actions" hx-swap="innerHTML">'
                     f'{escape(t_message_the_buyer)}</button></div>')
    parts.append("</section>")
    return "".join(parts)


def render_panel_html(context: dict[str, Any], language: str | None, seller_address: str | None,
                      can_message: bool = False, ticket_id: int | None = None) -> dict[str, Any] | None:
    t_amazon_conversation_on_m = _("Amazon conversation on {marketplace}", language)
    t_buyer_relay_address = _("Buyer (relay address)", language)
    t_product = _("Product", language)
    t_replies_go_out_as_plain_ = _("Replies go out as plain text from {address}, without links, contact details, "
                                   "quoted history or feedback requests.", language)
    t_order = _("Order", language)
    t_not_in_the_order_cache_y = _("Not in the order cache yet (it arrives with the next orders poll).", language)
    amazon = context.get("amazon") or {}
    orders = [o for o in context.get("orders") or [] if o.get("source") == "amazon"]
    if not orders and not amazon.get("conversation"):
        return None
    parts = []
    if amazon.get("conversation"):
        parts.append(f'<section class="amazon-conversation"><h4>{escape(t_amazon_conversation_on_m.format(marketplace=amazon.get("marketplace") or ""))}</h4>'
                     f'<p>{escape(t_buyer_relay_address)}: {escape(amazon.get("buyer_address") or "")}</p>')
        if amazon.get("asin"):
            parts.append(f'<p>{escape(t_product)}: {escape(amazon.get("product") or "")} <small>{escape(amazon["asin"])}</small></p>')
        if seller_address:
            parts.append(f'<p class="muted">{escape(t_replies_go_out_as_plain_.format(address=seller_address))}</p>')
        for order_id in amazon.get("pending_orders") or []:
            parts.append(f'<p>{escape(t_order)} {escape(order_id)}: {escape(t_not_in_the_order_cache_y)}</p>')
        parts.append("</section>")
    parts += [render_order(o, language, can_message=can_message, ticket_id=ticket_id) for o in orders]
    return {"title": _("Amazon", language), "html": "".join(parts)}
