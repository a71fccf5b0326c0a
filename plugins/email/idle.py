"""IMAP IDLE: a long-running task per account and folder that triggers a poll the moment the
server reports new mail.

Where it runs. The periodic job ``email_idle`` runs only in processes that run jobs (the embedded
desk's in-process runner; `relaydesk worker` processes in the scaled mode) and makes sure this
process has its watcher tasks, restarting any that died. The `startup` hook cannot do this, because
a web process and a worker start the desk the same way. Web processes thus never hold IMAP
connections. With several workers, each may end up holding one IDLE connection per folder; that is
harmless (polls of one account are serialized per process and ingest dedupes), but keep it in mind
against the server's per-user connection limit (Dovecot: mail_max_userip_connections = 10).

A watcher never stores mail itself: on a push it calls the core's ``poll_account``, the same path
as the periodic poll, so the cursor rules (saved only after commit) hold for both.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from core.plugin_api import Account

from .imap import ImapSession

log = logging.getLogger("relaydesk.email.idle")

CHANNEL = "email"
RETRY_SECONDS = (1, 5, 15, 30, 60)


@dataclass
class Watchers:
    tasks: dict[tuple[str, str], asyncio.Task[Any]] = field(default_factory=dict)
    # (account, folder) -> "idling", "reconnecting" or "unsupported" (the server has no IDLE).
    state: dict[tuple[str, str], str] = field(default_factory=dict)
    pushes: int = 0


_by_desk: dict[int, Watchers] = {}


def watchers(desk: Any) -> Watchers:
    return _by_desk.setdefault(id(desk), Watchers())


def ensure(desk: Any) -> int:
    """Start the watchers this process lacks; returns how many are running."""
    w = watchers(desk)
    for account in desk.registry.accounts.values():
        if account.channel_type != CHANNEL or not account.settings.imap_url or not account.settings.idle:
            continue
        for folder in account.settings.folders:
            key = (account.name, folder)
            if w.state.get(key) == "unsupported":
                continue
            task = w.tasks.get(key)
            if task is None or task.done():
                w.tasks[key] = asyncio.create_task(_watch(desk, account, folder, w), name=f"email-idle:{key}")
    return sum(1 for t in w.tasks.values() if not t.done())


async def stop(desk: Any) -> None:
    w = _by_desk.pop(id(desk), None)
    if w is None:
        return
    for task in w.tasks.values():
        task.cancel()
    await asyncio.gather(*w.tasks.values(), return_exceptions=True)


async def _watch(desk: Any, account: Account, folder: str, w: Watchers) -> None:
    from core.plugin_api import poll_account

    key = (account.name, folder)
    failures = 0
    while True:
        try:
            async with ImapSession(account.settings) as imap:
                if not imap.has_idle():
                    log.info("%s/%s: the server has no IDLE; the periodic poll covers it", account.name, folder)
                    w.state[key] = "unsupported"
                    return
                await imap.select(folder)
                failures = 0
                while True:
                    w.state[key] = "idling"
                    new_mail = await _idle_once(imap.client, account.settings.idle_restart_seconds)
                    if new_mail:
                        w.pushes += 1
                        await poll_account(desk, account)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - reconnect with backoff, never die quietly
            w.state[key] = "reconnecting"
            delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
            failures += 1
            log.warning("%s/%s: IDLE failed (%s: %s); reconnecting in %ss", account.name, folder,
                        type(exc).__name__, exc, delay)
            await asyncio.sleep(delay)


async def _idle_once(client: Any, restart_seconds: float) -> bool:
    """One IDLE command: wait for a push or the restart time; True if the folder changed."""
    from aioimaplib import STOP_WAIT_SERVER_PUSH

    idle = await client.idle_start(timeout=restart_seconds)
    changed = False
    try:
        while client.has_pending_idle():
            push = await client.wait_server_push(timeout=restart_seconds + 30)
            if push == STOP_WAIT_SERVER_PUSH:  # the restart time is up
                break
            if any(b"EXISTS" in bytes(line) or b"RECENT" in bytes(line) for line in push):
                changed = True
                break
    finally:
        client.idle_done()
        await asyncio.wait_for(idle, timeout=30)
    return changed
