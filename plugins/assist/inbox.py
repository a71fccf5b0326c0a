"""The Assist panel (intent, sentiment, what assist did) and its suggested-reply route under
/inbox/plugins/assist/ (signed-in session, the agent role; a GET that changes nothing)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get

from plugins.assist import state
from plugins.assist.labels import INTENT_LABELS, SENTIMENT_LABELS
from plugins.assist.templates import _, render
from web.plugin_api import page_guard, session_agent

WRITERS = ("agent", "supervisor", "admin")


def N_(message: str) -> str:
    return message


ANSWER_TEXTS = {
    ("sent", ""): N_("Assist answered with the order's tracking and set the ticket pending."),
    ("draft", "mode"): N_("Assist prepared an answer with the order's tracking; this channel leaves it to an agent."),
    ("draft", "angry"): N_("Assist prepared an answer with the order's tracking but did not send it: the customer is angry."),
    ("draft", "repeat"): N_("Assist prepared the tracking answer again but left it to an agent: the customer asked again after an automatic answer."),
    ("draft", "language"): N_("Assist prepared an answer in English: the customer's language is unsure or has no wording."),
    ("draft", "draft_rejected"): N_("Assist did not send its answer: the channel's rules refuse it."),
    ("skipped", "no_facts"): N_("Assist did not answer: the order has no shipping facts to give, or it is unclear which order is meant."),
}


async def panel(ticket: dict[str, Any], agent: dict[str, Any] | None) -> dict[str, Any] | None:
    from plugins.assist.tables import AssistAnswer

    if not ticket.get("id"):
        return None
    latest = await AssistAnswer.select(AssistAnswer.mode, AssistAnswer.reason).where(
        AssistAnswer.ticket == ticket["id"]).order_by(AssistAnswer.id, ascending=False).first()
    answer_text = ANSWER_TEXTS.get((latest["mode"], latest["reason"])) if latest else None
    intent = ticket.get("intent")
    sentiment = ticket.get("sentiment")
    html = render("panel.html", ticket_id=int(ticket["id"]),
                  intent_label=_(INTENT_LABELS[intent]) if intent in INTENT_LABELS else (intent or "—"),
                  sentiment_label=_(SENTIMENT_LABELS[sentiment]) if sentiment in SENTIMENT_LABELS else sentiment,
                  angry="angry" in (ticket.get("tags") or []), answer=_(answer_text) if answer_text else None,
                  can_suggest=bool(agent) and agent.get("role") in WRITERS)
    return {"title": _("Assist"), "html": html}


class AssistInbox(Controller):
    path = "/inbox/plugins/assist"
    include_in_schema = False

    @get("/t/{ticket_id:int}/suggestion", guards=[page_guard("agent")])
    async def suggestion(self, request: Request, ticket_id: int) -> Response:
        from core.plugin_api import Ticket
        from plugins.assist.suggest import suggest

        if not await Ticket.exists().where(Ticket.id == ticket_id):
            missing = _("No such ticket.")
            return Response(f'<p class="error">{missing}</p>', status_code=404, media_type="text/html")
        agent = await session_agent(request) or {}
        found = await suggest(state.desk, ticket_id, agent)
        return Response(render("suggestion.html", suggestion=found), media_type="text/html")
