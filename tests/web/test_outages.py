"""While the database is unreachable (PostgreSQL restarting, an SQLite file gone with its disk), webhooks and the API answer 503 with Retry-After (the platform
retries and nothing is lost), /ready says which dependency is down, /health stays up and /metrics
counts the refusals. PostgreSQL "restarts" behind a loopback relay, so the shared server is never
touched."""

from __future__ import annotations

import pytest

from tests.conftest import PG_ADMIN_URL, wait_for
from tests.helpers import auth, client_for, make_agent, message, post_messages
from tests.services import TcpProxy
from tests.web.inbox_helpers import sign_in



def metric(text: str, line_start: str) -> float:
    for line in text.splitlines():
        if line.startswith(line_start + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_a_database_outage_answers_503_and_loses_nothing(make_desk, db_url):
    host_port = PG_ADMIN_URL.split("@", 1)[1].split("/", 1)[0]
    proxy = TcpProxy(host_port.split(":")[0], int(host_port.split(":")[1])).start()
    desk = await make_desk(lambda c: c["relaydesk"].update(database=proxy.url_for(db_url)))
    _, token = await make_agent("agent", email="olga@example.com")
    # The relay stays up after the test: the desk's teardown closes its pool through it.
    async with client_for(desk) as client:
        assert (await post_messages(client, [message("before")])).status_code == 200
        assert (await sign_in(client, "olga@example.com")).status_code in (302, 303)

        proxy.cut()  # PostgreSQL goes away: open connections reset, new ones refused
        hook = await post_messages(client, [message("during", text="Wo ist mein Paket?")])
        api = await client.get("/api/v1/tickets", headers=auth(token))
        ready = await client.get("/ready")
        health = await client.get("/health")
        scrape = await client.get("/metrics")
        page = await client.get("/inbox/q/open", follow_redirects=False)

        proxy.resume()
        retried = await wait_for(lambda: _stored(client, "during"), timeout=15)
        ready_again = await client.get("/ready")
    for response in (hook, api):
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "5"
        assert response.json()["error"]["code"] == "unavailable"
        assert response.json()["error"]["dependency"] == "database"
    assert ready.status_code == 503 and ready.json()["checks"]["database"].startswith("error")
    assert health.status_code == 200
    assert scrape.status_code == 200
    # the agent sees a page that says to try again, not an error 500 (nor a sign-in page)
    assert page.status_code == 503 and page.headers["retry-after"] == "5"
    assert "try again in a moment" in page.text
    assert metric(scrape.text, 'relaydesk_unavailable_responses_total{dependency="database"}') == 2
    assert metric(scrape.text,
                  'relaydesk_ingest_failures_total{plugin="api_channel",reason="database_unavailable"}') == 1
    # The platform's retry after the outage stores the message: nothing was lost.
    assert retried.json()["stored"] == 1
    assert ready_again.status_code == 200


async def _stored(client, external_id: str):
    response = await post_messages(client, [message(external_id, text="Wo ist mein Paket?")])
    return response if response.status_code == 200 else None


async def test_an_unreachable_sqlite_file_answers_503_not_500(tmp_path):
    from core import db
    from core.config import settings_from_dict
    from core.desk import Desk
    from core.migrate import migrate
    from tests.conftest import base_config

    folder = tmp_path / "disk"
    folder.mkdir()
    url = f"sqlite:///{folder / 'desk.db'}"
    await db.connect(url)
    await migrate()
    await db.disconnect()
    desk = await Desk(settings_from_dict(base_config(url, tmp_path / "data"), "test-plugins.toml")).start()
    try:
        async with client_for(desk) as client:
            folder.rename(tmp_path / "unmounted")  # the disk holding the database goes away
            gone = await post_messages(client, [message("m-1")])
            (tmp_path / "unmounted").rename(folder)
            back = await post_messages(client, [message("m-1")])
    finally:
        await desk.stop()
    assert gone.status_code == 503 and gone.headers["retry-after"] == "5"
    assert gone.json()["error"]["dependency"] == "database"
    assert back.status_code == 200 and back.json()["stored"] == 1


def test_a_session_the_restarting_server_ended_mid_query_is_an_outage_not_a_bug():
    """What asyncpg raised for one webhook in 1,000 across a PostgreSQL restart (bench/drills.py):
    the webhook was answered 500 where a retry (503) stores it; a plain client error stays a bug."""
    from asyncpg.exceptions import InterfaceError, InternalClientError

    from core.outage import unavailable_dependency
    from web.errors import as_unavailable

    ended = InternalClientError("cannot switch to state 15; another operation (2) is in progress")
    assert unavailable_dependency(ended) == "database"
    assert as_unavailable(ended).retry_after == 5
    assert unavailable_dependency(InternalClientError("unexpected codec state")) is None
    assert unavailable_dependency(InterfaceError("cannot perform operation: another operation is in progress")) is None
