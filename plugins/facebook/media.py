"""Downloading attachments of inbound Messenger messages, after commit, in a job (see
plugins/whatsapp/media.py for the same pattern): the parser leaves them under
metadata["pending_attachments"], the ticket_event hook enqueues a job, a sweep catches the rest."""

from __future__ import annotations

import logging
import mimetypes
from datetime import timedelta
from typing import Any

import httpx

from core.plugin_api import attachments, clock
from core.plugin_api import ChannelError
from core.plugin_api import InboundAttachment
from plugins.facebook import client
from plugins.facebook.desks import DESKS, accounts

log = logging.getLogger("relaydesk.facebook")

JOB = "facebook_fetch_media"
SWEEP_JOB = "facebook_media_sweep"
SWEEP_SECONDS = 60.0
# Meta's CDN links expire; after a few hours there is nothing left to fetch.
SWEEP_HORIZON = timedelta(hours=6)
async def enqueue(message_id: int) -> None:
    desk = DESKS[-1]
    if any(a.settings.download_media for a in accounts(desk).values()):
        await desk.enqueue(JOB, message_id, job_id=f"{JOB}:{message_id}")


async def fetch_job(ctx: dict[str, Any], message_id: int) -> int:
    desk = ctx["desk"]
    by_id = accounts(desk)
    rows = await attachments.pending_for(list(by_id), clock.now() - SWEEP_HORIZON, message_ids=[message_id])
    return await _fetch(desk, by_id, rows)


async def sweep_job(ctx: dict[str, Any]) -> int:
    desk = ctx["desk"]
    by_id = accounts(desk)
    return await _fetch(desk, by_id, await attachments.pending_for(list(by_id), clock.now() - SWEEP_HORIZON))


async def _fetch(desk: Any, accounts: dict[int, Any], rows: list[dict[str, Any]]) -> int:
    stored = 0
    for row in rows:
        account = accounts.get(row["account"])
        if account is None:
            continue
        settings = account.settings
        async with httpx.AsyncClient(timeout=settings.timeout_seconds, follow_redirects=True) as http:
            for item in row["pending"]:
                try:
                    data, content_type = await client.download(http, settings, str(item["url"]))
                except ChannelError as exc:
                    if exc.retryable:
                        log.warning("attachment %s: %s (will retry)", item["key"], exc.message)
                        continue
                    await attachments.complete_pending(desk.data_dir, row["id"], item["key"], error=exc.message)
                    continue
                except httpx.HTTPError as exc:
                    log.warning("attachment %s: %s (will retry)", item["key"], exc)
                    continue
                base = content_type.split(";", 1)[0].strip().lower()
                name = f"{item.get('kind') or 'attachment'}-{len(data)}{mimetypes.guess_extension(base) or ''}"
                await attachments.complete_pending(desk.data_dir, row["id"], item["key"],
                                                   InboundAttachment(filename=name, content_type=base, data=data))
                stored += 1
    return stored
