"""Hook implementations of the Amazon plugin."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.plugin_api import hookimpl
from core.plugin_api import ChannelLimits, ChannelType, DraftProblem, JobSpec
from plugins.amazon import state
from plugins.amazon.relay import KIND
from plugins.amazon.settings import AmazonAccountSettings, AmazonSettings

CHANNEL = "amazon"
MIGRATIONS = str(Path(__file__).resolve().parent / "migrations")
MESSAGE_EVENTS = ("created", "customer_replied")


@hookimpl
def register_channels(register):
    # A seller account is an account of a channel type that sends nothing itself: buyers' messages
    # come as relay mail through an email account, replies go back through it.
    register(ChannelType(name=CHANNEL, label="Amazon Selling Partner API", account_settings=AmazonAccountSettings,
                         limits=ChannelLimits(max_text_length=0)))


@hookimpl
def register_settings(register):
    register("amazon", AmazonSettings)


@hookimpl
def register_migrations(register):
    register("amazon", MIGRATIONS)


@hookimpl
def register_routes(register):
    from plugins.amazon.inbox import AmazonInbox
    from plugins.amazon.messaging import AmazonMessaging

    register(AmazonMessaging)
    register(AmazonInbox)


@hookimpl
def register_jobs(register):
    from plugins.amazon.orders import POLL_TICK_SECONDS, poll_job

    register(JobSpec(name="amazon.poll_orders", func=poll_job, every=POLL_TICK_SECONDS))


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
def adapt_inbound(message, account):
    from plugins.amazon.relay import claim

    return claim(message)


@hookimpl
def ticket_event(event):
    if event.name not in MESSAGE_EVENTS or not event.ticket_id or not event.message_id or state.desk is None:
        return None
    from plugins.amazon.conversations import record

    return record(event.ticket_id, event.message_id)


@hookimpl
def sla_targets(ticket: dict[str, Any]):
    settings = state.settings()
    if not settings.sla or KIND not in (ticket.get("tags") or ()):
        return None
    from core.plugin_api import SlaTargets

    def minutes(hours: float | None) -> int | None:
        return None if hours is None else int(round(hours * 60))

    # calendar None: the minutes run round the clock, weekends and holidays included, as Amazon counts.
    return SlaTargets(minutes(settings.first_response_hours), minutes(settings.next_response_hours),
                      minutes(settings.resolution_hours), calendar=None)


def seller_address(conversation: dict[str, Any]) -> str | None:
    """The address replies in this conversation go out from: the one configured for its
    marketplace, else the address Amazon relayed the buyer's mail to."""
    account = state.account_for_marketplace(conversation["marketplace"])
    if account is not None:
        return account.settings.marketplaces[conversation["marketplace"]].seller_address
    return conversation.get("seller_address") or None


@hookimpl
def shape_outbound(account, message, ticket: dict[str, Any]):
    return _shape(message, ticket)


async def _shape(message: Any, ticket: dict[str, Any]) -> None:
    from plugins.amazon.conversations import conversation_of

    conversation = await conversation_of(ticket["id"])
    if conversation is None:
        return
    message.from_address = seller_address(conversation) or message.from_address
    message.plain_text = True
    message.untracked = True
    message.html = None


@hookimpl
def check_draft(ticket: dict[str, Any], text: str, language: str):
    return _check(ticket, text, language)


async def _check(ticket: dict[str, Any], text: str, language: str) -> list[DraftProblem]:
    from plugins.amazon import catalog, drafts
    from plugins.amazon.conversations import conversation_of

    if KIND not in (ticket.get("tags") or ()) and await conversation_of(ticket["id"]) is None:
        return []
    return [DraftProblem(f"amazon.{rule}", catalog.draft_problem(rule, bit, language))
            for rule, bit in drafts.problems(text, set(state.settings().draft_rules_off))]


@hookimpl
def customer_context(customer: dict[str, Any], ticket: dict[str, Any] | None):
    if state.desk is None:
        return None
    from plugins.amazon.context import build_context

    return build_context(customer, ticket, state.settings().context_orders)


@hookimpl
def render_panel(ticket: dict[str, Any], customer: dict[str, Any], context: dict[str, Any],
                 agent: dict[str, Any] | None):
    from plugins.amazon.context import render_panel_html

    amazon = context.get("amazon") or {}
    address = seller_address({"marketplace": amazon["marketplace"], "seller_address": None}) \
        if amazon.get("conversation") and amazon.get("marketplace") else None
    # proactive messages need the agent role (as the API's); read-only viewers get no button
    can_message = bool(agent) and agent.get("role") in ("agent", "admin")  # type: ignore[union-attr]
    return render_panel_html(context, None, address, can_message, (ticket or {}).get("id"))
