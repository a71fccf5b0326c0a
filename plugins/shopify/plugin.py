"""Hook implementations of the Shopify plugin."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.plugin_api import hookimpl
from core.plugin_api import Account, ChannelLimits, ChannelType, JobSpec, WebhookRequest
from plugins.shopify import state
from plugins.shopify.settings import ShopifyAccountSettings, ShopifySettings

CHANNEL = "shopify"
MIGRATIONS = str(Path(__file__).resolve().parent / "migrations")
# The ticket events whose message may name an order.
MESSAGE_EVENTS = ("created", "customer_replied")


@hookimpl
def register_channels(register):
    # A store is an account of a channel type that receives webhooks; it sends no messages.
    register(ChannelType(name=CHANNEL, label="Shopify", account_settings=ShopifyAccountSettings,
                         limits=ChannelLimits(max_text_length=0)))


@hookimpl
def register_settings(register):
    register("shopify", ShopifySettings)


@hookimpl
def register_migrations(register):
    register("shopify", MIGRATIONS)


@hookimpl
def register_routes(register):
    from plugins.shopify.actions import ShopifyActions
    from plugins.shopify.inbox import ShopifyInbox

    register(ShopifyActions)
    register(ShopifyInbox)


@hookimpl
def register_jobs(register):
    from plugins.shopify.jobs import SWEEP_EVERY_SECONDS, no_tracking_sweep

    register(JobSpec(name="shopify.no_tracking_sweep", func=no_tracking_sweep, every=SWEEP_EVERY_SECONDS))


@hookimpl
def register_commands(register):
    from plugins.shopify.commands import shopify

    register(shopify)


@hookimpl
def startup(desk):
    state.desk = desk
    return None


@hookimpl
def shutdown(desk):
    if state.desk is desk:
        state.desk = None
    return state.close_clients()


@hookimpl
def parse_webhook(channel_type: str, account: Account, request: WebhookRequest):
    if channel_type != CHANNEL:
        return None
    from plugins.shopify.webhooks import parse

    return parse(account, request, trust_verified=state.settings().trust_verified_email)


@hookimpl
def customer_context(customer: dict[str, Any], ticket: dict[str, Any] | None):
    if state.desk is None:
        return None
    from plugins.shopify.context import build_context

    return build_context(customer, ticket)


@hookimpl
def render_panel(ticket: dict[str, Any], customer: dict[str, Any], context: dict[str, Any],
                 agent: dict[str, Any] | None):
    from plugins.shopify.context import render_panel_html

    return render_panel_html(context, agent, (ticket or {}).get("id"))


@hookimpl
def ticket_event(event):
    if event.name not in MESSAGE_EVENTS or not event.ticket_id or not event.message_id or state.desk is None:
        return None
    from plugins.shopify.context import link_mentions

    return link_mentions(event.ticket_id, event.message_id)
