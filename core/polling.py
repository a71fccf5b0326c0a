"""Polled channels (IMAP, marketplaces): ask the plugin for news since the account's cursor, store
it, and only then save the new cursor, so a crash mid-batch fetches the batch again (ingest dedupes)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from core import db
from core.events import await_me_maybe
from core.inbound import ingest
from core.metrics import INGEST_FAILURES
from core.outage import failure_reason, unavailable_dependency
from core.tables import ChannelAccount
from core.types import Account

if TYPE_CHECKING:
    from core.desk import Desk

log = logging.getLogger("relaydesk.polling")


async def poll_account(desk: "Desk", account: Account) -> int | None:
    """One poll of one account. Returns how many messages were new, or None if its channel is not polled.

    Polls of one account never overlap in a process, so a slow poll cannot write back an older
    cursor over a newer one (across arq workers the periodic job is unique)."""
    lock = desk.locks.setdefault(("poll", account.id), asyncio.Lock())
    async with lock:
        return await _poll(desk, account)


async def _poll(desk: "Desk", account: Account) -> int | None:
    row = await ChannelAccount.select(ChannelAccount.poll_cursor).where(ChannelAccount.id == account.id).first()
    cursor = row["poll_cursor"] if row else None
    pending = desk.registry.hook.poll(channel_type=account.channel_type, account=account, cursor=cursor)
    if pending is None:
        return None
    fetched = await await_me_maybe(pending)
    messages, new_cursor = fetched[0], fetched[1]
    statuses = list(fetched[2]) if len(fetched) > 2 else []  # delivery reports found while polling
    results = await ingest(desk, account, list(messages), statuses) if (messages or statuses) else []
    if new_cursor != cursor:
        await ChannelAccount.update({ChannelAccount.poll_cursor: new_cursor}).where(ChannelAccount.id == account.id)
    return sum(1 for r in results if not r.duplicate and not r.skipped)


async def poll_all_job(ctx: dict[str, Any]) -> int:
    """The periodic job: poll every account whose channel is polled. A failing account is logged
    and does not stop the others."""
    desk = ctx["desk"]
    total = 0
    for account in desk.registry.accounts.values():
        try:
            total += await poll_account(desk, account) or 0
        except Exception as exc:
            INGEST_FAILURES.labels(plugin=account.plugin, reason=failure_reason(exc)).inc()
            if unavailable_dependency(exc) and not await _database_answers():
                # the desk's own database is down, not this account's platform (a refused IMAP
                # connection looks the same): the periodic job logs the outage once (core.jobs)
                raise
            log.exception("polling %s/%s failed", account.plugin, account.name)
    return total


async def _database_answers() -> bool:
    try:
        await asyncio.wait_for(db.fetch("SELECT 1 AS one"), timeout=5)
    except Exception:
        return False
    return True
