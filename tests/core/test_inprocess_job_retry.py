"""The in-process job runner (no Redis: the embedded deployment) retries a job that failed because
the database was momentarily unavailable, as an arq worker does: a delivery due during the outage
goes out right after it, although no sweeper would pick it up for an hour."""

from __future__ import annotations

import asyncio
from pathlib import Path

from core import outbound
from core.inbound import ingest
from core.tables import Message, Outbox
from core.types import InboundMessage
from tests.conftest import PG_ADMIN_URL, allow_loopback, wait_for
from tests.loopback import Scripted
from tests.services import TcpProxy


class SqliteOutage:
    """The database file's folder goes away (a network file system's hiccup, a remount): SQLite
    cannot open the file ("unable to open database file") until it is back."""

    def __init__(self, db_url: str) -> None:
        self.folder = Path(db_url.removeprefix("sqlite:///")).parent
        self.away = self.folder.with_name(self.folder.name + "-away")
        self.url = db_url

    def cut(self) -> None:
        self.folder.rename(self.away)

    def resume(self) -> None:
        if self.away.exists():
            self.away.rename(self.folder)


class PostgresOutage:
    """PostgreSQL restarts: the desk talks to it through a relay that resets and refuses."""

    def __init__(self, db_url: str) -> None:
        host, port = PG_ADMIN_URL.split("@", 1)[1].split("/", 1)[0].split(":")
        self.proxy = TcpProxy(host, int(port)).start()
        self.url = self.proxy.url_for(db_url)

    def cut(self) -> None:
        self.proxy.cut()

    def resume(self) -> None:
        if self.proxy._listener is None:
            self.proxy.resume()


async def test_a_job_due_during_a_database_outage_runs_after_it(make_desk, receiver, db_url):
    outage = SqliteOutage(db_url) if db_url.startswith("sqlite") else PostgresOutage(db_url)

    def configure(c):
        # No Redis: jobs run in this process. The outbox sweeper waits an hour: only a retry of the
        # job itself can deliver the reply within the test.
        c["relaydesk"].update(database=outage.url, sweep_interval_seconds=3600.0)
        c["plugins"]["api_channel"]["accounts"]["main"]["callback_url"] = receiver.url
        allow_loopback(c)

    web = await make_desk(configure)
    account = web.registry.account("api_channel", "main")
    [inbound] = await ingest(web, account, [InboundMessage(external_id="in-1", sender_handle="c-1", text="Hi")])
    # The receiver asks for 2 s; the retry falls due while the database is away.
    receiver.script = [Scripted(status=503, body={"error": "busy"}, headers={"retry-after": "2"})]
    message = await outbound.reply(web, inbound.ticket_id, author_id=None, text="due during the outage")

    async def retry_recorded() -> bool:
        row = await Outbox.select(Outbox.last_error).where(Outbox.message == message["id"]).first()
        return row["last_error"] is not None

    await wait_for(retry_recorded, timeout=20)
    outage.cut()
    try:
        await asyncio.sleep(4)
    finally:
        outage.resume()
    try:
        await wait_for(lambda: _sent(message["id"]), timeout=15)
    except AssertionError:
        raise AssertionError(f"not delivered after the outage; {web.jobs.failed} job(s) failed") from None
    assert [r.json()["text"] for r in receiver.requests] == ["due during the outage"] * 2
    assert web.jobs.failed == 0


async def _sent(message_id: int) -> bool:
    try:
        row = await Message.select(Message.delivery_status).where(Message.id == message_id).first()
    except Exception as exc:  # noqa: BLE001 - a pooled connection the outage broke: not yet
        from core.outage import unavailable_dependency

        if unavailable_dependency(exc):
            return False
        raise
    return row["delivery_status"] == "sent"
