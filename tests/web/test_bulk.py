"""Bulk work (issue 19 item 4): status, priority, team, tags and assignee on many tickets with Undo
for a few seconds, and a template reply rendered for each ticket with failures reported per
ticket. Undo puts back only what still shows the bulk's value, and cannot be forged or replayed
late."""

from __future__ import annotations

import os
import re
import time

from core import bulk
from core.tables import Macro, Message, Team, Ticket, TicketTag
from tests.helpers import client_for, make_agent, message, post_messages
from tests.web.inbox_helpers import csrf_from, form_post, sign_in

SECRET = "bulk-test-secret-0123456789abcdef"


def _with_secret(config):
    config["relaydesk"]["secret"] = {"env": "RELAYDESK_BULK_TEST_SECRET"}


async def _tickets(client, count: int, prefix: str) -> list[int]:
    await post_messages(client, [message(f"{prefix}-{i}", f"{prefix}-c{i}", f"{prefix} question {i}",
                                         details={"name": f"Kunde {i}"}) for i in range(count)])
    return [r["id"] for r in await Ticket.select(Ticket.id).order_by(Ticket.id)][-count:]


def _undo_token(html: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', html).group(1)


async def test_bulk_changes_can_be_undone_but_not_over_a_newer_change(make_desk):
    os.environ["RELAYDESK_BULK_TEST_SECRET"] = SECRET
    desk = await make_desk(_with_secret)
    me, _ = await make_agent("agent", email="bulk@example.com")
    team = (await Team.insert(Team(name="Returns")).returning(Team.id))[0]["id"]
    async with client_for(desk) as client:
        ids = await _tickets(client, 4, "u")
        await sign_in(client, "bulk@example.com")
        for action, field, value, expected in (("priority", "priority", "urgent", "urgent"),
                                               ("team", "team", str(team), team)):
            done = await form_post(client, "/inbox/bulk", {"ids": [str(i) for i in ids], "action": action, field: value})
            assert done.status_code == 200 and "Done for 4 tickets." in done.text
            rows = {r["id"]: r[field] for r in await Ticket.select(Ticket.id, getattr(Ticket, field))}
            assert {rows[i] for i in ids} == {expected}
            # someone changes one ticket meanwhile: undo leaves that one alone
            await Ticket.update({getattr(Ticket, field): "low" if field == "priority" else None}).where(Ticket.id == ids[0])
            undone = await form_post(client, "/inbox/bulk/undo", {"token": _undo_token(done.text)})
            assert undone.status_code == 200 and "Undone for 3 tickets." in undone.text
            rows = {r["id"]: r[field] for r in await Ticket.select(Ticket.id, getattr(Ticket, field))}
            assert rows[ids[0]] == ("low" if field == "priority" else None)
            assert {rows[i] for i in ids[1:]} == ({"normal"} if field == "priority" else {None})
        tagged = await form_post(client, "/inbox/bulk", {"ids": [str(ids[0]), str(ids[1])], "action": "tag_add",
                                                         "tagvalue": "Retoure"})
        assert {r["ticket"] for r in await TicketTag.select(TicketTag.ticket).where(TicketTag.tag == "retoure")} == set(ids[:2])
        await form_post(client, "/inbox/bulk/undo", {"token": _undo_token(tagged.text)})
        assert not await TicketTag.exists().where(TicketTag.tag == "retoure")
        forged = _undo_token(tagged.text)[:-4] + "AAAA"
        assert (await form_post(client, "/inbox/bulk/undo", {"token": forged})).status_code == 410
        assert (await form_post(client, "/inbox/bulk", {"ids": [str(ids[0])], "action": "explode"})).status_code == 400
        assert (await form_post(client, "/inbox/bulk", {"action": "status", "status": "solved"})).status_code == 400


async def test_an_undo_token_expires_and_belongs_to_its_agent(make_desk):
    os.environ["RELAYDESK_BULK_TEST_SECRET"] = SECRET
    desk = await make_desk(_with_secret)
    await make_agent("agent", email="first@example.com")
    await make_agent("agent", email="second@example.com")
    async with client_for(desk) as client:
        ids = await _tickets(client, 2, "x")
        await sign_in(client, "first@example.com")
        done = await form_post(client, "/inbox/bulk", {"ids": [str(i) for i in ids], "action": "status", "status": "pending"})
        token = _undo_token(done.text)
    async with client_for(desk) as other:
        await sign_in(other, "second@example.com")
        assert (await form_post(other, "/inbox/bulk/undo", {"token": token})).status_code == 410
    saved = bulk.UNDO_SECONDS
    bulk.UNDO_SECONDS = 1  # the same check as the real 30 s, without a 30-second test
    try:
        time.sleep(2.1)
        async with client_for(desk) as client:
            await sign_in(client, "first@example.com")
            late = await form_post(client, "/inbox/bulk/undo", {"token": token})
            assert late.status_code == 410 and "Too late to undo" in late.text
    finally:
        bulk.UNDO_SECONDS = saved
    assert {r["status"] for r in await Ticket.select(Ticket.status)} == {"pending"}


async def test_a_template_reply_is_rendered_per_ticket_and_failures_are_reported_per_ticket(desk):
    await make_agent("agent", email="replier@example.com")
    await Macro.insert(Macro(name="Shipped", shortcut="shipped", body="Hallo {{ customer.name }}, your parcel is on its way."),
                       Macro(name="Shipped", shortcut="shipped", language="zh", body="{{ customer.name }}，您的包裹已发出。"))
    async with client_for(desk) as client:
        ids = await _tickets(client, 3, "r")
        await Ticket.update({Ticket.language: "zh"}).where(Ticket.id == ids[1])
        await Ticket.update({Ticket.status: "closed"}).where(Ticket.id == ids[2])
        gone = 99_999_999
        await sign_in(client, "replier@example.com")
        macro = (await Macro.select(Macro.id).where(Macro.language.is_null()).first())["id"]
        page = await client.get("/inbox/q/open")
        assert "Reply with template" in page.text
        done = await client.post("/inbox/bulk", data={"_csrf_token": csrf_from(page.text), "action": "reply",
                                                      "macro": str(macro), "ids": [str(i) for i in [*ids, gone]]})
        assert done.status_code == 200
        assert f"#{gone}" in done.text and "does not exist" in done.text
        assert 'name="token"' not in done.text, "a reply cannot be undone"
        sent = {r["ticket"]: r["text"] for r in await Message.select(Message.ticket, Message.text).where(
            Message.direction == "outbound")}
        assert sent[ids[0]] == "Hallo Kunde 0, your parcel is on its way."
        assert sent[ids[1]] == "Kunde 1，您的包裹已发出。"
