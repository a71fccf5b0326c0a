"""Sign-in against guessing and forgery: a throttle per account whatever the address and per
address, X-Forwarded-For believed only from listed proxies (uvicorn does not rewrite the peer),
the same argon2 work for unknown accounts, CSRF tokens bound to the session, foreign origins refused."""

from __future__ import annotations

import asyncio
import json
import socket

import httpx
import uvicorn

from core.cli import UVICORN_OPTIONS
from core.tables import AuditEntry, LoginThrottle
from tests.helpers import make_agent
from tests.web.inbox_helpers import csrf_from, form_post, sign_in
from web.app import create_app


def client_at(desk, address: str, **headers) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(desk=desk), client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=headers)


async def test_the_account_locks_whatever_address_the_guesses_come_from(desk):
    await make_agent("agent", email="dan@example.com")
    for i in range(5):
        async with client_at(desk, f"198.51.100.{i + 1}") as client:
            assert (await sign_in(client, "dan@example.com", f"guess{i}")).status_code == 401
    async with client_at(desk, "203.0.113.77") as client:
        response = await sign_in(client, "dan@example.com", "pw")  # the right password, a new address
        assert response.status_code == 429 and "Too many failed sign-ins" in response.text
    row = await LoginThrottle.select().where(LoginThrottle.key == "account:dan@example.com").first()
    assert row["failures"] == 5 and row["locked_until"] is not None


async def test_forwarded_for_is_believed_only_from_listed_proxies(make_desk):
    desk = await make_desk()
    await make_agent("agent", email="fay@example.com")
    async with client_at(desk, "127.0.0.1", **{"x-forwarded-for": "203.0.113.9"}) as client:
        assert (await sign_in(client, "fay@example.com")).status_code in (302, 303)
    trusted = await make_desk(lambda c: c["relaydesk"].update(trusted_proxies=["127.0.0.1"]))
    async with client_at(trusted, "127.0.0.1", **{"x-forwarded-for": "6.6.6.6, 203.0.113.9"}) as client:
        assert (await sign_in(client, "fay@example.com")).status_code in (302, 303)
    rows = await AuditEntry.select(AuditEntry.changes).where(AuditEntry.action == "sign_in").order_by(AuditEntry.id)
    ips = [(json.loads(r["changes"]) if isinstance(r["changes"], str) else r["changes"])["ip"] for r in rows]
    assert ips == ["127.0.0.1", "203.0.113.9"]  # the spoofed left-most entry is ignored


async def test_one_address_is_locked_and_uvicorn_as_relaydesk_serve_runs_it_ignores_forwarded_for(desk):
    """20 failures from one address (whatever X-Forwarded-For says, over real HTTP) lock that address
    for every account, and only that address."""
    await make_agent("agent", email="gus@example.com")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(desk=desk), log_level="warning", **UVICORN_OPTIONS))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            await asyncio.sleep(0.05)
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        for i in range(20):
            async with httpx.AsyncClient(base_url=base, headers={"x-forwarded-for": f"198.51.100.{i}"}) as client:
                assert (await sign_in(client, f"nobody{i}@example.com", "x")).status_code == 401
        async with httpx.AsyncClient(base_url=base, headers={"x-forwarded-for": "192.0.2.1"}) as client:
            assert (await sign_in(client, "gus@example.com")).status_code == 429  # the address is 127.0.0.1
    finally:
        server.should_exit = True
        await serving
    async with client_at(desk, "198.51.100.10") as client:  # the account itself is not locked
        assert (await sign_in(client, "gus@example.com")).status_code in (302, 303)


async def test_unknown_and_known_accounts_cost_one_password_check_each(desk):
    from core.auth import password_checks

    await make_agent("agent", email="hal@example.com")
    async with client_at(desk, "198.51.100.20") as client:
        before = password_checks()
        await sign_in(client, "nobody@example.com", "x")
        unknown = password_checks() - before
        before = password_checks()
        await sign_in(client, "hal@example.com", "x")
        known = password_checks() - before
        metrics = (await client.get("/metrics")).text
    assert unknown == known == 1
    assert "relaydesk_password_checks_total" in metrics


async def test_a_planted_csrf_cookie_and_token_pair_is_refused(desk):
    await make_agent("agent", email="ida@example.com")
    async with client_at(desk, "198.51.100.30") as victim, client_at(desk, "198.51.100.31") as attacker:
        await sign_in(victim, "ida@example.com")
        page = await attacker.get("/login")
        planted_token = csrf_from(page.text)
        for name, value in attacker.cookies.items():  # every cookie the attacker's visit got, but the session
            if name != "relaydesk_session":
                victim.cookies.set(name, value)
        response = await victim.post("/settings", data={"locale": "zh", "_csrf_token": planted_token},
                                     follow_redirects=False)
        assert response.status_code == 403
        # the victim's own token still works
        response = await form_post(victim, "/settings", {"locale": "zh"}, page="/settings")
        assert response.status_code in (302, 303)


async def test_state_changes_from_another_origin_are_refused(desk):
    await make_agent("agent", email="jo@example.com")
    async with client_at(desk, "198.51.100.40") as client:
        await sign_in(client, "jo@example.com")
        token = csrf_from((await client.get("/settings")).text)
        for headers in ({"origin": "https://evil.example"}, {"origin": "null"}, {"sec-fetch-site": "cross-site"}):
            response = await client.post("/settings", data={"locale": "zh", "_csrf_token": token}, headers=headers,
                                         follow_redirects=False)
            assert response.status_code == 403, headers
        response = await client.post("/settings", data={"locale": "zh", "_csrf_token": token},
                                     headers={"origin": "http://testserver"}, follow_redirects=False)
        assert response.status_code in (302, 303)
        # a sign-in form posted from another site is refused too (login CSRF)
        async with client_at(desk, "198.51.100.41") as other:
            token = csrf_from((await other.get("/login")).text)
            response = await other.post("/login", data={"email": "jo@example.com", "password": "pw", "_csrf_token": token},
                                        headers={"origin": "https://evil.example"}, follow_redirects=False)
            assert response.status_code == 403
