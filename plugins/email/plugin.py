"""Hook implementations of the email channel."""

from __future__ import annotations

import logging
from typing import Any

from core.plugin_api import hookimpl
from core.plugin_api import Account, ChannelLimits, ChannelType, JobSpec, OutboundMessage, WebhookRequest, WebhookResult

from . import idle
from .settings import EmailAccountSettings

log = logging.getLogger("relaydesk.email")

CHANNEL = "email"
IDLE_JOB_EVERY = 5.0  # seconds between checks that this process's IDLE watchers are alive


@hookimpl
def register_channels(register):
    register(ChannelType(name=CHANNEL, label="Email", account_settings=EmailAccountSettings,
                         limits=ChannelLimits(max_text_length=100_000, max_attachments=10, max_attachment_bytes=25 * 1024 * 1024,
                                              supports_html=True)))


@hookimpl
def register_commands(register):
    from .cli import mail_group

    register(mail_group)


@hookimpl
def register_jobs(register):
    register(JobSpec(name="email_idle", func=_idle_job, every=IDLE_JOB_EVERY))


async def _idle_job(ctx: dict[str, Any]) -> int:
    return idle.ensure(ctx["desk"])


@hookimpl
def shutdown(desk):
    return idle.stop(desk)


@hookimpl
def parse_webhook(channel_type: str, account: Account, request: WebhookRequest):
    if channel_type != CHANNEL:
        return None
    from .receive import receive
    from .webhook import authenticate, check_mail

    authenticate(account.settings.ingest_token, request)
    raw = check_mail(request)
    received = receive(raw, account.settings, account.name)
    for note in received.notes:
        log.info("%s: %s", account.name, note)
    return WebhookResult(messages=received.messages, statuses=received.statuses)


@hookimpl
def poll(channel_type: str, account: Account, cursor: str | None):
    if channel_type != CHANNEL or not account.settings.imap_url:
        return None
    return _poll(account, cursor)


async def _poll(account: Account, cursor: str | None) -> tuple[list[Any], str, list[Any]]:
    from .imap import fetch_new
    from .receive import receive

    fetched, new_cursor = await fetch_new(account.settings, cursor)
    messages, statuses = [], []
    for item in fetched:
        received = receive(item.raw, account.settings, account.name)
        for message in received.messages:
            message.metadata["imap"] = {"folder": item.folder, "uid": item.uid}
        messages.extend(received.messages)
        statuses.extend(received.statuses)
        for note in received.notes:
            log.info("%s/%s uid %s: %s", account.name, item.folder, item.uid, note)
    return messages, new_cursor, statuses


@hookimpl
def send_message(channel_type: str, account: Account, message: OutboundMessage):
    if channel_type != CHANNEL:
        return None
    from .smtp import send

    return send(account.settings, message)


@hookimpl
def desk_mail(desk):
    """The desk's own mail goes out through the account marked desk_mail, else the first one that
    can send (core/desk_mail.py)."""
    senders = [a for a in desk.registry.accounts.values() if a.channel_type == CHANNEL and a.settings.smtp_url]
    if not senders:
        return None
    account = next((a for a in senders if a.settings.desk_mail), senders[0])
    from .smtp import send_desk_mail

    async def send(to: str, subject: str, text: str) -> None:
        await send_desk_mail(account.settings, to, subject, text)

    return send
