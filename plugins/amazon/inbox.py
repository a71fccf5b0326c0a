"""The Amazon panel's proactive messages in the inbox: the messages Amazon lists for the order now
(getMessagingActionsForOrder), each written, reviewed and sent in two steps, answered as HTML
fragments in the agent's language. Routes under /inbox/plugins/amazon/ (signed-in session, CSRF,
the agent role); the sending itself is plugins.amazon.messaging.send_proactive, as for the API.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from markupsafe import Markup

from core.plugin_api import Conflict, NotFound
from plugins.amazon import catalog, drafts, state
from plugins.amazon.client import SpApiError
from plugins.amazon.messaging import PANEL_ACTIONS, TEXT_ACTIONS, _order_target, send_proactive
from plugins.amazon.templates import _, render
from web.plugin_api import i18n
from web.plugin_api import page_guard, session_agent


def action_labels() -> dict[str, str]:
    return {"confirmDeliveryDetails": _("Confirm delivery details"), "confirmOrderDetails": _("Confirm order details"),
            "confirmServiceDetails": _("Confirm service details"), "unexpectedProblem": _("Report an unexpected problem"),
            "confirmCustomizationDetails": _("Confirm customization details"),
            "digitalAccessKey": _("Send a digital access key"),
            "negativeFeedbackRemoval": _("Ask the buyer to remove negative feedback")}


def failure_text(exc: SpApiError) -> str:
    """Amazon's refusal in the agent's language; Amazon's own words stay as it wrote them."""
    if exc.retryable:
        return _("Amazon is busy or out of reach; nothing was sent. Try again in a minute.")
    detail = "; ".join(str(e.get("message") or e.get("code")) for e in exc.errors) or exc.message
    return _("Amazon refused: {detail}").format(detail=detail)


def _fragment(html: str, status: int = 200) -> Response:
    return Response(html, status_code=status, media_type="text/html")


def _note(message: str, status: int) -> Response:
    return _fragment(str(Markup('<p class="order-result error">{}</p>').format(message)), status)


def _ticket_id(value: Any) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) < 12 else None


async def actions_html(order_id: str, ticket_id: int | None, message: str = "", error: bool = False) -> tuple[str, int]:
    """The allowed messages for the order, asked of Amazon now."""
    try:
        account, marketplace_id, _domain = await _order_target(order_id)
    except NotFound:
        return str(Markup('<p class="order-result error">{}</p>').format(
            _("No configured Amazon seller account knows this order."))), 404
    try:
        allowed = await state.client_for(account).messaging_actions(order_id, marketplace_id)
    except SpApiError as exc:
        return str(Markup('<p class="order-result error">{}</p>').format(failure_text(exc))), 502
    labels = action_labels()
    sendable = [a for a in allowed if a in PANEL_ACTIONS]
    others = ", ".join(a for a in allowed if a not in PANEL_ACTIONS)
    return render("actions.html", order_id=order_id, ticket_id=ticket_id, sendable=sendable, labels=labels,
                  limits=TEXT_ACTIONS, others=others, message=message, error=error), 200


class AmazonInbox(Controller):
    path = "/inbox/plugins/amazon"
    include_in_schema = False

    @get("/orders/{order_id:str}/actions", guards=[page_guard("agent")])
    async def actions(self, order_id: str, ticket_id: str = "") -> Response:
        html, status = await actions_html(order_id, _ticket_id(ticket_id))
        return _fragment(html, status)

    @post("/orders/{order_id:str}/messages/preview", guards=[page_guard("agent")])
    async def preview(self, request: Request, order_id: str) -> Response:
        form = await request.form()
        action = str(form.get("action") or "")
        if action not in PANEL_ACTIONS:
            return _note(_("Choose one of the messages Amazon allows."), 400)
        text = str(form.get("text") or "").strip() if action in TEXT_ACTIONS else ""
        if action in TEXT_ACTIONS:
            if not text or len(text) > TEXT_ACTIONS[action]:
                return _note(_("Write 1 to {most} characters.").format(most=TEXT_ACTIONS[action]), 400)
            found = drafts.problems(text, set(state.settings().draft_rules_off))
            if found:
                return _note(" ".join(catalog.draft_problem(rule, bit) for rule, bit in found), 400)
        return _fragment(render("confirm.html", order_id=order_id, action=action, label=action_labels()[action],
                                text=text, ticket_id=_ticket_id(form.get("ticket_id"))))

    @post("/orders/{order_id:str}/messages", guards=[page_guard("agent")])
    async def send(self, request: Request, order_id: str) -> Response:
        agent = await session_agent(request)
        form = await request.form()
        action = str(form.get("action") or "")
        ticket_id = _ticket_id(form.get("ticket_id"))
        text = str(form.get("text") or "").strip() if action in TEXT_ACTIONS else ""
        if action not in PANEL_ACTIONS or (action in TEXT_ACTIONS and not 1 <= len(text) <= TEXT_ACTIONS[action]):
            return _note(_("Choose one of the messages Amazon allows."), 400)
        if action in TEXT_ACTIONS and drafts.problems(text, set(state.settings().draft_rules_off)):
            return _note(_("Review the message again: it breaks Amazon's rules."), 400)
        language = i18n.current_language.get()
        try:
            await send_proactive(agent, order_id, action, text, ticket_id, language)  # type: ignore[arg-type]
        except Conflict as exc:
            html, _status = await actions_html(order_id, ticket_id, exc.message, True)
            return _fragment(html, 409)
        except SpApiError as exc:
            html, _status = await actions_html(order_id, ticket_id, failure_text(exc), True)
            return _fragment(html, 503 if exc.retryable else 502)
        except NotFound:
            return _note(_("No configured Amazon seller account knows this order."), 404)
        html, _status = await actions_html(order_id, ticket_id, _("Amazon accepted “{action}” for order {order}.").format(
            action=action_labels()[action], order=order_id))
        return _fragment(html)
