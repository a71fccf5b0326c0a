"""Shopify webhook bodies as typed structures (the Admin REST resources Shopify sends as webhook
payloads, and the mandatory privacy webhooks' documented bodies).

Only the fields the plugin reads are declared; others are ignored and never stored. A declared field
of the wrong type fails the whole webhook with a 400 that names the field: Shopify retries a failed
delivery, and a body that does not match its documentation will not match it on a retry either, so
the 400 (visible in the app's webhook delivery log) is the honest answer.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

Id = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]  # REST ids are 64-bit integers
# Sizes of the columns they are cached in, so a longer value is a 400 rather than a database error.
Status = Annotated[str, msgspec.Meta(max_length=32)]
Phone = Annotated[str, msgspec.Meta(max_length=32)]
Email = Annotated[str, msgspec.Meta(max_length=254)]
PersonName = Annotated[str, msgspec.Meta(max_length=95)]
# REST sends amounts as decimal strings ("409.94"); the cache holds 12 digits before the point.
Money = Annotated[str, msgspec.Meta(pattern=r"^-?[0-9]{1,12}(\.[0-9]{1,6})?$")]


class Wire(msgspec.Struct, omit_defaults=True):
    """Base: unset fields are left out of to_builtins, so normalize sees only what Shopify sent."""


class Address(Wire):
    phone: Phone | None = None


class Customer(Wire):
    id: Id | None = None
    email: Email | None = None
    phone: Phone | None = None
    first_name: PersonName | None = None
    last_name: PersonName | None = None
    verified_email: bool | None = None
    default_address: Address | None = None


class Transaction(Wire):
    kind: str | None = None
    status: str | None = None
    amount: Money | None = None


class Refund(Wire):
    id: Id | None = None
    order_id: Id | None = None
    created_at: str | None = None
    note: str | None = None
    transactions: list[Transaction] = []


class Fulfillment(Wire):
    id: Id | None = None
    order_id: Id | None = None
    status: Status | None = None
    shipment_status: Status | None = None
    created_at: str | None = None
    updated_at: str | None = None
    estimated_delivery_at: str | None = None
    tracking_company: str | None = None
    tracking_number: str | None = None
    tracking_numbers: list[str] = []
    tracking_url: str | None = None
    tracking_urls: list[str] = []


class LineItem(Wire):
    id: Id | None = None
    title: str | None = None
    name: str | None = None
    variant_title: str | None = None
    sku: str | None = None
    quantity: int | None = None
    price: Money | None = None


class Order(Wire):
    id: Id | None = None
    admin_graphql_api_id: str | None = None
    name: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    order_number: int | None = None
    email: Email | None = None
    contact_email: Email | None = None
    phone: Phone | None = None
    created_at: str | None = None
    updated_at: str | None = None
    cancelled_at: str | None = None
    cancel_reason: str | None = None
    closed_at: str | None = None
    financial_status: Status | None = None
    fulfillment_status: Status | None = None
    currency: Annotated[str, msgspec.Meta(max_length=8)] | None = None
    current_total_price: Money | None = None
    total_price: Money | None = None
    subtotal_price: Money | None = None
    payment_gateway_names: list[str] = []
    gateway: str | None = None
    note: str | None = None
    tags: str | None = None  # comma-separated, as REST sends it
    order_status_url: str | None = None
    customer: Customer | None = None
    shipping_address: Address | None = None
    billing_address: Address | None = None
    line_items: list[LineItem] = []
    fulfillments: list[Fulfillment] = []
    refunds: list[Refund] = []


# --- the mandatory privacy webhooks (customers/data_request, customers/redact, shop/redact) -----


class PrivacyCustomer(Wire):
    id: Id | None = None
    email: Email | None = None
    phone: Phone | None = None


class DataRequestId(Wire):
    id: Id


class DataRequest(Wire):
    shop_id: Id | None = None
    shop_domain: str | None = None
    orders_requested: list[Id] = []
    customer: PrivacyCustomer | None = None
    data_request: DataRequestId | None = None


class CustomerRedact(Wire):
    shop_id: Id | None = None
    shop_domain: str | None = None
    customer: PrivacyCustomer | None = None
    orders_to_redact: list[Id] = []


class ShopRedact(Wire):
    shop_id: Id | None = None
    shop_domain: str | None = None
