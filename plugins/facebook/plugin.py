"""Hook implementations of the Messenger and Instagram direct-message channels."""

from __future__ import annotations

import logging
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
)
from core.plugin_api import hub_challenge, verify_hmac_sha256
from plugins.facebook import client, media, profiles, window
from plugins.facebook.desks import DESKS
from plugins.facebook.parse import parse_payload
from plugins.facebook.settings import InstagramAccountSettings, MessengerAccountSettings

log = logging.getLogger("relaydesk.facebook")

MESSENGER = "messenger"
INSTAGRAM = "instagram"
CHANNELS = (MESSENGER, INSTAGRAM)
OBJECTS = {MESSENGER: "page", INSTAGRAM: "instagram"}
SIGNATURE_HEADER = "x-hub-signature-256"
MB = 1000 * 1000
# Messenger's Send API takes any file up to 25 MB (image, video, audio or file). Instagram takes
# these formats only ("Upload Media for Instagram Messaging": images png/jpeg/gif 8 MB; audio aac,
# m4a, wav, mp4, video mp4, ogg, avi, mov, webm and pdf files 25 MB).
INSTAGRAM_TYPES = {
    "image/png": 8 * MB, "image/jpeg": 8 * MB, "image/gif": 8 * MB,
    "audio/aac": 25 * MB, "audio/mp4": 25 * MB, "audio/x-m4a": 25 * MB, "audio/wav": 25 * MB, "audio/x-wav": 25 * MB,
    "video/mp4": 25 * MB, "video/ogg": 25 * MB, "video/x-msvideo": 25 * MB, "video/quicktime": 25 * MB,
    "video/webm": 25 * MB, "application/pdf": 25 * MB,
}


@hookimpl
def register_channels(register):
    register(ChannelType(
        name=MESSENGER, label="Facebook Messenger", account_settings=MessengerAccountSettings,
        limits=ChannelLimits(max_text_length=2000, max_attachments=1, max_attachment_bytes=25 * MB,
                             reply_window_seconds=24 * 3600),
    ))
    register(ChannelType(
        name=INSTAGRAM, label="Instagram Direct", account_settings=InstagramAccountSettings,
        limits=ChannelLimits(max_text_length=1000, max_attachments=1, max_attachment_bytes=25 * MB,
                             attachment_types=INSTAGRAM_TYPES, reply_window_seconds=24 * 3600),
    ))


@hookimpl
def register_jobs(register):
    register(JobSpec(name=media.JOB, func=media.fetch_job))
    register(JobSpec(name=media.SWEEP_JOB, func=media.sweep_job, every=media.SWEEP_SECONDS))
    register(JobSpec(name=profiles.JOB, func=profiles.fetch_job))


@hookimpl
def startup(desk):
    DESKS.append(desk)


@hookimpl
def shutdown(desk):
    if desk in DESKS:
        DESKS.remove(desk)


@hookimpl
def ticket_event(event):
    if event.name in ("created", "customer_replied") and event.message_id and DESKS:
        return _after_inbound(event.message_id)
    return None


async def _after_inbound(message_id: int) -> None:
    await media.enqueue(message_id)
    await profiles.enqueue(message_id)


def node_id(account: Account) -> str:
    settings = account.settings
    return settings.page_id if account.channel_type == MESSENGER else settings.ig_account_id


@hookimpl
def parse_webhook(channel_type: str, account: Account, request: WebhookRequest):
    if channel_type not in CHANNELS:
        return None
    settings = account.settings
    if request.method == "GET":
        reply = hub_challenge(request.query, settings.verify_token)
        if reply is None:
            raise InvalidRequest("a GET here must be the subscription handshake (hub.mode, hub.verify_token, hub.challenge)")
        return WebhookResult(reply=reply)
    verify_hmac_sha256(settings.app_secret, request.body, request.headers.get(SIGNATURE_HEADER),
                       header_name="X-Hub-Signature-256 header")
    parsed = parse_payload(request.body, OBJECTS[channel_type], node_id(account), download_media=settings.download_media,
                           desk_id=request.desk_id)
    return WebhookResult(messages=parsed.messages, statuses=parsed.statuses, withdrawals=parsed.withdrawals,
                         invalid=parsed.invalid)


@hookimpl
def reply_constraints(channel_type: str, account: Account, ticket: dict[str, Any]):
    if channel_type not in CHANNELS:
        return None
    kind, closes = window.state(ticket.get("last_customer_message_at"), account.settings.human_agent_tag)
    out: dict[str, Any] = {"window_closes_at": closes, "window_kind": kind or "closed"}
    if kind is None:
        out["blocked_reason"] = window.closed_reason(account.settings.human_agent_tag)
    return out


@hookimpl
def send_message(channel_type: str, account: Account, message: OutboundMessage):
    if channel_type not in CHANNELS:
        return None
    return _send(account, message)


async def _send(account: Account, message: OutboundMessage) -> SendResult:
    settings = account.settings
    if not message.recipient_handle:
        raise ChannelError("the customer has no Messenger/Instagram id to send to", retryable=False)
    kind, _ = window.state(message.last_customer_message_at, settings.human_agent_tag)
    if kind is None:
        raise ChannelError(window.closed_reason(settings.human_agent_tag), retryable=False)
    base: dict[str, Any] = {"recipient": {"id": message.recipient_handle}}
    if kind == "24h":
        base["messaging_type"] = "RESPONSE"
    else:
        base.update(messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT")
    node = settings.page_id
    own = message.idempotency_key  # echoed back as message.metadata: parse skips our own echoes
    ids: list[str] = []
    async with httpx.AsyncClient(timeout=settings.timeout_seconds) as http:
        link = message.metadata.get("media")
        if isinstance(link, dict) and link.get("link"):
            kind_ = str(link.get("type") or "file")
            payload = {"attachment": {"type": kind_, "payload": {"url": str(link["link"]), "is_reusable": False}}, "metadata": own}
            ids.append(await client.send(http, settings, node, {**base, "message": payload}))
        for attachment in message.attachments:
            payload = {"attachment": {"type": client.attachment_type(attachment.content_type),
                                      "payload": {"is_reusable": False}}, "metadata": own}
            ids.append(await client.send(http, settings, node, {**base, "message": payload}, upload=attachment))
        if message.text.strip():
            ids.append(await client.send(http, settings, node, {**base, "message": {"text": message.text, "metadata": own}}))
    if not ids:
        raise ChannelError("the reply has neither text nor media", retryable=False)
    return SendResult(external_id=ids[-1], status="sent")
