"""Calls to the WhatsApp Cloud API: send messages, upload and download media, list templates."""

from __future__ import annotations

import json
from typing import Any

import httpx

from core.plugin_api import ChannelError
from core.plugin_api import InboundAttachment
from plugins.whatsapp import graph

MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
CAPTIONED = ("image", "video", "document")


def media_kind(content_type: str) -> str:
    major = content_type.split("/", 1)[0].lower()
    if content_type.lower() == "image/webp":
        return "sticker"
    return major if major in ("image", "video", "audio") else "document"


async def post_message(client: httpx.AsyncClient, settings: Any, to: str, body: dict[str, Any], what: str) -> str:
    payload = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, **body}
    try:
        response = await client.post(graph.url(settings, settings.phone_number_id, "messages"),
                                     json=payload, headers=graph.headers(settings))
    except httpx.HTTPError as exc:
        raise graph.network_error(exc, what) from None
    if response.status_code >= 300:
        raise graph.error_from_response(response, settings, what)
    try:
        return str(response.json()["messages"][0]["id"])
    except (ValueError, KeyError, IndexError, TypeError):
        raise ChannelError("WhatsApp accepted the message but returned no message id", retryable=False) from None


async def upload(client: httpx.AsyncClient, settings: Any, item: InboundAttachment) -> str:
    """POST /{phone-number-id}/media (multipart) -> the media id to send."""
    try:
        response = await client.post(
            graph.url(settings, settings.phone_number_id, "media"), headers=graph.headers(settings),
            data={"messaging_product": "whatsapp", "type": item.content_type},
            files={"file": (item.filename, item.data, item.content_type)},
        )
    except httpx.HTTPError as exc:
        raise graph.network_error(exc, "upload the attachment") from None
    if response.status_code >= 300:
        raise graph.error_from_response(response, settings, "upload the attachment")
    return str(response.json().get("id"))


async def download(client: httpx.AsyncClient, settings: Any, media_id: str) -> tuple[bytes, str]:
    """GET /{media-id} for a short-lived URL, then GET the URL with the same token."""
    response = await client.get(graph.url(settings, media_id), headers=graph.headers(settings))
    if response.status_code >= 300:
        raise graph.error_from_response(response, settings, "find the media")
    info = response.json()
    media_url = info.get("url")
    if not media_url:
        raise ChannelError("WhatsApp returned no URL for the media", retryable=False)
    size = int(info.get("file_size") or 0)
    if size > settings.max_media_bytes:
        raise ChannelError(f"the media is larger than {settings.max_media_bytes} bytes", retryable=False)
    chunks: list[bytes] = []
    total = 0
    async with client.stream("GET", media_url, headers=graph.headers(settings)) as stream:
        if stream.status_code >= 300:
            await stream.aread()
            raise graph.error_from_response(stream, settings, "download the media")
        async for chunk in stream.aiter_bytes():
            total += len(chunk)
            if total > settings.max_media_bytes:
                raise ChannelError(f"the media is larger than {settings.max_media_bytes} bytes", retryable=False)
            chunks.append(chunk)
    content_type = str(info.get("mime_type") or stream.headers.get("content-type") or "application/octet-stream")
    return b"".join(chunks), content_type


MAX_TEMPLATE_PAGES = 20
TEMPLATE_FIELDS = "name,language,status,category,parameter_format,components"


async def approved_templates(client: httpx.AsyncClient, settings: Any) -> list[dict[str, Any]]:
    """GET /{waba-id}/message_templates, APPROVED ones only, page by page (bounded).

    Paging follows Graph's cursor: the next page is asked for with ``after=paging.cursors.after``
    while the answer has ``paging.next``. The ``next`` URL itself is never fetched, so the token
    only ever goes to ``base_url``."""
    target = graph.url(settings, str(settings.business_account_id), "message_templates")
    params: dict[str, Any] = {"fields": TEMPLATE_FIELDS, "limit": 100}
    out: list[dict[str, Any]] = []
    for _ in range(MAX_TEMPLATE_PAGES):
        try:
            response = await client.get(target, params=params, headers=graph.headers(settings))
        except httpx.HTTPError as exc:
            raise graph.network_error(exc, "list the message templates") from None
        if response.status_code >= 300:
            raise graph.error_from_response(response, settings, "list the message templates")
        try:
            page = response.json()
        except ValueError:
            raise ChannelError("WhatsApp answered the template list with something that is not JSON",
                               retryable=True, platform_code=str(response.status_code)) from None
        if not isinstance(page, dict) or not isinstance(page.get("data", []), list):
            raise ChannelError("WhatsApp's template list has no data array", retryable=True,
                               platform_code=str(response.status_code))
        out += [t for t in page.get("data") or [] if isinstance(t, dict) and t.get("status") == "APPROVED"]
        paging = page.get("paging") if isinstance(page.get("paging"), dict) else {}
        cursors = paging.get("cursors") if isinstance(paging.get("cursors"), dict) else {}
        after = cursors.get("after")
        if not paging.get("next") or not isinstance(after, str) or not after:
            break
        params = {**params, "after": after}
    return out


def template_payload(choice: dict[str, Any]) -> dict[str, Any]:
    """{"name", "language", "params"} -> the Cloud API's template object. ``params`` is a list
    (positional {{1}}, {{2}}) or a dict (named parameters)."""
    name = choice.get("name")
    if not isinstance(name, str) or not name:
        raise ChannelError("the template to send has no name", retryable=False)
    params = choice.get("params") or []
    if isinstance(params, dict) and params and all(str(k).isdigit() for k in params):
        # positional {{1}}, {{2}}: Meta matches parameters by their order
        params = [params[k] for k in sorted(params, key=lambda k: int(k))]
    if isinstance(params, dict):
        parameters = [{"type": "text", "parameter_name": str(k), "text": str(v)} for k, v in params.items()]
    elif isinstance(params, list):
        parameters = [{"type": "text", "text": str(v)} for v in params]
    else:
        raise ChannelError("template params must be a list or a mapping", retryable=False)
    template: dict[str, Any] = {"name": name, "language": {"code": str(choice.get("language") or "en_US")}}
    if parameters:
        template["components"] = [{"type": "body", "parameters": parameters}]
    return {"type": "template", "template": template}


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
