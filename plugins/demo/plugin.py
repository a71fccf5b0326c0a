"""Hook implementations of the demo channel."""

from __future__ import annotations

import random
import secrets

import msgspec

from core.plugin_api import hookimpl
from core.plugin_api import ChannelLimits, ChannelType, InboundMessage, JobSpec, SendResult
from plugins.demo.samples import CUSTOMERS, MESSAGES

CHANNEL = "demo"


class DemoAccountSettings(msgspec.Struct, forbid_unknown_fields=True):
    label: str = "Demo shop"


class DemoSettings(msgspec.Struct, forbid_unknown_fields=True):
    # Seconds between simulated customer messages.
    traffic_every: float = 15.0


@hookimpl
def register_channels(register):
    register(ChannelType(name=CHANNEL, label="Demo", account_settings=DemoAccountSettings,
                         limits=ChannelLimits(max_text_length=4000)))


@hookimpl
def register_settings(register):
    register("demo", DemoSettings)


@hookimpl
def register_commands(register):
    from plugins.demo.cli import demo

    register(demo)


@hookimpl
def register_jobs(register):
    # Ticks every few seconds; the traffic_every setting decides when a message really arrives.
    register(JobSpec(name="demo_traffic", func=_traffic_job, every=3.0))


_last_sent = {"at": 0.0}


def sample_message(rng: random.Random) -> InboundMessage:
    from plugins.demo.stores import order_numbers

    name, email, language = rng.choice(CUSTOMERS)
    # the customer's own order in the demo's Shopify store, so the ticket's panel shows it
    numbers = order_numbers(email) or ["#1001"]
    text = rng.choice(MESSAGES[language]).format(order=rng.choice(numbers).lstrip("#"))
    return InboundMessage(
        external_id=f"demo-{secrets.token_hex(8)}", sender_handle=email, sender_name=name, sender_email=email,
        email_verified=True, text=text, language=language,
    )


async def _traffic_job(ctx) -> int:
    from core.plugin_api import ingest

    import time

    desk = ctx["desk"]
    every = desk.registry.plugin_settings["demo"].traffic_every
    if time.monotonic() - _last_sent["at"] < every:
        return 0
    _last_sent["at"] = time.monotonic()
    accounts = [a for a in desk.registry.accounts.values() if a.channel_type == CHANNEL]
    if not accounts:
        return 0
    results = await ingest(desk, accounts[0], [sample_message(random.Random())])
    return len(results)


@hookimpl
def send_message(channel_type, account, message):
    if channel_type != CHANNEL:
        return None
    return _deliver(message)


async def _deliver(message) -> SendResult:
    return SendResult(external_id=f"demo-out-{message.message_id}", status="delivered")


@hookimpl
def register_routes(register):
    from plugins.demo.fakes import DemoPlatforms
    from plugins.demo.store_page import demo_store

    register(DemoPlatforms)
    register(demo_store)


@hookimpl
def startup(desk):
    from plugins.demo.fakes import configure

    configure(desk.settings.data_dir)  # the demo Shopify store keeps its refunds beside the desk's data
    return None
