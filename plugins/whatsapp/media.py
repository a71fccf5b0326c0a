"""Downloading the media of inbound WhatsApp messages, after commit, in a job.

The parser stores each message with its media under metadata["pending_attachments"]; a job per
message (enqueued from the ticket_event hook) downloads them with the account's token and stores
them as attachments through the core. A periodic sweep catches what a lost queue forgot.
"""

from __future__ import annotations

import logging
import mimetypes
from datetime import timedelta
from typing import Any

import httpx

from core.plugin_api import attachments, clock
from core.plugin_api import ChannelError
from core.plugin_api import InboundAttachment
from plugins.whatsapp import client

log = logging.getLogger("relaydesk.whatsapp")

JOB = "whatsapp_fetch_media"
SWEEP_JOB = "whatsapp_media_sweep"
SWEEP_SECONDS = 60.0
# Media ids stay valid for about 30 days; retry unfinished downloads for a day.
SWEEP_HORIZON = timedelta(days=1)

# Started desks of this process: the ticket_event hook gets no desk, but enqueueing needs one.
DESKS: list[Any] = []


async def enqueue(message_id: int) -> None:
    desk = DESKS[-1]
    if _accounts(desk):  # the event may be for any channel; the job checks the message itself
        await desk.enqueue(JOB, message_id, job_id=f"{JOB}:{message_id}")


def _accounts(desk: Any) -> dict[int, Any]:
    return {a.id: a for a in desk.registry.accounts.values() if a.channel_type == "whatsapp"}


async def fetch_job(ctx: dict[str, Any], message_id: int) -> int:
    desk = ctx["desk"]
    accounts = _accounts(desk)
    rows = await attachments.pending_for(list(accounts), clock.now() - SWEEP_HORIZON, message_ids=[message_id])
    return await _fetch(desk, accounts, rows)


async def sweep_job(ctx: dict[str, Any]) -> int:
    desk = ctx["desk"]
    accounts = _accounts(desk)
    rows = await attachments.pending_for(list(accounts), clock.now() - SWEEP_HORIZON)
    return await _fetch(desk, accounts, rows)


async def _fetch(desk: Any, accounts: dict[int, Any], rows: list[dict[str, Any]]) -> int:
    stored = 0
    for row in rows:
        account = accounts.get(row["account"])
        if account is None:
            continue
        settings = account.settings
        async with httpx.AsyncClient(timeout=settings.timeout_seconds) as http:
            for item in row["pending"]:
                try:
                    data, content_type = await client.download(http, settings, str(item["media_id"]))
                except ChannelError as exc:
                    if exc.retryable:
                        log.warning("media %s of message %s: %s (will retry)", item["key"], row["id"], exc.message)
                        continue
                    await attachments.complete_pending(desk.data_dir, row["id"], item["key"], error=exc.message)
                    continue
                except httpx.HTTPError as exc:
                    log.warning("media %s of message %s: %s (will retry)", item["key"], row["id"], exc)
                    continue
                content_type = str(item.get("mime_type") or content_type)
                name = item.get("filename") or f"{item.get('kind') or 'media'}-{item['media_id']}{_extension(content_type)}"
                await attachments.complete_pending(desk.data_dir, row["id"], item["key"],
                                                   InboundAttachment(filename=name, content_type=content_type, data=data))
                stored += 1
    return stored


def _extension(content_type: str) -> str:
    base = content_type.split(";", 1)[0].strip().lower()
    return {"audio/ogg": ".ogg", "image/webp": ".webp", "image/jpeg": ".jpg"}.get(base) or mimetypes.guess_extension(base) or ""
