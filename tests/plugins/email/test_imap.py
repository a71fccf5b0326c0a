"""Inbound by IMAP against a real Dovecot: polling with the UID cursor, restarts, TLS, IDLE."""

from __future__ import annotations

import json

import pytest

from core.plugins import hookimpl
from core.polling import poll_account
from core.tables import ChannelAccount, Message, Ticket
from plugins.email import idle
from tests.conftest import wait_for
from tests.plugins.email.mailhelpers import email_config, email_env, mail


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    email_env(monkeypatch)


def imap_url(dovecot, tls: bool = False) -> str:
    return f"imaps://127.0.0.1:{dovecot.imaps_port}" if tls else f"imap://127.0.0.1:{dovecot.imap_port}"


async def cursor_of(account) -> dict:
    row = await ChannelAccount.select(ChannelAccount.poll_cursor).where(ChannelAccount.id == account.id).first()
    return json.loads(row["poll_cursor"]) if row["poll_cursor"] else {}


async def test_poll_fetches_each_mail_once_and_advances_the_cursor(make_desk, dovecot):
    user = dovecot.add_user()
    uids = [dovecot.append(user, mail(f"<m{i}@buyer.example>", sender=f"c{i}@buyer.example", subject=f"Order {i}"))
            for i in range(3)]
    desk = await make_desk(email_config(imap_url=imap_url(dovecot), user=user, imap_starttls=False), run_jobs=False)
    account = desk.registry.account("email", "support")
    assert await poll_account(desk, account) == 3
    cursor = await cursor_of(account)
    assert cursor["folders"]["INBOX"]["uid"] == uids[-1] and cursor["folders"]["INBOX"]["validity"] > 0
    assert await poll_account(desk, account) == 0  # nothing new: nothing fetched, nothing stored
    dovecot.append(user, mail("<m3@buyer.example>", sender="c3@buyer.example"))
    assert await poll_account(desk, account) == 1
    rows = await Message.select(Message.external_id, Message.metadata).order_by(Message.id)
    assert [r["external_id"] for r in rows] == [f"<m{i}@buyer.example>" for i in range(4)]
    assert await Ticket.count() == 4  # four customers, four tickets
    meta = rows[0]["metadata"] if isinstance(rows[0]["metadata"], dict) else json.loads(rows[0]["metadata"])
    assert meta["imap"] == {"folder": "INBOX", "uid": uids[0]}


class FailOnSubject:
    """A throwaway plugin whose classify hook fails on one mail, like a crash in the middle of
    storing a batch: the transaction rolls back and the core keeps the old cursor."""

    def __init__(self, subject: str) -> None:
        self.subject = subject
        self.armed = True

    @hookimpl
    def classify(self, message, ticket):
        if self.armed and message.subject == self.subject:
            raise RuntimeError("worker died mid-batch")
        return None


async def test_restart_mid_batch_loses_and_duplicates_nothing(make_desk, dovecot):
    user = dovecot.add_user()
    for i in range(7):
        dovecot.append(user, mail(f"<r{i}@buyer.example>", sender=f"r{i}@buyer.example", subject=f"Batch {i}"))
    crash = FailOnSubject("Batch 4")
    configure = email_config(imap_url=imap_url(dovecot), user=user, imap_starttls=False, poll_batch=3)
    desk = await make_desk(configure, run_jobs=False, extra_plugins=[("crash", crash)])
    account = desk.registry.account("email", "support")
    assert await poll_account(desk, account) == 3  # r0..r2 stored, cursor saved
    saved = await cursor_of(account)
    with pytest.raises(RuntimeError, match="mid-batch"):
        await poll_account(desk, account)  # r3..r5 fetched, storing fails on r4
    assert await cursor_of(account) == saved  # the cursor did not move past the lost batch
    assert await Message.count() == 3
    await desk.stop()

    # A new process (a fresh desk on the same database) picks up where the committed cursor is.
    desk2 = await make_desk(configure, run_jobs=False)
    account2 = desk2.registry.account("email", "support")
    stored = [await poll_account(desk2, account2) for _ in range(3)]
    assert stored == [3, 1, 0]
    ids = [r["external_id"] for r in await Message.select(Message.external_id).order_by(Message.id)]
    assert ids == [f"<r{i}@buyer.example>" for i in range(7)]  # each exactly once, none missing


async def test_several_folders_and_uidvalidity_change(make_desk, dovecot):
    user = dovecot.add_user()
    dovecot.append(user, mail("<f1@buyer.example>", sender="f1@buyer.example"))
    dovecot.append(user, mail("<f2@buyer.example>", sender="f2@buyer.example"), folder="Orders Team")
    configure = email_config(imap_url=imap_url(dovecot), user=user, imap_starttls=False,
                             folders=["INBOX", "Orders Team"])
    desk = await make_desk(configure, run_jobs=False)
    account = desk.registry.account("email", "support")
    assert await poll_account(desk, account) == 2
    cursor = await cursor_of(account)
    assert set(cursor["folders"]) == {"INBOX", "Orders Team"}
    # The folder was rebuilt (new UIDVALIDITY): it is read again and the dedupe stores nothing twice.
    cursor["folders"]["INBOX"]["validity"] += 1
    await ChannelAccount.update({ChannelAccount.poll_cursor: json.dumps(cursor)}).where(ChannelAccount.id == account.id)
    assert await poll_account(desk, account) == 0
    assert await Message.count() == 2
    assert (await cursor_of(account))["folders"]["INBOX"]["validity"] == cursor["folders"]["INBOX"]["validity"] - 1


async def test_imaps_with_a_private_ca(make_desk, dovecot, tls_cert):
    user = dovecot.add_user()
    dovecot.append(user, mail("<tls@buyer.example>"))
    desk = await make_desk(email_config(imap_url=imap_url(dovecot, tls=True), user=user, tls_ca_file=tls_cert.cert),
                           run_jobs=False)
    assert await poll_account(desk, desk.registry.account("email", "support")) == 1


async def test_starttls_is_used_on_imap_urls(make_desk, dovecot, tls_cert):
    user = dovecot.add_user()
    dovecot.append(user, mail("<stls@buyer.example>"))
    desk = await make_desk(email_config(imap_url=imap_url(dovecot), user=user, tls_ca_file=tls_cert.cert),
                           run_jobs=False)
    assert await poll_account(desk, desk.registry.account("email", "support")) == 1
    logins = [line for line in dovecot.log().splitlines() if f"Login: user=<{user}>" in line]
    assert len(logins) == 2 and "TLS" not in logins[0] and "TLS" in logins[1]  # the test's APPEND, then ours


async def test_untrusted_certificate_and_wrong_password_fail_clearly(make_desk, dovecot, monkeypatch):
    from core.errors import ChannelError

    user = dovecot.add_user()
    desk = await make_desk(email_config(imap_url=imap_url(dovecot, tls=True), user=user), run_jobs=False)
    with pytest.raises(ChannelError, match="cannot reach the IMAP server"):
        await poll_account(desk, desk.registry.account("email", "support"))  # self-signed, not trusted
    await desk.stop()
    monkeypatch.setenv("RELAYDESK_TEST_MAIL_PASSWORD", "wrong")
    desk = await make_desk(email_config(imap_url=imap_url(dovecot), user=user, imap_starttls=False), run_jobs=False)
    with pytest.raises(ChannelError, match="refused the login"):
        await poll_account(desk, desk.registry.account("email", "support"))
    assert await Message.count() == 0


async def test_idle_delivers_new_mail_without_waiting_for_the_poll(make_desk, dovecot):
    user = dovecot.add_user()
    # Jobs run in-process (the embedded mode): the email_idle job starts the watcher here.
    desk = await make_desk(email_config(imap_url=imap_url(dovecot), user=user, imap_starttls=False))
    account = desk.registry.account("email", "support")
    watch = idle.watchers(desk)
    await wait_for(lambda: watch.state.get(("support", "INBOX")) == "idling", timeout=15)
    await wait_for(lambda: cursor_of(account), timeout=15)  # the start-up poll has run
    dovecot.append(user, mail("<idle@buyer.example>", subject="Pushed"))
    # The periodic poll runs once an hour here: only the IDLE push can bring it in this fast.
    async def arrived():
        return await Message.select(Message.subject).where(Message.external_id == "<idle@buyer.example>").first()

    row = await wait_for(arrived, timeout=15)
    assert row["subject"] == "Pushed" and watch.pushes >= 1
    await desk.stop()
    assert idle._by_desk.get(id(desk)) is None  # shutdown closed the watcher
