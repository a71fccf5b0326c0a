"""The plugin's own tables: the order cache, returns and cases, conversation links and the account
deletion receipts. Created by plugins/ebay/migrations/."""

from __future__ import annotations

from decimal import Decimal

from piccolo.columns import JSON, Integer, Numeric, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.plugin_api import register_tables


class EbayOrder(Table, tablename="ebay_orders"):
    """One order of one seller account (Sell Fulfillment API), normalized into `data`."""

    account = Integer(index=True)
    order_id = Varchar(length=64)  # orderId, e.g. "12-03456-78901"
    legacy_order_id = Varchar(length=64, null=True, default=None)
    buyer_username = Varchar(length=128, default="", index=True)
    fulfillment_status = Varchar(length=32, default="")  # NOT_STARTED, IN_PROGRESS, FULFILLED
    payment_status = Varchar(length=32, default="")
    total = Numeric(digits=(14, 2), default=Decimal("0"))
    currency = Varchar(length=8, default="")
    item_ids = JSON(default=[])  # legacyItemId of every line item: threads a conversation about an item to its order
    data = JSON(default={})
    placed_at = Timestamptz(null=True, default=None)
    ebay_updated_at = Timestamptz(null=True, default=None)
    cached_at = Timestamptz(default=TimestamptzNow())


class EbayDispute(Table, tablename="ebay_disputes"):
    """A return request or a case (item not received, not as described) and what eBay expects now."""

    account = Integer(index=True)
    kind = Varchar(length=16)  # "return" or "case"
    dispute_id = Varchar(length=64)
    thread_key = Varchar(length=100, index=True)  # the tickets' thread key: "return:<id>" / "case:<id>"
    order_id = Varchar(length=64, null=True, default=None)
    item_id = Varchar(length=64, null=True, default=None)
    transaction_id = Varchar(length=64, null=True, default=None)
    buyer_username = Varchar(length=128, default="", index=True)
    case_type = Varchar(length=32, default="")  # RETURN, ITEM_NOT_RECEIVED, SNAD...
    status = Varchar(length=64, default="")
    state = Varchar(length=64, default="")
    respond_by = Timestamptz(null=True, default=None)
    activity_due = Varchar(length=64, null=True, default=None)
    actions = JSON(default=[])  # the seller's available actions, as eBay names them
    fingerprint = Varchar(length=64, default="")  # what the last stored message said: a change makes a new one
    data = JSON(default={})
    updated_at = Timestamptz(default=TimestamptzNow())


class EbayConversation(Table, tablename="ebay_conversations"):
    """A member conversation (Message API) and the item and order it is about."""

    account = Integer(index=True)
    conversation_id = Varchar(length=64)
    thread_key = Varchar(length=100, index=True)
    buyer_username = Varchar(length=128, default="", index=True)
    item_id = Varchar(length=64, null=True, default=None)
    order_id = Varchar(length=64, null=True, default=None)
    title = Varchar(length=500, default="")
    updated_at = Timestamptz(default=TimestamptzNow())


class EbayDeletion(Table, tablename="ebay_deletions"):
    """A marketplace account deletion notification we acted on: a replay finds it and changes nothing."""

    notification_id = Varchar(length=200)
    summary = JSON(default={})  # counts only; the erased user's name is not kept
    created_at = Timestamptz(default=TimestamptzNow())


EBAY_TABLES: tuple[type[Table], ...] = (EbayOrder, EbayDispute, EbayConversation, EbayDeletion)


register_tables(EBAY_TABLES)  # bound to the desk's database on every connect
