"""The survey from solve to rating, on both databases."""

from __future__ import annotations

import re
import time
from typing import Any, Callable

from core import tickets
from core.tables import Message, Ticket
from plugins.csat import tokens
from plugins.csat.survey import send_survey
from plugins.csat.tables import CsatSurvey
from tests.conftest import wait_for
from tests.helpers import client_for, make_agent, message, post_messages
from tests.plugins.csat.conftest import SECRET, Listener, csat_desk


async def _ticket(desk: Any, external_id: str, sender: str = "cust-1", language: str | None = "de",
                  assignee: int | None = None) -> int:
    async with client_for(desk) as client:
        response = await post_messages(client, [message(external_id, sender=sender, text="Wo ist mein Paket?")])
        assert response.status_code in (200, 202), response.text
    row = await Message.select(Message.ticket).where(Message.external_id == external_id).first()
    await Ticket.update({Ticket.language: language, Ticket.assignee: assignee}).where(Ticket.id == row["ticket"])
    return row["ticket"]


async def _solve(desk: Any, ticket_id: int) -> None:
    await tickets.update_ticket(desk, ticket_id, actor="agent:1", status="solved")
    await desk.jobs.drain()


async def _survey_message(ticket_id: int) -> dict[str, Any] | None:
    return await Message.select().where((Message.ticket == ticket_id) & (Message.direction == "outbound")).first()


def _token(text: str) -> str:
    found = re.search(r"https://desk\.example\.com/csat/(\S+)", text)
    assert found, text
    return found.group(1)


async def test_hook_ticket_event_sends_a_signed_link_in_the_customers_language(make_desk: Callable[..., Any]) -> None:
    desk = await csat_desk(make_desk)
    agent_id, _ = await make_agent()
    ticket_id = await _ticket(desk, "c-1", assignee=agent_id)
    await _solve(desk, ticket_id)
    sent = await _survey_message(ticket_id)
    assert sent is not None and sent["author"] is None  # an automatic reply
    assert sent["text"].startswith("Ihre Anfrage wurde gelöst.")
    token = _token(sent["text"])
    survey = await CsatSurvey.select().where(CsatSurvey.ticket == ticket_id).first()
    assert survey["agent"] == agent_id and survey["kind"] == "csat" and survey["message_id"] == sent["id"]
    assert (await Ticket.select(Ticket.status).where(Ticket.id == ticket_id).first())["status"] == "solved"

    async with client_for(desk) as client:
        page = await client.get(f"/csat/{token}")
        assert page.status_code == 200
        assert "Wie zufrieden sind Sie" in page.text and 'lang="de"' in page.text
        # its own policy: no script, only its own <style> (by hash; the desk's default forbids inline styles)
        import base64, hashlib, re  # noqa: E401
        style = re.search(r"<style>(.*?)</style>", page.text, flags=re.S).group(1)
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        policy = page.headers["content-security-policy"]
        assert f"style-src 'sha256-{digest}'" in policy and "default-src 'none'" in policy and "script" not in policy
        bad = await client.post(f"/csat/{token}", data={"score": "9"})
        assert bad.status_code == 400 and "Bitte wählen Sie eine Bewertung." in bad.text
        done = await client.post(f"/csat/{token}", data={"score": "5", "comment": "<script>alert(1)</script> super"})
        assert done.status_code == 200 and "Vielen Dank" in done.text
        assert "<script>" not in done.text
        again = await client.post(f"/csat/{token}", data={"score": "1"})
        assert again.status_code == 410 and "bereits beantwortet" in again.text
        assert (await client.get(f"/csat/{token}")).status_code == 410
    stored = await CsatSurvey.select().where(CsatSurvey.ticket == ticket_id).first()
    assert stored["score"] == 5 and stored["comment"] == "<script>alert(1)</script> super"


async def test_forged_expired_and_malformed_links(make_desk: Callable[..., Any]) -> None:
    desk = await csat_desk(make_desk)
    ticket_id = await _ticket(desk, "c-2", language="zh")
    await _solve(desk, ticket_id)
    token = _token((await _survey_message(ticket_id))["text"])
    survey = await CsatSurvey.select().where(CsatSurvey.ticket == ticket_id).first()
    async with client_for(desk) as client:
        assert "您对收到的帮助满意吗" in (await client.get(f"/csat/{token}")).text
        forged = tokens.make("not-the-secret", ticket_id, int(time.time()) + 3600, survey["nonce"])
        page = await client.get(f"/csat/{forged}")
        assert page.status_code == 403 and "This link is not valid." in page.text
        unknown = tokens.make(SECRET, ticket_id, int(time.time()) + 3600, "no-such-survey")
        assert (await client.get(f"/csat/{unknown}")).status_code == 403
        expired = tokens.make(SECRET, ticket_id, int(time.time()) - 5, survey["nonce"])
        page = await client.post(f"/csat/{expired}", data={"score": "5"})
        assert page.status_code == 410 and "expired" in page.text
        assert (await client.get(f"/csat/{token[:10]}")).status_code == 400
    assert (await CsatSurvey.select(CsatSurvey.score).where(CsatSurvey.id == survey["id"]).first())["score"] is None


async def test_low_rating_publishes_an_event(make_desk: Callable[..., Any]) -> None:
    listener = Listener()
    desk = await csat_desk(make_desk, listener, survey="nps")
    agent_id, _ = await make_agent()
    ticket_id = await _ticket(desk, "c-3", language="fr", assignee=agent_id)
    await _solve(desk, ticket_id)
    token = _token((await _survey_message(ticket_id))["text"])
    async with client_for(desk) as client:
        page = await client.get(f"/csat/{token}")
        assert "recommandiez" in page.text and 'value="10"' in page.text and 'value="0"' in page.text
        assert (await client.post(f"/csat/{token}", data={"score": "3", "comment": "trop lent"})).status_code == 200
    low = [e for e in listener.events if e.name == "csat.low_rating"]
    assert len(low) == 1
    assert low[0].ticket_id == ticket_id
    assert low[0].data["score"] == 3 and low[0].data["kind"] == "nps" and low[0].data["agent"] == agent_id
    assert low[0].data["comment"] == "trop lent"


async def test_high_rating_publishes_nothing(make_desk: Callable[..., Any]) -> None:
    listener = Listener()
    desk = await csat_desk(make_desk, listener)
    ticket_id = await _ticket(desk, "c-4", language="es")
    await _solve(desk, ticket_id)
    token = _token((await _survey_message(ticket_id))["text"])
    async with client_for(desk) as client:
        assert (await client.post(f"/csat/{token}", data={"score": "4"})).status_code == 200
    assert not [e for e in listener.events if e.name == "csat.low_rating"]


async def test_channel_switch_and_cooldown(make_desk: Callable[..., Any]) -> None:
    desk = await csat_desk(make_desk, channels={"api": False})
    ticket_id = await _ticket(desk, "c-5")
    await _solve(desk, ticket_id)
    assert await _survey_message(ticket_id) is None
    assert await CsatSurvey.count() == 0

    desk = await csat_desk(make_desk, cooldown_days=30)
    first = await _ticket(desk, "c-6", sender="repeat")
    await _solve(desk, first)
    assert await _survey_message(first) is not None
    await Ticket.update({Ticket.status: "open"}).where(Ticket.id == first)
    second = await _ticket(desk, "c-7", sender="repeat")
    await _solve(desk, second)
    assert await CsatSurvey.count().where(CsatSurvey.customer == (
        await Ticket.select(Ticket.customer).where(Ticket.id == first).first())["customer"]) == 1


async def test_job_is_idempotent_and_skips_reopened(make_desk: Callable[..., Any]) -> None:
    desk = await csat_desk(make_desk, cooldown_days=0)
    ticket_id = await _ticket(desk, "c-8")
    row = await Ticket.select(Ticket.solved_at).where(Ticket.id == ticket_id).first()
    assert row["solved_at"] is None
    await tickets.update_ticket(desk, ticket_id, actor="agent:1", status="solved")
    await desk.jobs.drain()
    survey = await CsatSurvey.select().where(CsatSurvey.ticket == ticket_id).first()
    assert await send_survey(desk, ticket_id, survey["round"]) == "skipped:already_sent"
    other = await _ticket(desk, "c-9", sender="someone")
    assert await send_survey(desk, other, "2026-01-01T00:00:00+00:00") == "skipped:reopened"


async def test_delay_defers_the_survey(make_desk: Callable[..., Any]) -> None:
    desk = await csat_desk(make_desk, delay_minutes=0.02)  # 1.2 seconds
    ticket_id = await _ticket(desk, "c-10")
    await tickets.update_ticket(desk, ticket_id, actor="agent:1", status="solved")
    assert await _survey_message(ticket_id) is None
    await wait_for(lambda: _survey_message(ticket_id), timeout=10)
