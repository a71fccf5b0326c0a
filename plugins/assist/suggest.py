"""A suggested reply for a ticket, offline: for "where is my order" with shipping facts, the answer
built from them; otherwise the reply template made for the ticket's intent (the first template whose
shortcut or name contains the intent code, e.g. "return_refund", or one of its words in
INTENT_WORDS, e.g. "return"), rendered with the customer's
order facts in the sandbox. A suggestion is shown only when the channel's checks (check_draft)
accept it; it is never sent without an agent."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from plugins.assist import state
from plugins.assist.compose import compose
from plugins.assist.facts import shipping_facts
from plugins.assist.language import customer_language
from plugins.assist.phrases import LANGUAGES

if TYPE_CHECKING:
    from core.plugin_api import Desk


# The words a reply template's shortcut or name may use for an intent, tried in this order.
INTENT_WORDS = {
    "wismo": ("wismo", "where", "tracking"), "return_refund": ("return_refund", "refund", "return"),
    "exchange_size": ("exchange_size", "exchange", "size"), "cancel": ("cancel",), "address_change": ("address",),
    "invoice": ("invoice",), "product_question": ("product",), "damaged_wrong": ("damaged", "wrong"),
    "complaint": ("complaint", "apolog"), "thanks": ("thanks",), "other": (),
}


@dataclass(slots=True)
class Suggestion:
    text: str = ""
    source: str = ""  # "order" (facts) or "template"
    template: str | None = None
    problems: list[Any] = field(default_factory=list)  # DraftProblems: the text is not shown


async def suggest(desk: "Desk", ticket_id: int, agent: dict[str, Any]) -> Suggestion | None:
    from core.plugin_api import clock, macros
    from core.plugin_api import customer_context
    from core.plugin_api import InvalidRequest
    from core.plugin_api import outbound
    from core.plugin_api import Customer, Message, Ticket

    ticket = await Ticket.select().where(Ticket.id == ticket_id).first()
    if ticket is None:
        return None
    last = await Message.select(Message.text, Message.subject).where(
        (Message.ticket == ticket_id) & (Message.direction == "inbound")).order_by(Message.id, ascending=False).first()
    text_in = "\n".join(p for p in ((last or {}).get("subject"), (last or {}).get("text")) if p)
    intent = state.model(desk).predict(text_in).intent if text_in.strip() else ticket["intent"]
    customer = await Customer.select().where(Customer.id == ticket["customer"]).first() or {"id": ticket["customer"]}
    context = await customer_context(desk, customer, dict(ticket))
    language = customer_language(ticket["language"], (last or {}).get("text") or "")
    agent_language = (agent.get("locale") or "en").split("_")[0]
    suggestion: Suggestion | None = None
    if intent == "wismo":
        facts = shipping_facts(context.get("orders") or [], clock.now().date(), text_in)
        if facts is not None:
            words = language if language in LANGUAGES else "en"
            suggestion = Suggestion(compose(facts, words, links=True), "order")
            if await outbound.check_draft(desk, ticket_id, suggestion.text, agent_language):
                suggestion.text = compose(facts, words, links=False)
    if suggestion is None and intent:
        found = []
        for word in INTENT_WORDS.get(intent, (intent,)):
            found = await macros.find(word, channel_type=ticket["channel_type"], language=language, limit=1)
            if found:
                break
        if found:
            try:
                rendered = macros.render(found[0]["body"], ticket=ticket, customer=customer, agent=agent, context=context)
            except InvalidRequest:  # the template needs facts this customer does not have: no hollow text
                rendered = ""
            if rendered.strip():
                suggestion = Suggestion(rendered, "template", template=found[0]["name"])
    if suggestion is None:
        return None
    suggestion.problems = await outbound.check_draft(desk, ticket_id, suggestion.text, agent_language)
    return suggestion
