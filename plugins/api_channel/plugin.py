"""Hook implementations of the API channel."""

from __future__ import annotations

import json
from datetime import datetime

import httpx
import msgspec

from core.plugin_api import urlguard
from core.plugin_api import ChannelError, InvalidRequest, SignatureInvalid
from core.plugin_api import hookimpl
from core.plugin_api import (
    Account,
    ChannelLimits,
    ChannelType,
    InboundAttachment,
    InboundMessage,
    OutboundMessage,
    SendResult,
    StatusUpdate,
    WebhookRequest,
    WebhookResult,
)
from plugins.api_channel import signing
from plugins.api_channel.wire import InboundPayload

CHANNEL = "api"


class ApiAccountSettings(msgspec.Struct, forbid_unknown_fields=True):
    secret: str
    callback_url: str | None = None
    timeout_seconds: float = 10.0
    # Trust the email/phone the sender posts as verified (it is your own system posting).
    trust_contact_details: bool = False


@hookimpl
def register_channels(register):
    register(ChannelType(name=CHANNEL, label="API", account_settings=ApiAccountSettings,
                         limits=ChannelLimits(max_text_length=100_000, supports_html=True)))


@hookimpl
def parse_webhook(channel_type: str, account: Account, request: WebhookRequest):
    if channel_type != CHANNEL:
        return None
    problem = signing.verify(account.settings.secret, request.body, request.headers.get(signing.HEADER))
    if problem:
        raise SignatureInvalid(problem)
    try:
        payload = msgspec.json.decode(request.body, type=InboundPayload)
    except msgspec.ValidationError as exc:
        raise InvalidRequest(f"the payload does not match the API channel format: {exc}") from None
    except msgspec.DecodeError as exc:
        raise InvalidRequest(f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise InvalidRequest("the body is nested too deeply") from None
    trusted = account.settings.trust_contact_details
    messages = [
        InboundMessage(
            external_id=m.id, sender_handle=m.sender.id, sender_name=m.sender.name,
            sender_email=m.sender.email, sender_phone=m.sender.phone,
            email_verified=trusted and bool(m.sender.email), phone_verified=trusted and bool(m.sender.phone),
            text=m.text, html=m.html, subject=m.subject, thread_key=m.thread_id,
            sent_at=m.sent_at, order_ids=list(m.order_ids), language=m.language,
            attachments=[InboundAttachment(filename=a.filename, content_type=a.content_type, data=a.data)
                         for a in m.attachments],
            metadata=dict(m.metadata),
        )
        for m in payload.messages
    ]
    statuses = [StatusUpdate(external_id=s.id, status=s.status, error=s.error, at=s.at) for s in payload.statuses]
    return WebhookResult(messages=messages, statuses=statuses)


@hookimpl
def send_message(channel_type: str, account: Account, message: OutboundMessage):
    if channel_type != CHANNEL:
        return None
    return _post_reply(account, message)


async def _post_reply(account: Account, message: OutboundMessage) -> SendResult:
    url = account.settings.callback_url
    if not url:
        raise ChannelError("this API account has no callback_url, so replies cannot be delivered", retryable=False)
    body = json.dumps({
        "type": "reply",
        "idempotency_key": message.idempotency_key,
        "ticket_id": message.ticket_id,
        "message_id": message.message_id,
        "recipient": message.recipient_handle,
        "thread_id": message.thread_key,
        "in_reply_to": message.in_reply_to,
        "author": message.author_name,
        "text": message.text,
        "html": message.html,
        "sent_at": datetime.now().astimezone().isoformat(),
    }, ensure_ascii=False).encode()
    headers = {
        "content-type": "application/json",
        "idempotency-key": message.idempotency_key,
        "x-relaydesk-signature": signing.sign(account.settings.secret, body),
    }
    try:
        async with httpx.AsyncClient(timeout=account.settings.timeout_seconds, follow_redirects=False) as client:
            response = await urlguard.request(client, "POST", url, content=body, headers=headers)
    except urlguard.UrlRefused as exc:
        raise ChannelError(f"callback_url refused: {exc.message}", retryable=False) from None
    except httpx.HTTPError as exc:
        raise ChannelError(f"the callback could not be reached: {type(exc).__name__}: {exc}", retryable=True) from None
    if response.status_code >= 500 or response.status_code in (408, 425, 429):
        retry_after = _retry_after(response.headers.get("retry-after"))
        raise ChannelError(f"the callback answered {response.status_code}", retryable=True,
                           platform_code=str(response.status_code), retry_after=retry_after)
    if response.status_code >= 400:
        raise ChannelError(f"the callback refused the reply: {response.status_code} {response.text[:300]}",
                           retryable=False, platform_code=str(response.status_code))
    try:
        external_id = str(response.json().get("id") or message.idempotency_key)
    except (ValueError, AttributeError):
        external_id = message.idempotency_key
    return SendResult(external_id=external_id, status="sent")


def _retry_after(value: str | None) -> float | None:
    try:
        return min(600.0, float(value)) if value else None
    except ValueError:
        return None
