"""What plugins know about a customer and ticket (orders, returns, tracking), merged for the ticket
view, reply templates and rule conditions; and the panels plugins add to the ticket view."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from core.events import await_me_maybe

if TYPE_CHECKING:
    from core.desk import Desk

log = logging.getLogger("relaydesk.context")


async def customer_context(desk: "Desk", customer: dict[str, Any], ticket: dict[str, Any] | None) -> dict[str, Any]:
    """Merge every plugin's customer_context; a failing plugin is logged and left out."""
    merged: dict[str, Any] = {}
    for impl in desk.registry.hook.customer_context.get_hookimpls():
        try:
            part = await await_me_maybe(impl.function(customer=customer, ticket=ticket))
        except Exception:
            log.exception("customer_context of %s failed", impl.plugin_name)
            continue
        for key, value in (part or {}).items():
            if isinstance(value, list) and isinstance(merged.get(key), list):
                merged[key] = merged[key] + value
            else:
                merged[key] = value
    return merged


async def panels(desk: "Desk", ticket: dict[str, Any], customer: dict[str, Any], context: dict[str, Any],
                 agent: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    given = {"ticket": ticket, "customer": customer, "context": context, "agent": agent}
    for impl in desk.registry.hook.render_panel.get_hookimpls():
        try:
            # only the arguments the implementation names (pluggy's rule): older panels take no agent
            panel = await await_me_maybe(impl.function(**{k: given[k] for k in impl.argnames if k in given}))
        except Exception:
            log.exception("render_panel of %s failed", impl.plugin_name)
            continue
        if panel:
            out.append({"plugin": impl.plugin_name, **panel})
    return out


async def reply_constraints(desk: "Desk", ticket: dict[str, Any]) -> dict[str, Any]:
    """The reply box's limits for a ticket: the channel's static limits plus what plugins say now."""
    from dataclasses import asdict

    channel = desk.registry.channels.get(ticket.get("channel_type") or "")
    out: dict[str, Any] = asdict(channel.limits) if channel else {}
    account = desk.registry.account_by_id(ticket["account"]) if ticket.get("account") else None
    if account is None:
        return out
    for impl in desk.registry.hook.reply_constraints.get_hookimpls():
        try:
            part = await await_me_maybe(impl.function(channel_type=account.channel_type, account=account, ticket=ticket))
        except Exception:
            log.exception("reply_constraints of %s failed", impl.plugin_name)
            continue
        out.update(part or {})
    if out.get("templates"):
        from core.reply_templates import order_by_language

        out["templates"] = order_by_language(list(out["templates"]), ticket.get("language"))
    return out
