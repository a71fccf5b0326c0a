""""Where is my order", answered from the order's real tracking.

Runs from ticket_event for a customer's message (created, customer_replied), after it is stored.
When the message's intent is wismo with enough confidence and the order it is about has shipping
facts (facts.py), assist writes the answer in the customer's language and, as the channel's
setting says, sends it and sets the ticket pending (the customer writing again reopens it), or
leaves it as a ready draft in the Assist panel. One AssistAnswer row per message (unique) makes
an event seen twice answer once and is what reports count.

Never anything false: no facts, no answer. A draft, never a sent answer, when the customer is
angry, when they ask again after an automatic answer, when the language is unsure, or when the
channel's checks (check_draft: Amazon's rules) refuse the text even without links."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from plugins.assist import state
from plugins.assist.compose import compose
from plugins.assist.facts import shipping_facts
from plugins.assist.language import customer_language
from plugins.assist.phrases import LANGUAGES

if TYPE_CHECKING:
    from core.plugin_api import Desk
    from core.plugin_api import Event

log = logging.getLogger("relaydesk.assist")
EVENTS = ("created", "customer_replied")
KIND = "wismo"


async def handle(desk: "Desk", event: "Event") -> str | None:
    """Answer the event's message if it asks where an order is. Returns what was done (sent,
    draft, skipped) or None when the message is not one to answer."""
    from core.plugin_api import clock, db
    from core.plugin_api import Customer, Message, Ticket

    settings = state.settings(desk)
    message = await Message.select(Message.id, Message.ticket, Message.direction, Message.text, Message.subject).where(
        Message.id == event.message_id).first()
    if message is None or message["direction"] != "inbound":
        return None
    ticket = await Ticket.select().where(Ticket.id == message["ticket"]).first()
    if ticket is None or ticket["status"] in ("spam", "closed", "solved"):
        return None
    mode = settings.wismo_mode(ticket["channel_type"])
    if mode == "off":
        return None
    text = "\n".join(p for p in (message["subject"], message["text"]) if p)
    prediction = state.model(desk).predict(text)
    if prediction.intent != KIND or prediction.confidence < settings.wismo_threshold:
        return None
    claimed = await db.fetch(
        "INSERT INTO assist_answers (message, ticket, kind, mode, reason, language, confidence, text, facts, created_at) "
        "VALUES ({}, {}, {}, 'skipped', 'working', 'en', {}, '', {}, {}) ON CONFLICT DO NOTHING RETURNING id",
        message["id"], ticket["id"], KIND, prediction.confidence, "{}", clock.now())
    if not claimed:
        return None  # this message was answered (or is being answered) already
    row_id = claimed[0]["id"]
    customer = await Customer.select().where(Customer.id == ticket["customer"]).first() or {"id": ticket["customer"]}
    from core.plugin_api import customer_context

    context = await customer_context(desk, customer, dict(ticket))
    facts = shipping_facts(context.get("orders") or [], clock.now().date(), text)
    if facts is None:
        await _record(row_id, mode="skipped", reason="no_facts")
        return "skipped"
    language = customer_language(ticket["language"], message["text"] or "")
    reason = ""
    if language in LANGUAGES:
        answer, problems = await _checked(desk, ticket["id"], facts, language)
    else:
        answer, problems, reason = await _translated(desk, ticket["id"], facts, language)
    if problems:
        reason = "draft_rejected"
    elif not reason and prediction.angry:
        reason = "angry"  # an angry customer gets a person, with the facts ready
    elif not reason and await _answered_before(ticket["id"], row_id):
        reason = "repeat"  # asking again after our tracking answer: a person should look
    elif not reason and mode == "draft":
        reason = "mode"
    record = {"language": language or "en", "text": answer, "facts": facts.to_dict()}
    if reason:
        await _record(row_id, mode="draft", reason=reason, **record)
        return "draft"
    from core.plugin_api import outbound
    from core.plugin_api import DraftRejected

    try:
        reply = await outbound.reply(desk, ticket["id"], author_id=None, text=answer, status="pending",
                                     metadata={"assist": {"kind": KIND, "order": facts.order, "answer": row_id}})
    except DraftRejected:  # a check that changed its mind between our check and the send
        await _record(row_id, mode="draft", reason="draft_rejected", **record)
        return "draft"
    await _record(row_id, mode="sent", reason="", reply=reply["id"], **record)
    from core.plugin_api import Event, publish

    await publish(desk, [Event("assist.answered", ticket["id"], reply["id"], actor="assist",
                               data={"kind": KIND, "order": facts.order})])
    return "sent"


async def _checked(desk: "Desk", ticket_id: int, facts: Any, language: str) -> tuple[str, list[Any]]:
    """The answer with links, else without them, whichever the channel's checks accept first."""
    from core.plugin_api import outbound

    answer = compose(facts, language, links=True)
    problems = await outbound.check_draft(desk, ticket_id, answer)
    if problems:
        answer = compose(facts, language, links=False)
        problems = await outbound.check_draft(desk, ticket_id, answer)
    return answer, problems


async def _translated(desk: "Desk", ticket_id: int, facts: Any, language: str | None) -> tuple[str, list[Any], str]:
    """A language we have no words for: the English answer through the desk's translate hook,
    kept only if every tracking number and link came through untouched; else the English draft."""
    answer, problems = await _checked(desk, ticket_id, facts, "en")
    if language is None or problems:
        return answer, problems, "language"

    pending = desk.registry.hook.translate(text=answer, source="en", target=language)
    if pending is None:
        return answer, problems, "language"
    try:
        translated = await pending
    except Exception:  # a provider error: the English draft waits for an agent
        log.warning("assist: translating a wismo answer to %s failed", language, exc_info=True)
        return answer, problems, "language"
    keep = [p.number for p in facts.parcels] + [p.url for p in facts.parcels if p.url and p.url in answer]
    if not translated or any(k not in translated for k in keep):
        return answer, problems, "language"
    from core.plugin_api import outbound

    problems = await outbound.check_draft(desk, ticket_id, translated)
    return translated, problems, ""


async def _answered_before(ticket_id: int, row_id: int) -> bool:
    from plugins.assist.tables import AssistAnswer

    return await AssistAnswer.exists().where(
        (AssistAnswer.ticket == ticket_id) & (AssistAnswer.mode == "sent") & (AssistAnswer.id != row_id))


async def _record(row_id: int, **values: Any) -> None:
    from plugins.assist.tables import AssistAnswer

    await AssistAnswer.update({getattr(AssistAnswer, k): v for k, v in values.items()}).where(AssistAnswer.id == row_id)
