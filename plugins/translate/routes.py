"""API routes: preview an outbound translation, retry an inbound one.

POST /api/v1/plugins/translate/preview   {"ticket_id", "text", "source"?}  (agent role)
    -> 200 {"text", "language", "source", "provider"}: the draft in the ticket's language. On a
       provider failure: 502 {"error": {"code": "translation_failed", "message", "retryable"}}; the
       agent can still send the original (translation never blocks a reply).
POST /api/v1/plugins/translate/reply     {"ticket_id", "text", "translated"?, "source"?}  (agent role)
    -> 202 the stored reply: sends `translated` (the previewed text, maybe edited by the agent) or a
       fresh translation in the customer's language; the agent's original stays on the message as
       metadata["translation"] = {"original", "source", "language", "provider"}. When the provider
       fails: 502 as for preview and nothing is sent; the agent sends the original through the
       normal reply route.
POST /api/v1/plugins/translate/messages/{id}/retry  (agent role) -> 202, queues the job again.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, post

from core.plugin_api import outbound
from core.plugin_api import InvalidRequest, NotFound
from core.plugin_api import Message, Ticket
from plugins.translate import state
from plugins.translate.detect import detect_language
from plugins.translate.jobs import JOB_NAME, job_id, reader_language
from plugins.translate.providers import TranslationError
from plugins.translate.service import translate_text
from web.plugin_api import check_ticket, current_agent, require
from web.plugin_api import error_body

MAX_PREVIEW = 20_000


class PreviewBody(msgspec.Struct, forbid_unknown_fields=True):
    ticket_id: int
    text: str
    source: str | None = None


class ReplyBody(msgspec.Struct, forbid_unknown_fields=True):
    ticket_id: int
    text: str
    translated: str | None = None
    source: str | None = None


def _decode(raw: bytes, kind: type) -> Any:
    try:
        return msgspec.json.decode(raw or b"{}", type=kind)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise InvalidRequest(f"the request body is not valid: {exc}") from None


def _failure(exc: TranslationError, original: str) -> Response:
    return Response(error_body("translation_failed", exc.message, {
        "provider": exc.provider, "platform_code": exc.platform_code, "retryable": exc.retryable,
        "original": original}), status_code=502)


async def _draft_context(request: Request, ticket_id: int, text: str, source: str | None) -> tuple[Any, dict, str]:
    """(settings, ticket, source language of the draft) after checking the draft and the ticket."""
    if not text.strip():
        raise InvalidRequest("the draft is empty")
    if len(text) > MAX_PREVIEW:
        raise InvalidRequest(f"the draft is longer than {MAX_PREVIEW} characters")
    settings = state.settings(request.app.state.desk)
    await check_ticket(request, ticket_id)  # a ticket of a team the agent may not see: 404
    ticket = await Ticket.select(Ticket.id, Ticket.language, Ticket.assignee).where(Ticket.id == ticket_id).first()
    if ticket is None:
        raise NotFound(f"ticket {ticket_id} does not exist")
    if not ticket["language"]:
        raise InvalidRequest("the customer's language is not known yet; send the draft as written",
                             code="language_unknown")
    agent = await current_agent(request)
    source = source or detect_language(text, name=settings.detector, languages=tuple(settings.languages),
                                       min_confidence=settings.min_confidence)
    if source is None:
        source = (await reader_language({"assignee": agent["id"]}, settings))[0]
    return settings, ticket, source


class TranslateRoutes(Controller):
    path = "/api/v1/plugins/translate"
    tags = ["translate"]

    @post("/preview", status_code=200, guards=[require("agent")])
    async def preview(self, request: Request) -> Response:
        body = _decode(await request.body(), PreviewBody)
        settings, ticket, source = await _draft_context(request, body.ticket_id, body.text, body.source)
        try:
            text = await translate_text(settings, body.text, source, ticket["language"])
        except TranslationError as exc:
            return _failure(exc, body.text)
        return Response({"text": text, "language": ticket["language"], "source": source,
                         "provider": settings.provider, "original": body.text})

    @post("/reply", status_code=202, guards=[require("agent")])
    async def reply(self, request: Request) -> Response:
        body = _decode(await request.body(), ReplyBody)
        settings, ticket, source = await _draft_context(request, body.ticket_id, body.text, body.source)
        translated = body.translated
        if translated is None or not translated.strip():
            try:
                translated = await translate_text(settings, body.text, source, ticket["language"])
            except TranslationError as exc:
                return _failure(exc, body.text)
        agent = await current_agent(request)
        row = await outbound.reply(request.app.state.desk, body.ticket_id, author_id=agent["id"], text=translated,
                                   metadata={"translation": {"original": body.text, "source": source,
                                                             "language": ticket["language"],
                                                             "provider": settings.provider}})
        return Response({"id": row["id"], "text": row["text"], "delivery_status": row["delivery_status"],
                         "translation": {"original": body.text, "source": source, "language": ticket["language"],
                                         "provider": settings.provider}}, status_code=202)

    @post("/messages/{message_id:int}/retry", status_code=202, guards=[require("agent")])
    async def retry(self, request: Request, message_id: int) -> dict[str, Any]:
        row = await Message.select(Message.id, Message.direction).where(Message.id == message_id).first()
        if row is None or row["direction"] != "inbound":
            raise NotFound(f"no inbound message {message_id}")
        queued = await request.app.state.desk.enqueue(JOB_NAME, message_id, True,
                                                      job_id=job_id(message_id) + ":retry")
        return {"queued": bool(queued), "message_id": message_id}
