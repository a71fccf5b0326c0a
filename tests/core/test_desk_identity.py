"""Every desk has its own id, made by migrate, and every outbound idempotency key carries it: a
receiver that deduplicates on the key never drops a second desk's reply, nor one sent after a
database reset."""

from __future__ import annotations

from pathlib import Path

from core import db, outbound
from core.config import settings_from_dict
from core.desk import Desk
from core.inbound import ingest
from core.migrate import migrate
from core.tables import Message
from core.types import InboundMessage
from tests.conftest import allow_loopback, base_config, wait_for


async def _reply_through(database: str, data_dir: Path, callback: str) -> tuple[str, int]:
    """Migrate a fresh database, take one message, answer it twice; returns the desk id and the
    id of the second reply."""
    await db.connect(database)
    await migrate()
    await db.disconnect()
    config = base_config(database, data_dir)
    config["plugins"]["api_channel"]["accounts"]["main"]["callback_url"] = callback
    allow_loopback(config)
    desk = await Desk(settings_from_dict(config, "test-plugins.toml")).start()
    try:
        account = desk.registry.account("api_channel", "main")
        [stored] = await ingest(desk, account, [InboundMessage(external_id="in-1", sender_handle="c-1", text="Hi")])
        await outbound.reply(desk, stored.ticket_id, author_id=None, text="first")
        second = await outbound.reply(desk, stored.ticket_id, author_id=None, text="second")

        async def sent() -> bool:
            rows = await Message.select(Message.delivery_status).where(Message.direction == "outbound")
            return all(r["delivery_status"] == "sent" for r in rows)

        await wait_for(sent)
        return desk.desk_id, second["id"]
    finally:
        await desk.jobs.drain(timeout=5)
        await desk.stop()


async def test_two_desks_never_send_the_same_idempotency_key(tmp_path, receiver):
    one, message_one = await _reply_through(f"sqlite:///{tmp_path / 'one.db'}", tmp_path / "one", receiver.url)
    # the same desk after a database reset is a new desk as far as receivers can tell
    two, message_two = await _reply_through(f"sqlite:///{tmp_path / 'two.db'}", tmp_path / "two", receiver.url)
    assert message_one == message_two  # both desks' second reply has the same message id ...
    assert one != two and len(one) == 16
    keys = [r.headers["idempotency-key"] for r in receiver.requests]
    assert len(keys) == 4 and len(set(keys)) == 4  # ... yet no two keys are alike
    assert f"relaydesk-{one}-msg-{message_one}" in keys and f"relaydesk-{two}-msg-{message_two}" in keys
    assert all(r.json()["idempotency_key"] == r.headers["idempotency-key"] for r in receiver.requests)


async def test_migrate_gives_an_older_desk_an_id_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    await db.connect(url)
    try:
        await migrate()
        # The desk as it was before core_0007: no identity table, the migration not yet run.
        await db.engine().run_ddl("DROP TABLE desk_identity")
        await db.fetch("DELETE FROM migration WHERE name = {}", "2026-12-02T06:00:00:000000")
        assert await migrate() == 1
        [row] = await db.fetch("SELECT desk_id FROM desk_identity")
        assert len(row["desk_id"]) == 16
        assert await migrate() == 0  # migrating again keeps the id
        assert await db.fetch("SELECT desk_id FROM desk_identity") == [row]
    finally:
        await db.disconnect()
