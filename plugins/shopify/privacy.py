"""The mandatory privacy webhooks, done for real.

customers/data_request: write a JSON file under <data_dir>/privacy/shopify/ with everything we hold
about the customer: the core's customer rows, identities, tickets, messages and attachment metadata
(core.privacy.export_customers) and this plugin's cached orders; record it and audit it.
customers/redact: delete the customer's cached orders and erase Relaydesk's own copies (customer,
identities, tickets, messages, attachment rows and files) through core.privacy.
shop/redact: delete everything cached for the store, its customers' Shopify identities, the customers
built from that data alone (one who also wrote in through a channel keeps their record) and the
store's data-request exports.

Which Relaydesk customers a request names: the one holding the Shopify identity "<shop>#<id>", the
ones linked to the orders named in the request or cached for that Shopify customer, and any whose
*verified* email or phone matches. An unverified address match is not enough to erase or export.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.plugin_api import audit, clock, privacy as core_privacy
from core.plugin_api import Identity, Ticket
from core.plugin_api import Account
from plugins.shopify.cache import CHANNEL, customer_handle
from plugins.shopify.normalize import legacy
from plugins.shopify.tables import (
    ShopifyFulfillment, ShopifyOrder, ShopifyPrivacyRequest, ShopifyTicketOrder, ShopifyWebhook,
)

if TYPE_CHECKING:
    from core.plugin_api import Desk

ACTOR = "shopify:privacy"


def _customer_part(payload: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    c = payload.get("customer") or {}
    email = str(c["email"]).strip().lower() if c.get("email") else None
    return (legacy(c["id"]) if c.get("id") else None), email, (c.get("phone") or None)


async def _orders_for(account: Account, shopify_id: str | None, email: str | None, order_ids: list[Any]) -> list[dict[str, Any]]:
    where = None
    conditions = []
    if shopify_id:
        conditions.append(ShopifyOrder.shopify_customer_id == shopify_id)
    if email:
        conditions.append(ShopifyOrder.email == email)
    if order_ids:
        conditions.append(ShopifyOrder.order_id.is_in([legacy(o) for o in order_ids]))
    for condition in conditions:
        where = condition if where is None else where | condition
    if where is None:
        return []
    return await ShopifyOrder.select().output(load_json=True).where((ShopifyOrder.account == account.id) & where).order_by(ShopifyOrder.id)


async def _customers_for(account: Account, shopify_id: str | None, email: str | None, phone: str | None,
                         orders: list[dict[str, Any]]) -> list[int]:
    found: set[int] = {o["customer"] for o in orders if o["customer"]}
    if shopify_id:
        rows = await Identity.select(Identity.customer).where(
            (Identity.channel_type == CHANNEL) & (Identity.handle == customer_handle(account, shopify_id)))
        found |= {r["customer"] for r in rows}
    if email:
        rows = await Identity.select(Identity.customer).where(
            (Identity.email == email) & (Identity.email_verified == True))  # noqa: E712
        found |= {r["customer"] for r in rows}
    if phone:
        rows = await Identity.select(Identity.customer).where(
            (Identity.phone == phone) & (Identity.phone_verified == True))  # noqa: E712
        found |= {r["customer"] for r in rows}
    return sorted(found)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)[:64] or "x"


async def data_request(desk: "Desk", account: Account, payload: dict[str, Any]) -> tuple[list[Any], Any]:
    shopify_id, email, phone = _customer_part(payload)
    orders = await _orders_for(account, shopify_id, email, list(payload.get("orders_requested") or []))
    customers = await _customers_for(account, shopify_id, email, phone, orders)
    export = {
        "request": {"topic": "customers/data_request", "shop_domain": payload.get("shop_domain"),
                    "shop_id": payload.get("shop_id"), "customer": payload.get("customer"),
                    "orders_requested": payload.get("orders_requested"),
                    "data_request": payload.get("data_request"), "exported_at": clock.now().isoformat()},
        "relaydesk": await core_privacy.export_customers(customers),
        "shopify_orders": audit._jsonable([{**o, "total": str(o["total"])} for o in orders]),
    }
    request_id = str((payload.get("data_request") or {}).get("id") or clock.now().strftime("%Y%m%d%H%M%S%f"))
    folder = Path(desk.data_dir) / "privacy" / "shopify"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{_safe(account.name)}-data-request-{_safe(request_id)}-{_safe(shopify_id or 'unknown')}.json"
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(export, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    tmp.replace(target)
    relative = str(target.relative_to(Path(desk.data_dir)))
    summary = {"customers": len(customers), "orders": len(orders),
               "messages": len(export["relaydesk"]["messages"]), "tickets": len(export["relaydesk"]["tickets"])}
    await ShopifyPrivacyRequest.insert(ShopifyPrivacyRequest(
        account=account.id, topic="customers/data_request", shopify_customer_id=shopify_id,
        export_path=relative, summary=summary))
    await audit.record(ACTOR, "shopify.data_request_exported", "channel_account", account.id,
                       {"export_path": relative, **summary})
    return [], None


async def redact_customer(desk: "Desk", account: Account, payload: dict[str, Any]) -> tuple[list[Any], Any]:
    shopify_id, email, phone = _customer_part(payload)
    orders = await _orders_for(account, shopify_id, email, list(payload.get("orders_to_redact") or []))
    customers = await _customers_for(account, shopify_id, email, phone, orders)
    order_rows = [o["id"] for o in orders]
    if order_rows:
        await ShopifyTicketOrder.delete().where(ShopifyTicketOrder.order_row.is_in(order_rows))
        await ShopifyFulfillment.delete().where(ShopifyFulfillment.order_row.is_in(order_rows))
        await ShopifyOrder.delete().where(ShopifyOrder.id.is_in(order_rows))
    plan = await core_privacy.erase_rows(customers, actor=ACTOR, reason=f"Shopify customers/redact ({account.name})")
    summary = {"orders": len(order_rows), **plan.summary()}
    await ShopifyPrivacyRequest.insert(ShopifyPrivacyRequest(
        account=account.id, topic="customers/redact", shopify_customer_id=shopify_id, summary=summary))
    await audit.record(ACTOR, "shopify.customer_redacted", "channel_account", account.id, summary)

    async def after() -> None:
        await core_privacy.remove_files(desk.data_dir, plan)

    return [], after


async def redact_shop(desk: "Desk", account: Account, payload: dict[str, Any]) -> tuple[list[Any], Any]:
    """Erase what this store's data built: its cached orders, the Shopify identities of its customers,
    the Relaydesk customers made from those alone, its data-request exports and webhook receipts.

    A customer who also reached the desk another way (an identity on another channel, or a ticket)
    is the seller's own contact: only this store's identity leaves them."""
    rows = await ShopifyOrder.select(ShopifyOrder.id, ShopifyOrder.customer).where(ShopifyOrder.account == account.id)
    ids = [r["id"] for r in rows]
    prefix = customer_handle(account, "")
    identity_rows = [r for r in await Identity.select(Identity.id, Identity.customer, Identity.handle).where(
        (Identity.channel_type == CHANNEL) & Identity.handle.like(prefix + "%")) if r["handle"].startswith(prefix)]
    candidates = sorted({r["customer"] for r in rows if r["customer"]} | {r["customer"] for r in identity_rows})
    built, kept = [], []
    for customer in candidates:
        family = await core_privacy.with_merged([customer])
        other = await Identity.exists().where(Identity.customer.is_in(family) & Identity.id.not_in(
            [r["id"] for r in identity_rows] or [0]))
        talked = await Ticket.exists().where(Ticket.customer.is_in(family))
        (kept if other or talked else built).append(customer)
    if ids:
        await ShopifyTicketOrder.delete().where(ShopifyTicketOrder.order_row.is_in(ids))
        await ShopifyFulfillment.delete().where(ShopifyFulfillment.order_row.is_in(ids))
        await ShopifyOrder.delete().where(ShopifyOrder.id.is_in(ids))
    if identity_rows:
        await Identity.delete().where(Identity.id.is_in([r["id"] for r in identity_rows]))
    plan = await core_privacy.erase_rows(built, actor=ACTOR, reason=f"Shopify shop/redact ({account.name})")
    exports = await ShopifyPrivacyRequest.select(ShopifyPrivacyRequest.export_path).where(
        (ShopifyPrivacyRequest.account == account.id) & ShopifyPrivacyRequest.export_path.is_not_null())
    await ShopifyPrivacyRequest.delete().where(ShopifyPrivacyRequest.account == account.id)
    # Earlier receipts belong to the shop too; shop/redact's own receipt stays, so a replay of it
    # still changes nothing.
    await ShopifyWebhook.delete().where((ShopifyWebhook.account == account.id) & (ShopifyWebhook.topic != "shop/redact"))
    summary = {"orders": len(ids), "shop_identities": len(identity_rows), "customers_kept": len(kept),
               "shop_domain": payload.get("shop_domain"), **plan.summary()}
    await ShopifyPrivacyRequest.insert(ShopifyPrivacyRequest(account=account.id, topic="shop/redact", summary=summary))
    await audit.record(ACTOR, "shopify.shop_redacted", "channel_account", account.id, summary)

    async def after() -> None:
        await core_privacy.remove_files(desk.data_dir, plan)
        for row in exports:
            (Path(desk.data_dir) / row["export_path"]).unlink(missing_ok=True)

    return [], after
