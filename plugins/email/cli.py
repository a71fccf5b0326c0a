"""`relaydesk mail ingest --account NAME < message.eml`: store one raw mail (an MTA pipe).

Exit codes follow sysexits(3), which MTAs (Postfix pipe, Exim, sendmail) understand:
0 stored (or already stored), 64 usage error (no such --account), 65 the input is not a mail,
75 temporary failure (the database is unreachable...) and 78 configuration error (plugins.toml
unreadable, the email plugin not enabled): for these two the MTA keeps the mail and retries.
"""

from __future__ import annotations

import asyncio
import sys

import click

EX_USAGE, EX_DATAERR, EX_TEMPFAIL, EX_CONFIG = 64, 65, 75, 78


@click.group(name="mail")
def mail_group() -> None:
    """Email channel tools."""


@mail_group.command(name="ingest")
@click.option("--account", "account_name", default=None,
              help="The email account (plugins.email.accounts.<name>); optional when there is one.")
def ingest_command(account_name: str | None) -> None:
    """Store one raw RFC 822 mail read from standard input."""
    from core.plugin_api import load_settings
    from core.plugin_api import Desk
    from core.plugin_api import ConfigError

    from .webhook import mail_problem

    path = click.get_current_context().find_root().obj["settings_path"]
    try:
        desk = Desk(load_settings(path))
    except ConfigError as exc:
        click.echo(f"Configuration error {exc}", err=True)
        sys.exit(EX_CONFIG)
    accounts = [a for a in desk.registry.accounts.values() if a.channel_type == "email"]
    if account_name is not None:
        accounts = [a for a in accounts if a.name == account_name]
    if len(accounts) != 1:
        names = ", ".join(sorted(a.name for a in desk.registry.accounts.values() if a.channel_type == "email"))
        problem = f"no email account named {account_name!r}" if account_name else "several email accounts"
        click.echo(f"{problem}; choose one with --account (configured: {names or 'none'})", err=True)
        sys.exit(EX_USAGE)
    raw = sys.stdin.buffer.read()
    problem = mail_problem(raw)
    if problem:
        click.echo(f"{problem}: pipe a raw mail into this command", err=True)
        sys.exit(EX_DATAERR)
    try:
        summary = asyncio.run(_ingest(desk, accounts[0], raw))
    except Exception as exc:  # noqa: BLE001 - anything here is worth a retry by the MTA
        click.echo(f"temporary failure, the mail was not stored: {type(exc).__name__}: {exc}", err=True)
        sys.exit(EX_TEMPFAIL)
    click.echo(summary)


async def _ingest(desk, account, raw: bytes) -> str:  # noqa: ANN001
    from core.plugin_api import ingest

    from .receive import receive

    received = receive(raw, account.settings, account.name)
    await desk.start(run_jobs=False)
    try:
        results = await ingest(desk, account, received.messages, received.statuses) \
            if (received.messages or received.statuses) else []
    finally:
        await desk.stop()
    lines = []
    for message, result in zip(received.messages, results):
        if result.skipped:
            lines.append(f"skipped {message.external_id}: it would open a ticket and may not "
                         f"({', '.join(message.metadata.get('auto_reply_reasons', []))})")
        elif result.duplicate:
            lines.append(f"duplicate {message.external_id}: already stored as message {result.message_id}")
        else:
            lines.append(f"stored {message.external_id} as message {result.message_id} on ticket {result.ticket_id}")
    for status in received.statuses:
        lines.append(f"delivery report: {status.external_id} {status.status}"
                     + (f" ({status.error})" if status.error else ""))
    lines.extend(received.notes)
    return "\n".join(lines)
