"""The webchat channel: the loader and the frame (CSP, language), proof of work, honeypot, rate
limits, a conversation that becomes a ticket with the pre-chat fields, later messages on the same
ticket, an agent's reply delivered (and mailed when the visitor has left), on both databases."""

from __future__ import annotations

import hashlib
import itertools
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from core.config import settings_from_dict
from core.errors import ConfigError
from core.migrate import migrate
from core.plugins import load_registry
from core.tables import Customer, Message, Ticket
from plugins.webchat import guard
from plugins.webchat.tables import WebchatSession
from tests.conftest import wait_for
from tests.helpers import auth, client_for, make_agent

import pytest
from pluggy import HookimplMarker

hookimpl = HookimplMarker("relaydesk")


def _config(**account: Any) -> Callable[[dict[str, Any]], None]:
    def configure(config: dict[str, Any]) -> None:
        config["plugins"]["enabled"] = ["api_channel", "webchat"]
        config["plugins"]["webchat"] = {"accounts": {"shop": {
            "pow_bits": 8, "allowed_origins": ["https://shop.example"], "conversations_per_hour": 3, **account}}}
    return configure


async def _desk(make_desk: Callable[..., Any], extra_plugins: Any = None, **account: Any) -> Any:
    desk = await make_desk(_config(**account), extra_plugins=extra_plugins)
    await migrate(desk.registry.migrations)
    guard._windows.clear()
    return desk


def solve(challenge: str, bits: int) -> str:
    for nonce in itertools.count():
        if guard.leading_zero_bits(hashlib.sha256(f"{challenge}:{nonce}".encode()).digest()) >= bits:
            return str(nonce)
    raise AssertionError


async def _start(client: Any, **fields: Any) -> Any:
    ch = (await client.get("/webchat/shop/challenge")).json()
    body = {"challenge": ch["challenge"], "nonce": solve(ch["challenge"], ch["bits"]), "text": "Where is my parcel?",
            **fields}
    return await client.post("/webchat/shop/start", json=body)


def test_bad_settings_fail_at_startup() -> None:
    config = {"relaydesk": {"database": "sqlite:///x.db"}, "plugins": {"enabled": ["webchat"], "webchat": {
        "accounts": {"shop": {"allowed_origins": ["shop.example/*"]}}}}}
    with pytest.raises(ConfigError):
        load_registry(settings_from_dict(config, "p.toml"))


async def test_conversation_becomes_a_ticket(make_desk: Callable[..., Any]) -> None:
    desk = await _desk(make_desk)
    _, token = await make_agent("agent")
    async with client_for(desk) as client:
        loader = await client.get("/webchat/shop/widget.js")
        assert loader.status_code == 200 and len(loader.content) < 3000  # one small script, no third-party code
        assert "http" not in loader.text.replace("https://desk/webchat", "")
        frame = await client.get("/webchat/shop/frame?lang=zh-CN")
        assert frame.status_code == 200 and "我们能帮您什么？" in frame.text and "zh-Hans" in frame.text
        assert "frame-ancestors https://shop.example" in frame.headers["content-security-policy"]
        assert "x-frame-options" not in {k.lower() for k in frame.headers} or \
            "frame-ancestors" in frame.headers["content-security-policy"]  # CSP's frame-ancestors wins in browsers
        assert (await client.get("/webchat/nobody/frame")).status_code == 404

        ch = (await client.get("/webchat/shop/challenge")).json()
        lazy = await client.post("/webchat/shop/start", json={"challenge": ch["challenge"], "nonce": "x", "text": "hi"})
        assert lazy.status_code == 400 and "proof of work" in lazy.json()["error"]["message"]
        forged = ch["challenge"][:-4] + "0000"
        assert (await client.post("/webchat/shop/start", json={
            "challenge": forged, "nonce": solve(forged, 8), "text": "hi"})).status_code == 400
        assert (await client.post("/webchat/shop/start", content=b"{not json")).status_code == 400
        assert (await client.post("/webchat/shop/start", json={"text": 5})).status_code == 400
        bot = await _start(client, website="http://spam.example")
        assert bot.status_code == 201  # looks accepted ...
        assert await Ticket.count() == 0  # ... stores nothing

        started = await _start(client, name="Mia Keller", email="mia@example.com", order="#1001", language="en")
        assert started.status_code == 201, started.text
        key = started.json()["key"]
        ticket = await Ticket.select().first()
        first = await Message.select().where(Message.ticket == ticket["id"]).first()
        assert first["text"] == "Where is my parcel?" and first["direction"] == "inbound"
        customer = await Customer.select().where(Customer.id == first["customer"]).first()
        assert customer["name"] == "Mia Keller"
        assert "1001" in str(first["metadata"]) or "1001" in str(ticket)
        more = await client.post("/webchat/shop/messages", json={"key": key, "text": "It was order 1001."})
        assert more.status_code == 201
        assert await Message.count().where(Message.ticket == ticket["id"]) == 2
        assert (await client.post("/webchat/shop/messages", json={"key": "wrong", "text": "x"})).status_code == 404
        assert (await client.post("/webchat/shop/messages", json={"key": key, "text": "  "})).status_code == 400
        assert (await client.post("/webchat/shop/messages", json={"key": key, "text": "x" * 5001})).status_code == 400
        session = await WebchatSession.select().first()
        assert session["key_hash"] != key and session["email"] == "mia@example.com"

        for _ in range(2):
            await _start(client)
        assert (await _start(client)).status_code == 429  # conversations_per_hour = 3

        reply = await client.post(f"/api/v1/tickets/{ticket['id']}/reply", headers=auth(token),
                                  json={"text": "It left our warehouse today."})
        assert reply.status_code == 202, reply.text


class Postman:
    """A throwaway plugin offering the desk's outgoing mail (what the email plugin's SMTP account does)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    @hookimpl
    def desk_mail(self, desk: Any) -> Any:
        async def send(to: str, subject: str, text: str) -> None:
            self.sent.append((to, subject, text))
        return send


async def test_replies_go_by_email_once_the_visitor_has_left(make_desk: Callable[..., Any]) -> None:
    postman = Postman()
    desk = await _desk(make_desk, extra_plugins=[("postman", postman)], away_seconds=5)
    _, token = await make_agent("agent")
    async with client_for(desk) as client:
        assert (await _start(client, email="wei@example.cn", language="zh")).status_code == 201
        ticket = await Ticket.select(Ticket.id).first()
        present = await client.post(f"/api/v1/tickets/{ticket['id']}/reply", headers=auth(token),
                                    json={"text": "We are on it."})
        assert present.status_code == 202
        await wait_for(lambda: _delivered(ticket["id"], "We are on it."))
        assert postman.sent == []  # the visitor is on the page: the widget shows it, no mail
        await WebchatSession.update({WebchatSession.last_seen: datetime.now(timezone.utc) - timedelta(minutes=5)},
                                    force=True)
        away = await client.post(f"/api/v1/tickets/{ticket['id']}/reply", headers=auth(token),
                                 json={"text": "Shipped today, tracking CN123."})
        assert away.status_code == 202
        await wait_for(lambda: postman.sent)
    assert postman.sent == [("wei@example.cn", "您的留言有了回复", "Shipped today, tracking CN123.")]


async def _delivered(ticket_id: int, text: str) -> bool:
    row = await Message.select(Message.delivery_status).where(
        (Message.ticket == ticket_id) & (Message.text == text)).first()
    return bool(row and row["delivery_status"] in ("sent", "delivered"))


async def test_widget_sessions_for_reports(make_desk: Callable[..., Any]) -> None:
    from plugins.webchat import stats
    from plugins.webchat.plugin import report_figures

    stats._pending.clear()
    desk = await _desk(make_desk)
    async with client_for(desk) as client:
        for _ in range(4):
            assert (await client.get("/webchat/shop/frame?lang=en")).status_code == 200
        assert (await _start(client)).status_code == 201
    now = datetime.now(timezone.utc)
    figures = {f["key"]: f for f in await report_figures(now - timedelta(hours=1), now + timedelta(hours=1))}
    assert figures["webchat.sessions"]["value"] == 4 and figures["webchat.tickets"]["count"] == 1
    assert figures["webchat.deflected"]["value"] == 75.0


async def test_messages_sent_at_once_are_all_kept(make_desk: Callable[..., Any]) -> None:
    import asyncio

    desk = await _desk(make_desk, messages_per_minute=50)
    async with client_for(desk) as client:
        key = (await _start(client)).json()["key"]
        answers = await asyncio.gather(*(client.post("/webchat/shop/messages", json={"key": key, "text": f"part {i}"})
                                         for i in range(8)))
    assert sorted(a.status_code for a in answers) == [201] * 8
    ticket = await Ticket.select(Ticket.id).first()
    texts = {m["text"] for m in await Message.select(Message.text).where(Message.ticket == ticket["id"])}
    assert {f"part {i}" for i in range(8)} <= texts
