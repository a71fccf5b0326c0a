"""The three generic hooks the Amazon plugin needs, tested with throwaway plugins that name no
marketplace: adapt_inbound (claim a message before threading), shape_outbound (adjust a reply
before its channel sends it) and check_draft (refuse a reply that breaks a far end's rules)."""

from __future__ import annotations

import email
import email.policy

import pytest

from core import outbound
from core.errors import DraftRejected
from core.plugins import hookimpl
from core.tables import Message, Outbox, Ticket, TicketTag
from core.types import DraftProblem, InboundClaim
from tests.helpers import auth, client_for, make_agent, message, post_messages
from tests.plugins.amazon.conftest import post_mail
from tests.plugins.email.mailhelpers import email_config, mail


class Claimer:
    """Claims API-channel messages that start with "RELAY:"."""

    @hookimpl
    def adapt_inbound(self, message, account):
        if not message.text.startswith("RELAY:"):
            return None
        return InboundClaim(kind="relaytest", text=message.text[len("RELAY:"):].strip(), html=None,
                            sender_name="Relayed Buyer", thread_key=f"relay:{message.sender_handle}",
                            order_ids=["A-1"], tags=["relay-de"], fields={"order": "A-1"})


async def tags_of(ticket_id: int) -> list[str]:
    return sorted(r["tag"] for r in await TicketTag.select(TicketTag.tag).where(TicketTag.ticket == ticket_id))


async def test_hook_adapt_inbound(make_desk):
    desk = await make_desk(extra_plugins=[("claimer", Claimer())], run_jobs=False)
    async with client_for(desk) as client:
        answer = await post_messages(client, [message("m1", "buyer-1", "RELAY:  Where is my parcel? ", html="<b>wrapped</b>")])
        assert answer.status_code == 200, answer.text
        await post_messages(client, [message("m2", "buyer-1", "RELAY: Still waiting")])
        await post_messages(client, [message("m3", "other", "A normal message")])
    rows = await Message.select().where(Message.external_id.is_in(["m1", "m2"])).order_by(Message.id)
    assert [r["text"] for r in rows] == ["Where is my parcel?", "Still waiting"]
    assert rows[0]["html"] is None  # the wrapper's HTML is gone with it
    meta = rows[0]["metadata"] if isinstance(rows[0]["metadata"], dict) else __import__("json").loads(rows[0]["metadata"])
    assert meta["conversation"] == {"kind": "relaytest", "order": "A-1"} and meta["order_ids"] == ["A-1"]
    assert rows[0]["ticket"] == rows[1]["ticket"]  # threaded on the claim's thread key
    ticket = await Ticket.select().where(Ticket.id == rows[0]["ticket"]).first()
    assert ticket["thread_key"] == "relay:buyer-1"
    assert await tags_of(ticket["id"]) == ["relay-de", "relaytest"]
    other = await Message.select(Message.text, Message.ticket, Message.metadata).where(Message.external_id == "m3").first()
    assert other["text"] == "A normal message" and other["ticket"] != ticket["id"]
    assert await tags_of(other["ticket"]) == []


class Shaper:
    def __init__(self) -> None:
        self.tickets: list[dict] = []

    @hookimpl
    def shape_outbound(self, account, message, ticket):
        self.tickets.append(ticket)
        if "relayed" not in ticket["tags"]:
            return None

        async def shape():  # an awaitable, as a plugin that reads its tables would return
            message.from_address = "seller@relay-approved.example"
            message.plain_text = True
            message.untracked = True
        return shape()


async def test_hook_shape_outbound(make_desk, smtp_server, monkeypatch):
    from tests.plugins.email.mailhelpers import email_env

    email_env(monkeypatch)
    shaper = Shaper()
    desk = await make_desk(email_config(smtp_url=smtp_server.url), extra_plugins=[("shaper", shaper)], run_jobs=False)
    async with client_for(desk) as client:
        await post_mail(client, mail("<s1@buyer.example>", subject="Shaped please"))
        await post_mail(client, mail("<s2@buyer.example>", sender="Bob <bob@buyer.example>", subject="Leave me"))
    shaped = await Ticket.select().where(Ticket.subject == "Shaped please").first()
    plain = await Ticket.select().where(Ticket.subject == "Leave me").first()
    await TicketTag.insert(TicketTag(ticket=shaped["id"], tag="relayed"))
    for ticket in (shaped, plain):
        row = await outbound.reply(desk, ticket["id"], author_id=None, text="Hello there.")
        box = await Outbox.select(Outbox.id).where(Outbox.message == row["id"]).first()
        assert await outbound.deliver(desk, box["id"]) == "sent"
    first, second = smtp_server.received
    assert first.mail_from == "seller@relay-approved.example"
    parsed = email.message_from_bytes(first.data, policy=email.policy.default)
    assert parsed["From"].addresses[0].addr_spec == "seller@relay-approved.example"
    assert parsed.get_content_type() == "text/plain"
    assert parsed["Subject"] == "Re: Shaped please" and "X-Relaydesk-Ticket" not in parsed
    assert "In-Reply-To" not in parsed and "References" not in parsed
    assert f"relaydesk.{shaped['id']}." not in parsed["Message-ID"]
    # The other ticket goes out as the email plugin always sends.
    normal = email.message_from_bytes(second.data, policy=email.policy.default)
    assert second.mail_from == "support@shop.example" and normal.get_content_type() == "multipart/alternative"
    assert normal["Subject"] == f"Re: Leave me [#{plain['id']}]" and normal["In-Reply-To"] == "<s2@buyer.example>"
    assert {t["id"] for t in shaper.tickets} == {shaped["id"], plain["id"]}
    assert all({"id", "customer", "channel_type", "subject", "tags"} <= set(t) for t in shaper.tickets)


class Checker:
    @hookimpl
    def check_draft(self, ticket, text, language):
        problems = []
        if "forbidden" in text:
            problems.append(DraftProblem("test.forbidden", "删除禁用词" if language == "zh" else "Remove the forbidden word."))
        return problems


async def test_hook_check_draft(make_desk):
    desk = await make_desk(extra_plugins=[("checker", Checker())], run_jobs=False)
    agent_id, token = await make_agent()
    async with client_for(desk) as client:
        await post_messages(client, [message("c1", "cust-1", "Hello")])
        ticket = await Ticket.select().first()
        with pytest.raises(DraftRejected) as caught:
            await outbound.reply(desk, ticket["id"], author_id=agent_id, text="a forbidden reply")
        assert [p.code for p in caught.value.problems] == ["test.forbidden"]
        assert await Message.count().where(Message.direction == "outbound") == 0  # nothing stored or queued
        assert await Outbox.count() == 0

        check = await client.post(f"/api/v1/tickets/{ticket['id']}/draft-check", json={"text": "a forbidden reply"},
                                  headers=auth(token))
        assert check.status_code == 200
        assert check.json() == {"ok": False, "problems": [{"code": "test.forbidden", "message": "Remove the forbidden word."}]}
        refused = await client.post(f"/api/v1/tickets/{ticket['id']}/reply", json={"text": "a forbidden reply"},
                                    headers=auth(token))
        assert refused.status_code == 422
        assert refused.json()["error"]["code"] == "draft_rejected"
        assert refused.json()["error"]["problems"][0]["code"] == "test.forbidden"
        fine = await client.post(f"/api/v1/tickets/{ticket['id']}/reply", json={"text": "a fine reply"}, headers=auth(token))
        assert fine.status_code == 202, fine.text
    assert await Message.count().where(Message.direction == "outbound") == 1
