"""A desk on the same machine as PostgreSQL reaches it through its Unix socket (docs/operating.md)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from core.config import settings_from_dict
from core.desk import Desk
from core.inbound import ingest
from core.tables import Message
from core.types import InboundMessage
from tests.conftest import _create_pg_database, _drop_pg_database, base_config

pytestmark = pytest.mark.asyncio(loop_scope="session")

SOCKET_DIR = "/var/run/postgresql"


def over_socket(tcp_url: str) -> str:
    parts = urlsplit(tcp_url)
    user = parts.netloc.rsplit("@", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}@", query=f"host={SOCKET_DIR}"))


async def test_a_desk_migrates_and_ingests_over_the_unix_socket(tmp_path: Path) -> None:
    tcp_url = await _create_pg_database()
    url = over_socket(tcp_url)
    assert "127.0.0.1" not in url and url.endswith(f"?host={SOCKET_DIR}")
    desk = Desk(settings_from_dict(base_config(url, tmp_path / "data"), "socket-plugins.toml"))
    try:
        await desk.start(migrate=True)
        account = desk.registry.account("api_channel", "main")
        [result] = await ingest(desk, account, [InboundMessage(external_id="s1", sender_handle="c", text="hello")])
        assert not result.duplicate and result.ticket_id
        assert await Message.count() == 1
    finally:
        await desk.stop()
        await _drop_pg_database(tcp_url)
