"""Agents stay signed in through a Redis restart (Redis keeps nothing on disk) and a web process
restart: sessions live in the database."""

from __future__ import annotations

from core.tables import WebSession
from tests.helpers import client_for, make_agent
from tests.services import PrivateRedis
from tests.web.inbox_helpers import sign_in


async def test_a_redis_restart_signs_nobody_out(make_desk, tmp_path):
    redis = PrivateRedis(tmp_path).start()
    try:
        desk = await make_desk(lambda c: c["relaydesk"].update(redis=redis.url), run_jobs=True)
        _, _ = await make_agent("agent", email="dana@example.com")
        async with client_for(desk) as client:
            assert (await sign_in(client, "dana@example.com")).status_code in (302, 303)
            assert (await client.get("/inbox/q/open", follow_redirects=False)).status_code == 200
            redis.kill()
            redis.start()  # empty again
            after_restart = await client.get("/inbox/q/open", follow_redirects=False)
            cookies = dict(client.cookies)
        # a fresh app on the same desk: as after a web process restart
        async with client_for(desk) as again:
            again.cookies.update(cookies)
            after_new_process = await again.get("/inbox/q/open", follow_redirects=False)
    finally:
        redis.kill()
    assert after_restart.status_code == 200
    assert after_new_process.status_code == 200
    assert await WebSession.count() == 1
