"""Customers' names from Meta's User Profile API, fetched after commit in a job: a Messenger or
Instagram webhook carries only the sender's page- or Instagram-scoped id.

Messenger: GET /{version}/{psid}?fields=first_name,last_name. Instagram: GET /{version}/{igsid}?
fields=name,username. Both need the person's consent (they wrote to the Page), and Meta refuses
people who blocked the Page; such a refusal is remembered for the process, so a nameless customer
who writes often does not cost a Graph call per message. A name an agent gave is never replaced.
"""

from __future__ import annotations

import logging
import weakref
from typing import Any

import httpx

from core.plugin_api import ChannelError
from core.plugin_api import Customer, Identity, Message
from plugins.facebook import graph
from plugins.facebook.desks import DESKS, accounts

log = logging.getLogger("relaydesk.facebook")

JOB = "facebook_fetch_profile"
FIELDS = {"messenger": "first_name,last_name", "instagram": "name,username"}
MAX_REMEMBERED = 10_000

# Per desk: (account id, scoped id) pairs Meta will not describe.
_REFUSED: "weakref.WeakKeyDictionary[Any, set[tuple[int, str]]]" = weakref.WeakKeyDictionary()


async def enqueue(message_id: int) -> None:
    desk = DESKS[-1]
    if any(a.settings.fetch_names for a in accounts(desk).values()):
        await desk.enqueue(JOB, message_id, job_id=f"{JOB}:{message_id}")


async def fetch_job(ctx: dict[str, Any], message_id: int) -> bool:
    """Name the customer who sent this message, if they have no name yet. True when named."""
    desk = ctx["desk"]
    by_id = accounts(desk)
    refused = _REFUSED.setdefault(desk, set())
    message = await Message.select(Message.account, Message.customer, Message.direction).where(
        Message.id == message_id).first()
    if not message or message["direction"] != "inbound" or not message["customer"]:
        return False
    account = by_id.get(message["account"])
    if account is None or not account.settings.fetch_names:
        return False
    identity = await Identity.select(Identity.id, Identity.handle, Identity.display_name).where(
        (Identity.customer == message["customer"]) & (Identity.channel_type == account.channel_type)).first()
    if identity is None or identity["display_name"] or (account.id, identity["handle"]) in refused:
        return False
    try:
        name = await profile_name(account, identity["handle"])
    except ChannelError as exc:
        if not exc.retryable:
            if len(refused) >= MAX_REMEMBERED:
                refused.clear()
            refused.add((account.id, identity["handle"]))
        log.info("no profile for %s on %s: %s", identity["handle"], account.name, exc.message)
        return False
    if not name:
        return False
    await Identity.update({Identity.display_name: name}).where(Identity.id == identity["id"])
    # Only a customer still known by nothing (or by the scoped id) takes the name.
    await Customer.update({Customer.name: name}).where(
        (Customer.id == message["customer"])
        & (Customer.name.is_null() | (Customer.name == "") | (Customer.name == identity["handle"])))
    return True


async def profile_name(account: Any, scoped_id: str) -> str | None:
    settings = account.settings
    target = graph.url(settings, scoped_id)
    try:
        async with httpx.AsyncClient(timeout=settings.timeout_seconds) as http:
            response = await http.get(target, params={"fields": FIELDS[account.channel_type]},
                                      headers=graph.headers(settings))
    except httpx.HTTPError as exc:
        raise graph.network_error(exc, "read the customer's profile") from None
    if response.status_code >= 300:
        raise graph.error_from_response(response, settings, "read the customer's profile")
    try:
        profile = response.json()
    except ValueError:
        return None
    if account.channel_type == "messenger":
        name = " ".join(str(profile.get(k) or "").strip() for k in ("first_name", "last_name")).strip()
    else:
        name = str(profile.get("name") or "").strip() or str(profile.get("username") or "").strip()
    return name[:200] or None
