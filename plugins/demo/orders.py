"""Sample orders for the demo's customers, so the ticket view shows what a seller gets: the
customer's orders in a side panel and in reply templates (`{{ orders[0].number }}`).

Made up from the customer's email (the same customer always has the same orders); nothing is stored
and nothing leaves the process.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from markupsafe import escape

from web import i18n

_ = i18n.translator(Path(__file__).parent / "translations")

PRODUCTS = [("Waterproof jacket", 89.0), ("Travel backpack 30 L", 64.5), ("Ceramic mug set", 24.9),
            ("Wireless charger", 29.0), ("Merino scarf", 39.0), ("Running shoes", 119.0)]
STATUSES = ("unfulfilled", "shipped", "delivered")


def N_(message: str) -> str:
    return message


STATUS_LABELS = {"unfulfilled": N_("Not shipped yet"), "shipped": N_("Shipped"), "delivered": N_("Delivered")}


def orders_for(email: str | None) -> list[dict[str, Any]]:
    """One to three orders for a customer of the demo, newest first; none without an email."""
    if not email:
        return []
    seed = hashlib.sha256(email.lower().encode()).digest()
    orders = []
    for i in range(1 + seed[0] % 3):
        title, price = PRODUCTS[seed[i + 1] % len(PRODUCTS)]
        quantity = 1 + seed[i + 4] % 2
        status = STATUSES[min(i + seed[i + 7] % 2, 2)]
        orders.append({"source": "demo", "number": f"#{100000 + int.from_bytes(seed[8 + 2 * i:10 + 2 * i], 'big') % 900000}",
                       "status": status, "total": f"{price * quantity:.2f}", "currency": "EUR",
                       "items": [{"title": title, "quantity": quantity}],
                       "tracking": f"DEMO{seed[i + 12]:03d}{seed[i + 13]:03d}" if status != "unfulfilled" else None})
    return orders


def render_panel_html(context: dict[str, Any]) -> dict[str, Any] | None:
    orders = [o for o in context.get("orders") or [] if o.get("source") == "demo"]
    if not orders:
        return None
    parts = []
    for order in orders:
        items = ", ".join(f"{escape(i['title'])} × {int(i['quantity'])}" for i in order["items"])
        tracking = (f'<p class="muted">{escape(_("Tracking"))}: {escape(order["tracking"])}</p>'
                    if order.get("tracking") else "")
        parts.append(f'<div class="order"><p><strong>{escape(order["number"])}</strong> · '
                     f'{escape(_(STATUS_LABELS[order["status"]]))} · {escape(order["total"])} {escape(order["currency"])}</p>'
                     f'<p class="muted">{items}</p>{tracking}</div>')
    return {"title": _("Orders (demo shop)"), "html": "".join(parts)}
