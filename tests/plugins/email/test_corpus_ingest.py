"""Every mail of the shared corpus is stored through the plugin's receive() and the core's ingest
without an exception, on both databases: long ids, odd senders and broken MIME included."""

from __future__ import annotations

import pytest

from core.inbound import ingest
from core.tables import Attachment, Message
from plugins.email.receive import receive
from tests.plugins.email.mailhelpers import email_config, email_env
from tests.plugins.email.test_corpus import mail_files


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    email_env(monkeypatch)


async def test_every_corpus_mail_is_stored(make_desk):
    # Bulk mail may open tickets here so that every mail is stored, not skipped as an auto-reply.
    desk = await make_desk(email_config(auto_replies_open_tickets=True, rate_limit_per_hour=0), run_jobs=False)
    account = desk.registry.account("email", "support")
    files = mail_files()
    assert len(files) >= 98  # every .eml and the spamscope mails (the rest are expectation files)
    failures, stored, statuses, skipped = [], 0, 0, []
    for path in files:
        received = receive(path.read_bytes(), account.settings, account.name)
        try:
            results = await ingest(desk, account, received.messages, received.statuses)
        except Exception as exc:  # collect them all: the report names every mail that fails
            failures.append(f"{path.parent.name}/{path.name}: {type(exc).__name__}: {exc}"[:300])
            continue
        stored += sum(1 for r in results if not r.duplicate and not r.skipped)
        skipped += [path.name for r in results if r.skipped]
        statuses += len(received.statuses)
    assert failures == []
    print(f'corpus ingest: {len(files)} mails, {stored} stored, {statuses} delivery reports, skipped {skipped}')
    # Bounces become statuses (their outbound message is not ours, so they only log); mails
    # from our own address or bounces without an original id are skipped; duplicates (the
    # corpus holds byte-identical mails: stalwart-malformed 009 and 011) are dropped; the rest is stored.
    duplicates = len(files) - stored - statuses - len(skipped)
    assert stored == await Message.count() and stored >= 94
    assert duplicates >= 0 and len(skipped) <= 5, skipped
    assert await Attachment.count() > 50
