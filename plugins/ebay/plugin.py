"""Hook implementations of the eBay plugin."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.plugin_api import hookimpl
from core.plugin_api import Account, ChannelLimits, ChannelType, OutboundMessage
from plugins.ebay import state
from plugins.ebay.settings import EbayAccountSettings, EbaySettings

CHANNEL = "ebay"
MIGRATIONS = str(Path(__file__).resolve().parent / "migrations")


@hookimpl
def register_channels(register):
    register(ChannelType(name=CHANNEL, label="eBay", account_settings=EbayAccountSettings,
                         limits=ChannelLimits(max_text_length=2000, max_attachments=0, supports_html=False)))


@hookimpl
def register_settings(register):
    register("ebay", EbaySettings)


@hookimpl
def register_migrations(register):
    register("ebay", MIGRATIONS)


@hookimpl
def register_routes(register):
    from plugins.ebay.deletion import deletion_challenge, deletion_notification

    register(deletion_challenge)
    register(deletion_notification)


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
def poll(channel_type: str, account: Account, cursor: str | None):
    if channel_type != CHANNEL:
        return None
    from plugins.ebay.sync import poll as run

    return run(account, cursor)


@hookimpl
def send_message(channel_type: str, account: Account, message: OutboundMessage):
    if channel_type != CHANNEL:
        return None
    from plugins.ebay.send import send

    return send(account, message)


@hookimpl
def customer_context(customer: dict[str, Any], ticket: dict[str, Any] | None):
    if state.desk is None:
        return None
    from plugins.ebay.context import build_context

    return build_context(customer, ticket)


@hookimpl
def render_panel(ticket: dict[str, Any], customer: dict[str, Any], context: dict[str, Any]):
    from plugins.ebay.context import render_panel_html

    return render_panel_html(context)
