"""The translation job: after an inbound message is stored, translate it for the agent who reads it.

The result lands in the message's metadata, where the inbox shows it under the original:
``metadata["translation"] = {"text", "language", "source", "provider"}``, or on failure
``metadata["translation_error"] = {"message", "provider", "code", "retryable"}`` (the agent sees why
and can retry through POST /api/v1/plugins/translate/messages/{id}/retry).
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from core.plugin_api import Agent, Message, Ticket
from plugins.translate import state
from plugins.translate.detect import detect_language
from plugins.translate.providers import TranslationError
from plugins.translate.service import translate_text
from plugins.translate.settings import TranslateSettings

if TYPE_CHECKING:
    from core.plugin_api import Desk

log = logging.getLogger("relaydesk.translate")
JOB_NAME = "translate.message"


def job_id(message_id: int) -> str:
    return f"translate:{message_id}"


def as_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value) if value else {}
        except ValueError:
            return {}
    return dict(value) if isinstance(value, dict) else {}


async def reader_language(ticket: dict[str, Any], settings: TranslateSettings) -> tuple[str, list[str]]:
    """(language to translate into, languages the reader reads): the assignee's, else the default."""
    if ticket.get("assignee"):
        agent = await Agent.select(Agent.languages).where(Agent.id == ticket["assignee"]).output(
            load_json=True).first()
        languages = [str(x) for x in (agent or {}).get("languages") or [] if x]
        if languages:
            return languages[0], languages
    return settings.default_language, [settings.default_language]


async def translate_message(desk: "Desk", message_id: int, *, force: bool = False) -> str:
    """Translate one inbound message if its reader needs it. Returns what happened:
    translated, skipped (no need or already done), failed or failed:retryable."""
    settings = state.settings(desk)
    message = await Message.select().where(Message.id == message_id).output(load_json=True).first()
    if message is None or message["direction"] != "inbound" or not (message["text"] or "").strip():
        return "skipped"
    metadata = as_dict(message["metadata"])
    if metadata.get("translation") and not force:
        return "skipped"  # a job may run twice: the first one's result stands
    ticket = await Ticket.select(Ticket.id, Ticket.language, Ticket.assignee).where(
        Ticket.id == message["ticket"]).first()
    source = detect_language(message["text"], name=settings.detector, languages=tuple(settings.languages),
                             min_confidence=settings.min_confidence) or ticket["language"]
    target, reads = await reader_language(ticket, settings)
    if source is not None and source in reads:
        return "skipped"
    try:
        text = await translate_text(settings, message["text"], source, target)
    except TranslationError as exc:
        metadata.pop("translation", None)
        metadata["translation_error"] = {"message": exc.message, "provider": exc.provider,
                                         "code": exc.platform_code, "retryable": exc.retryable}
        await Message.update({Message.metadata: metadata}).where(Message.id == message_id)
        log.warning("translation of message %s failed: %s", message_id, exc.message)
        return "failed:retryable" if exc.retryable else "failed"
    metadata.pop("translation_error", None)
    metadata["translation"] = {"text": text, "language": target, "source": source, "provider": settings.provider}
    await Message.update({Message.metadata: metadata}).where(Message.id == message_id)
    return "translated"


async def translate_message_job(ctx: dict[str, Any], message_id: int, force: bool = False, attempt: int = 0) -> str:
    desk = ctx["desk"]
    outcome = await translate_message(desk, message_id, force=force)
    settings = state.settings(desk)
    if outcome == "failed:retryable" and attempt < settings.retry_attempts:
        await desk.enqueue(JOB_NAME, message_id, force, attempt + 1, job_id=f"{job_id(message_id)}:a{attempt + 1}",
                           defer=settings.retry_seconds * 2 ** attempt)
    return outcome
