"""The plugin's own tables: the order cache, its fulfillments, webhook receipts, ticket links and
privacy requests. Created by plugins/shopify/migrations/."""

from __future__ import annotations

from decimal import Decimal

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, Numeric, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.plugin_api import register_tables


class ShopifyOrder(Table, tablename="shopify_orders"):
    """One order of one store, normalized (see plugins/shopify/normalize.py) into `data`."""

    account = Integer(index=True)  # channel_accounts.id of the store
    order_id = Varchar(length=32)  # Shopify's numeric id (legacyResourceId)
    name = Varchar(length=64, default="", index=True)  # "#1001"
    email = Varchar(length=254, null=True, default=None, index=True)
    phone = Varchar(length=32, null=True, default=None, index=True)
    shopify_customer_id = Varchar(length=32, null=True, default=None, index=True)
    customer = Integer(null=True, default=None, index=True)  # Relaydesk customers.id
    financial_status = Varchar(length=32, null=True, default=None)
    fulfillment_status = Varchar(length=32, null=True, default=None)
    total = Numeric(digits=(14, 2), default=Decimal("0"))
    currency = Varchar(length=8, default="")
    data = JSON(default={})
    placed_at = Timestamptz(null=True, default=None)
    shopify_updated_at = Timestamptz(null=True, default=None)
    cached_at = Timestamptz(default=TimestamptzNow())


class ShopifyFulfillment(Table, tablename="shopify_fulfillments"):
    """A fulfillment, kept apart so the no-tracking sweep reads an index, not every order's JSON."""

    order_row = ForeignKey(ShopifyOrder, on_delete=OnDelete.cascade)
    fulfillment_id = Varchar(length=32)
    status = Varchar(length=32, default="")
    shipment_status = Varchar(length=32, null=True, default=None)
    delivered = Boolean(default=False)
    tracking_updated_at = Timestamptz(null=True, default=None, index=True)
    created_at = Timestamptz(null=True, default=None)
    stale_notified_at = Timestamptz(null=True, default=None)


class ShopifyWebhook(Table, tablename="shopify_webhooks"):
    """Every webhook id we applied: a replayed delivery finds its row and changes nothing."""

    account = Integer()
    webhook_id = Varchar(length=128)
    topic = Varchar(length=64)
    received_at = Timestamptz(default=TimestamptzNow())


class ShopifyTicketOrder(Table, tablename="shopify_ticket_orders"):
    """A ticket that mentions an order (by id from the channel or by "#1001" in its text)."""

    ticket = Integer(index=True)
    order_name = Varchar(length=64)  # "#1001", also kept when the order is not cached yet
    order_row = ForeignKey(ShopifyOrder, null=True, on_delete=OnDelete.set_null)
    message = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class ShopifyPrivacyRequest(Table, tablename="shopify_privacy_requests"):
    """What we did for a mandatory privacy webhook: the export written or the erasure done."""

    account = Integer()
    topic = Varchar(length=64)
    shopify_customer_id = Varchar(length=32, null=True, default=None)
    export_path = Text(null=True, default=None)
    summary = JSON(default={})
    created_at = Timestamptz(default=TimestamptzNow())


SHOPIFY_TABLES: tuple[type[Table], ...] = (
    ShopifyOrder, ShopifyFulfillment, ShopifyWebhook, ShopifyTicketOrder, ShopifyPrivacyRequest,
)


register_tables(SHOPIFY_TABLES)  # bound to the desk's database on every connect
