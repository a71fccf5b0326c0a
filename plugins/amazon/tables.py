"""The plugin's own tables: Amazon conversations, ticket-order links, the order cache and the poll
cursors. Created by plugins/amazon/migrations/."""

from __future__ import annotations

from decimal import Decimal

from piccolo.columns import JSON, Integer, Numeric, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.plugin_api import register_tables


class AmazonConversation(Table, tablename="amazon_conversations"):
    """A ticket that is an Amazon Buyer-Seller Messaging conversation (one row per ticket)."""

    ticket = Integer(unique=True)
    marketplace = Varchar(length=32)  # "amazon.de"
    buyer_address = Varchar(length=254, index=True)  # the anonymised relay address
    seller_address = Varchar(length=254, null=True, default=None)  # the address the relay mail went to
    order_id = Varchar(length=19, null=True, default=None)
    asin = Varchar(length=10, null=True, default=None)
    product = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class AmazonTicketOrder(Table, tablename="amazon_ticket_orders"):
    """A ticket that names an Amazon order; `order_row` is filled once the order is cached."""

    ticket = Integer(index=True)
    order_id = Varchar(length=19, index=True)
    order_row = Integer(null=True, default=None)
    message = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class AmazonOrder(Table, tablename="amazon_orders"):
    """One order from the Orders API, normalized (plugins/amazon/orders.py) into `data`."""

    account = Integer(index=True)  # channel_accounts.id of the seller account
    order_id = Varchar(length=19)
    marketplace_id = Varchar(length=20, default="")
    status = Varchar(length=32, default="")
    buyer_email = Varchar(length=254, null=True, default=None, index=True)  # anonymised relay address
    customer = Integer(null=True, default=None, index=True)  # Relaydesk customers.id
    total = Numeric(digits=(14, 2), default=Decimal("0"))
    currency = Varchar(length=8, default="")
    data = JSON(default={})
    purchased_at = Timestamptz(null=True, default=None)
    amazon_updated_at = Timestamptz(null=True, default=None)
    cached_at = Timestamptz(default=TimestamptzNow())


class AmazonPollState(Table, tablename="amazon_poll_state"):
    """Where the orders poll of each account stands: LastUpdatedAfter for the next run."""

    account = Integer(unique=True)
    last_updated_after = Varchar(length=40)
    polled_at = Timestamptz(default=TimestamptzNow())
    last_error = Text(null=True, default=None)


class AmazonProactiveMessage(Table, tablename="amazon_proactive_messages"):
    """A Messaging API message we sent for an order (audit and duplicate protection)."""

    account = Integer()
    order_id = Varchar(length=19, index=True)
    action = Varchar(length=64)
    text = Text(default="")
    ticket = Integer(null=True, default=None)
    agent = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


AMAZON_TABLES: tuple[type[Table], ...] = (
    AmazonConversation, AmazonTicketOrder, AmazonOrder, AmazonPollState, AmazonProactiveMessage,
)


register_tables(AMAZON_TABLES)  # bound to the desk's database on every connect
