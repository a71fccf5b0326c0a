"""The Send API: POST /{version}/{page-id}/messages with recipient, messaging_type and message."""

from __future__ import annotations

import json
from typing import Any

import httpx

from core.plugin_api import ChannelError
from core.plugin_api import InboundAttachment
from plugins.facebook import graph


def attachment_type(content_type: str) -> str:
    major = content_type.split("/", 1)[0].lower()
    return major if major in ("image", "video", "audio") else "file"


async def send(client: httpx.AsyncClient, settings: Any, node: str, envelope: dict[str, Any],
               upload: InboundAttachment | None = None) -> str:
    """Send one message; with ``upload`` the file goes in the same request as multipart ``filedata``."""
    target = graph.url(settings, node, "messages")
    try:
        if upload is None:
            response = await client.post(target, json=envelope, headers=graph.headers(settings))
        else:
            form = {key: json.dumps(value) if isinstance(value, dict) else str(value) for key, value in envelope.items()}
            response = await client.post(target, data=form, headers=graph.headers(settings),
                                         files={"filedata": (upload.filename, upload.data, upload.content_type)})
    except httpx.HTTPError as exc:
        raise graph.network_error(exc, "send the message") from None
    if response.status_code >= 300:
        raise graph.error_from_response(response, settings, "send the message")
    try:
        return str(response.json()["message_id"])
    except (ValueError, KeyError, TypeError):
        raise ChannelError("Meta accepted the message but returned no message id", retryable=False) from None


async def download(client: httpx.AsyncClient, settings: Any, link: str) -> tuple[bytes, str]:
    """Fetch an attachment's CDN URL (signed by Meta) with the page token, bounded in size."""
    chunks: list[bytes] = []
    total = 0
    async with client.stream("GET", link, headers=graph.headers(settings)) as stream:
        if stream.status_code >= 300:
            await stream.aread()
            raise graph.error_from_response(stream, settings, "download the attachment")
        async for chunk in stream.aiter_bytes():
            total += len(chunk)
            if total > settings.max_media_bytes:
                raise ChannelError(f"the attachment is larger than {settings.max_media_bytes} bytes", retryable=False)
            chunks.append(chunk)
        content_type = stream.headers.get("content-type") or "application/octet-stream"
    return b"".join(chunks), content_type
