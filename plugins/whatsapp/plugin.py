"""Hook implementations of the WhatsApp Cloud API channel."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx

from core.plugin_api import ChannelError, InvalidRequest
from core.plugin_api import hookimpl
from core.plugin_api import (
    Account,
    ChannelLimits,
    ChannelType,
    JobSpec,
    OutboundMessage,
    SendResult,
    WebhookRequest,
    WebhookResult,
    Withdrawal,
)
from core.plugin_api import hub_challenge, verify_hmac_sha256
from web.plugin_api import i18n
from plugins.whatsapp import client, media, templates, window
from plugins.whatsapp.parse import parse_payload
from plugins.whatsapp.settings import WhatsAppAccountSettings

log = logging.getLogger("relaydesk.whatsapp")
_ = i18n.translator(Path(__file__).parent / "translations")

CHANNEL = "whatsapp"
MB = 1000 * 1000
# What the Cloud API takes as media, with its size per type ("Supported media types" of the Cloud API
# reference). image/webp is left out: WhatsApp sends it as a sticker (512x512, 100 KB), not a photo.
ATTACHMENT_TYPES = {
    "image/jpeg": 5 * MB, "image/png": 5 * MB,
    "video/mp4": 16 * MB, "video/3gpp": 16 * MB,
    "audio/aac": 16 * MB, "audio/amr": 16 * MB, "audio/mpeg": 16 * MB, "audio/mp4": 16 * MB, "audio/ogg": 16 * MB,
    "text/plain": 100 * MB, "application/pdf": 100 * MB,
    "application/msword": 100 * MB, "application/vnd.ms-excel": 100 * MB, "application/vnd.ms-powerpoint": 100 * MB,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": 100 * MB,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": 100 * MB,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": 100 * MB,
}
SIGNATURE_HEADER = "x-hub-signature-256"


@hookimpl
def register_channels(register):
    register(ChannelType(
        name=CHANNEL, label="WhatsApp", account_settings=WhatsAppAccountSettings,
        limits=ChannelLimits(max_text_length=4096, max_attachments=10, max_attachment_bytes=100 * MB,
                             attachment_types=ATTACHMENT_TYPES, supports_html=False, reply_window_seconds=24 * 3600),
    ))


@hookimpl
def register_jobs(register):
    register(JobSpec(name=media.JOB, func=media.fetch_job))
    register(JobSpec(name=media.SWEEP_JOB, func=media.sweep_job, every=media.SWEEP_SECONDS))


@hookimpl
def startup(desk):
    media.DESKS.append(desk)


@hookimpl
def shutdown(desk):
    if desk in media.DESKS:
        media.DESKS.remove(desk)


@hookimpl
def ticket_event(event):
    # A new customer message may carry media to download: hand it to a job, after commit.
    if event.name in ("created", "customer_replied") and event.message_id and media.DESKS:
        return media.enqueue(event.message_id)
    return None


@hookimpl
def parse_webhook(channel_type: str, account: Account, request: WebhookRequest):
    if channel_type != CHANNEL:
        return None
    settings: WhatsAppAccountSettings = account.settings
    if request.method == "GET":
        reply = hub_challenge(request.query, settings.verify_token)
        if reply is None:
            raise InvalidRequest("a GET here must be the subscription handshake (hub.mode, hub.verify_token, hub.challenge)")
        return WebhookResult(reply=reply)
    verify_hmac_sha256(settings.app_secret, request.body, request.headers.get(SIGNATURE_HEADER),
                       header_name="X-Hub-Signature-256 header")
    messages, statuses, invalid = parse_payload(request.body, settings.phone_number_id)
    # A customer who deletes a message for everyone (type "revoke") takes it back: the stored
    # original is withdrawn; the revoke itself stays on the ticket as a note of what happened.
    withdrawals = [Withdrawal(external_id=m.references[0], at=m.sent_at) for m in messages
                   if m.metadata.get("whatsapp_type") == "revoke" and not m.is_echo and m.references]
    return WebhookResult(messages=messages, statuses=statuses, withdrawals=withdrawals, invalid=invalid)


@hookimpl
def reply_constraints(channel_type: str, account: Account, ticket: dict[str, Any]):
    if channel_type != CHANNEL:
        return None
    last = ticket.get("last_customer_message_at")
    if window.is_open(last):
        return {"window_closes_at": window.closes_at(last), "window_kind": "24h"}
    return _closed_constraints(account, last)


async def _closed_constraints(account: Account, last: Any) -> dict[str, Any]:
    offered, error = await templates.offered(account)
    out: dict[str, Any] = {"window_closes_at": window.closes_at(last), "window_kind": "24h",
                           "blocked_reason": _(window.CLOSED), "templates": offered}
    if error:
        out["templates_error"] = error
    return out


@hookimpl
def refresh_reply_templates(channel_type: str, account: Account):
    if channel_type != CHANNEL:
        return None
    return templates.listing(account, refresh=True)


@hookimpl
def send_message(channel_type: str, account: Account, message: OutboundMessage):
    if channel_type != CHANNEL:
        return None
    return _send(account, message)


async def _send(account: Account, message: OutboundMessage) -> SendResult:
    settings: WhatsAppAccountSettings = account.settings
    to = "".join(ch for ch in message.recipient_handle if ch.isdigit())
    if not to:
        raise ChannelError("the customer has no WhatsApp number to send to", retryable=False)
    template = message.metadata.get("template")
    if template is None and not window.is_open(message.last_customer_message_at):
        raise ChannelError(window.CLOSED, retryable=False)
    async with httpx.AsyncClient(timeout=settings.timeout_seconds) as http:
        if template is not None:
            if message.attachments:  # a template message has no room for them: say so, never drop them
                raise ChannelError("a WhatsApp template goes without files; send the files once the customer "
                                   "has answered and the 24-hour window is open", retryable=False)
            if not isinstance(template, dict):
                raise ChannelError("the template must be {name, language, params}", retryable=False)
            try:
                external_id = await client.post_message(http, settings, to, client.template_payload(template),
                                                        "send the template")
            except ChannelError as exc:
                raise templates.send_error(exc, template, message.author_language) from None
            return SendResult(external_id=external_id, status="sent")
        ids: list[str] = []
        caption_used = False
        text = message.text.strip()
        link = message.metadata.get("media")
        items: list[tuple[str, dict[str, Any]]] = []
        if isinstance(link, dict) and link.get("link"):
            kind = str(link.get("type") or "document")
            if kind not in client.MEDIA_TYPES:
                raise ChannelError(f"unknown WhatsApp media type {kind!r}", retryable=False)
            items.append((kind, {"link": str(link["link"]), **({"filename": link["filename"]} if link.get("filename") else {})}))
        for attachment in message.attachments:
            kind = client.media_kind(attachment.content_type)
            media_id = await client.upload(http, settings, attachment)
            body: dict[str, Any] = {"id": media_id}
            if kind == "document":
                body["filename"] = attachment.filename
            items.append((kind, body))
        for kind, body in items:
            if text and not caption_used and kind in client.CAPTIONED:
                body["caption"] = text
                caption_used = True
            ids.append(await client.post_message(http, settings, to, {"type": kind, kind: body}, f"send the {kind}"))
        if text and not caption_used:
            ids.append(await client.post_message(http, settings, to, {"type": "text", "text": {"preview_url": False, "body": text}},
                                                 "send the message"))
    if not ids:
        raise ChannelError("the reply has neither text nor media", retryable=False)
    return SendResult(external_id=ids[-1], status="sent")
