"""Proactive messages through the Messaging API, only where Amazon allows them for the order.

Routes (agent role; API tokens or the inbox session):

    GET  /api/v1/plugins/amazon/orders/{order_id}/messaging-actions
         -> {"order_id", "marketplace", "actions": [...]}   (getMessagingActionsForOrder)
    POST /api/v1/plugins/amazon/orders/{order_id}/messages
         {"action": "confirmDeliveryDetails", "text": "...", "ticket_id": 12, "confirm": true}

A send first asks Amazon which actions the order allows now; an action not among them is refused
with 409 ``amazon_action_not_allowed`` (nothing is sent). The text passes the same draft rules as a
relay reply (no links, contact details, HTML...) and the operation's length limit. Amazon's own
refusals come back verbatim as 502 ``amazon_error`` with its ``errors``. Each sent message is stored
and audited.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post

from core.plugin_api import audit, clock, db, outbound
from core.plugin_api import Conflict, InvalidRequest, NotFound
from core.plugin_api import Account
from plugins.amazon import catalog, drafts, state
from plugins.amazon.catalog import _
from plugins.amazon.client import SpApiError
from plugins.amazon.tables import AmazonConversation, AmazonOrder, AmazonProactiveMessage
from web.plugin_api import actor, current_agent, require
from web.plugin_api import error_body

# The text-only send operations of the Messaging API and their documented maximum text length.
TEXT_ACTIONS: dict[str, int] = {
    "confirmDeliveryDetails": 2000,
    "confirmOrderDetails": 2000,
    "confirmServiceDetails": 2000,
    "unexpectedProblem": 2000,
    "confirmCustomizationDetails": 800,
    "digitalAccessKey": 400,
}


# Operations that carry no text: Amazon sends its own wording (createNegativeFeedbackRemoval takes
# only the order id and marketplaceIds, no body).
PLAIN_ACTIONS = ("negativeFeedbackRemoval",)
# What the panel can send: every text operation and the plain ones. The others Amazon may list
# (invoice, warranty, legalDisclosure, amazonMotors) need attachments: Seller Central sends those.
PANEL_ACTIONS = (*TEXT_ACTIONS, *PLAIN_ACTIONS)


class SendBody(msgspec.Struct, forbid_unknown_fields=True):
    action: str
    text: str
    confirm: bool = False
    ticket_id: int | None = None


async def _order_target(order_id: str) -> tuple[Account, str, str]:
    """(seller account, marketplace id, marketplace domain) for an order we know of."""
    row = await AmazonOrder.select(AmazonOrder.account, AmazonOrder.marketplace_id).where(
        AmazonOrder.order_id == order_id).first()
    if row is not None and state.desk is not None:
        account = state.desk.registry.account_by_id(row["account"])
        if account is not None and account.plugin == "amazon":
            domain = account.settings.marketplace_domain(row["marketplace_id"]) or ""
            return account, row["marketplace_id"], domain
    conversation = await AmazonConversation.select(AmazonConversation.marketplace).where(
        AmazonConversation.order_id == order_id).first()
    if conversation is not None:
        account = state.account_for_marketplace(conversation["marketplace"])
        if account is not None:
            market = account.settings.marketplaces[conversation["marketplace"]]
            return account, market.marketplace_id, conversation["marketplace"]
    raise NotFound(f"no configured Amazon seller account knows order {order_id}")


async def send_proactive(agent: dict[str, Any], order_id: str, action: str, text: str, ticket_id: int | None,
                         language: str) -> dict[str, Any]:
    """Ask Amazon which messages the order allows now, send this one, store and audit it.

    Raises Conflict (``amazon_action_not_allowed``) when Amazon does not list the action, and
    SpApiError when Amazon refuses or fails. Text checks are the caller's."""
    account, marketplace_id, domain = await _order_target(order_id)
    client = state.client_for(account)
    allowed = await client.messaging_actions(order_id, marketplace_id)
    if action not in allowed:
        raise Conflict(_("Amazon does not allow the message {action!r} for order {order} now; allowed: {allowed}.",
                         language).format(action=action, order=order_id, allowed=", ".join(allowed) or "-"),
                       code="amazon_action_not_allowed")
    if action in PLAIN_ACTIONS:
        await client.send_message(order_id, marketplace_id, action, None)
    else:
        await client.send_message(order_id, marketplace_id, action, {"text": text})
    async with db.transaction():
        rows = await AmazonProactiveMessage.insert(AmazonProactiveMessage(
            account=account.id, order_id=order_id, action=action, text=text, ticket=ticket_id,
            agent=agent["id"], created_at=clock.now())).returning(AmazonProactiveMessage.id)
        await audit.record(actor(agent), "amazon.message_sent", "amazon_order", rows[0]["id"],
                           {"order_id": order_id, "action": action, "marketplace": domain, "ticket_id": ticket_id})
    return {"order_id": order_id, "action": action, "marketplace": domain}


def _amazon_failure(exc: SpApiError) -> Response:
    status = 503 if exc.retryable else 502
    return Response(error_body("amazon_error", exc.message, {"platform_code": exc.platform_code, "errors": exc.errors,
                                                             "retryable": exc.retryable}), status_code=status)


class AmazonMessaging(Controller):
    path = "/api/v1/plugins/amazon"
    tags = ["amazon"]

    @get("/orders/{order_id:str}/messaging-actions", guards=[require("agent")])
    async def actions(self, order_id: str) -> Response:
        account, marketplace_id, domain = await _order_target(order_id)
        try:
            allowed = await state.client_for(account).messaging_actions(order_id, marketplace_id)
        except SpApiError as exc:
            return _amazon_failure(exc)
        return Response({"order_id": order_id, "marketplace": domain, "actions": allowed,
                         "sendable": [a for a in allowed if a in TEXT_ACTIONS]})

    @post("/orders/{order_id:str}/messages", status_code=201, guards=[require("agent")])
    async def send(self, request: Request, order_id: str) -> Response:
        agent = await current_agent(request)
        language = await outbound.agent_language(agent["id"])
        try:
            body = msgspec.json.decode(await request.body() or b"{}", type=SendBody)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise InvalidRequest(f"the request body is not valid: {exc}") from None
        if body.action not in TEXT_ACTIONS:
            raise InvalidRequest(f"action must be one of {', '.join(TEXT_ACTIONS)}")
        text = body.text.strip()
        if not text or len(text) > TEXT_ACTIONS[body.action]:
            raise InvalidRequest(f"text must have 1 to {TEXT_ACTIONS[body.action]} characters for {body.action}")
        found = drafts.problems(text, set(state.settings().draft_rules_off))
        if found:
            from core.plugin_api import DraftRejected
            from core.plugin_api import DraftProblem

            problems = [DraftProblem(f"amazon.{rule}", catalog.draft_problem(rule, bit, language))
                        for rule, bit in found]
            raise DraftRejected(" ".join(p.message for p in problems), problems)
        if not body.confirm:
            raise InvalidRequest(f'this sends {body.action} to the buyer of order {order_id}: send "confirm": true to do it',
                                 code="confirmation_required")
        try:
            await send_proactive(agent, order_id, body.action, text, body.ticket_id, language)
        except SpApiError as exc:
            return _amazon_failure(exc)
        return Response({"ok": True, "order_id": order_id, "action": body.action,
                         "message": _("Amazon accepted the message {action!r} for order {order}.", language).format(
                             action=body.action, order=order_id)},
                        status_code=201)
