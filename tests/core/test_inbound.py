"""Ingest: dedupe, customer resolution, threading, reopen, hooks and events, on both databases."""

from __future__ import annotations

import pytest

from core.inbound import ingest
from core.plugins import hookimpl
from core.tables import Customer, Identity, Message, Ticket, TicketTag
from core.tickets import update_ticket
from core.types import InboundMessage, StatusUpdate


def msg(external_id: str, sender: str = "cust-1", text: str = "Hi", **kw) -> InboundMessage:
    return InboundMessage(external_id=external_id, sender_handle=sender, text=text, **kw)


def account(desk):
    return desk.registry.account("api_channel", "main")


async def test_same_message_twice_is_stored_once(desk):
    first = await ingest(desk, account(desk), [msg("m1")])
    again = await ingest(desk, account(desk), [msg("m1")])
    assert again[0].duplicate and again[0].message_id == first[0].message_id
    assert await Message.count() == 1
    assert await Ticket.count() == 1


async def test_new_customer_new_ticket_then_replies_thread(desk):
    a = await ingest(desk, account(desk), [msg("m1", text="Where is my order?")])
    b = await ingest(desk, account(desk), [msg("m2", text="Any news?")])
    assert a[0].created_ticket and not b[0].created_ticket
    assert a[0].ticket_id == b[0].ticket_id
    ticket = await Ticket.select().where(Ticket.id == a[0].ticket_id).first()
    assert ticket["subject"] == "Where is my order?"
    assert ticket["first_response_due_at"] is not None and ticket["sla_due_at"] == ticket["first_response_due_at"]


async def test_thread_key_keeps_conversations_apart(desk):
    a = await ingest(desk, account(desk), [msg("m1", thread_key="conv-A")])
    b = await ingest(desk, account(desk), [msg("m2", thread_key="conv-B")])
    c = await ingest(desk, account(desk), [msg("m3", thread_key="conv-A")])
    assert a[0].ticket_id != b[0].ticket_id
    assert c[0].ticket_id == a[0].ticket_id


async def test_references_thread_even_from_another_handle(desk):
    a = await ingest(desk, account(desk), [msg("<one@x>", sender="alice@example.com")])
    b = await ingest(desk, account(desk), [msg("<two@x>", sender="bob@example.com", references=["<one@x>"])])
    assert b[0].ticket_id == a[0].ticket_id


async def test_two_customers_never_share_a_ticket(desk):
    a = await ingest(desk, account(desk), [msg("m1", sender="alice", subject="Order")])
    b = await ingest(desk, account(desk), [msg("m2", sender="bob", subject="Order")])
    assert a[0].ticket_id != b[0].ticket_id
    assert await Customer.count() == 2


async def test_verified_email_links_identities_unverified_does_not(desk):
    first = await ingest(desk, account(desk), [msg("m1", sender="wa:+491701234567", sender_email="anna@example.de",
                                                  email_verified=True)])
    linked = await ingest(desk, account(desk), [msg("m2", sender="psid-998", sender_email="ANNA@example.de",
                                                   email_verified=True)])
    stranger = await ingest(desk, account(desk), [msg("m3", sender="psid-777", sender_email="anna@example.de")])
    customers = {r["id"]: r["customer"] for r in await Ticket.select(Ticket.id, Ticket.customer)}
    assert customers[first[0].ticket_id] == customers[linked[0].ticket_id]
    assert customers[stranger[0].ticket_id] != customers[first[0].ticket_id]
    assert await Identity.count().where(Identity.customer == customers[first[0].ticket_id]) == 2


async def test_verified_phone_links_identities(desk):
    a = await ingest(desk, account(desk), [msg("m1", sender="h1", sender_phone="+8613800000000", phone_verified=True)])
    b = await ingest(desk, account(desk), [msg("m2", sender="h2", sender_phone="+8613800000000", phone_verified=True,
                                              thread_key="other")])
    rows = {r["id"]: r["customer"] for r in await Ticket.select(Ticket.id, Ticket.customer)}
    assert rows[a[0].ticket_id] == rows[b[0].ticket_id]


async def test_customer_message_reopens_solved_ticket(desk):
    a = await ingest(desk, account(desk), [msg("m1")])
    await update_ticket(desk, a[0].ticket_id, actor="agent:1", status="solved")
    b = await ingest(desk, account(desk), [msg("m2", thread_key=None)])
    # A solved ticket is not "open", so the open-ticket fallback makes a new one unless a thread key
    # or reference names it; with a reference it reopens.
    c = await ingest(desk, account(desk), [msg("m3", references=["m1"])])
    assert c[0].ticket_id == a[0].ticket_id
    status = await Ticket.select(Ticket.status).where(Ticket.id == a[0].ticket_id).first()
    assert status["status"] == "open"
    assert b[0].ticket_id != a[0].ticket_id


async def test_closed_ticket_gets_a_linked_follow_up(desk):
    a = await ingest(desk, account(desk), [msg("m1", thread_key="t")])
    await update_ticket(desk, a[0].ticket_id, actor="agent:1", status="closed")
    b = await ingest(desk, account(desk), [msg("m2", thread_key="t")])
    assert b[0].ticket_id != a[0].ticket_id and b[0].created_ticket
    follow = await Ticket.select(Ticket.linked_ticket).where(Ticket.id == b[0].ticket_id).first()
    assert follow["linked_ticket"] == a[0].ticket_id


async def test_html_is_sanitized_and_attachments_stored(desk, tmp_path):
    from core.tables import Attachment
    from core.types import InboundAttachment

    html = '<p onclick="steal()">Hi<script>alert(1)</script><img src="javascript:x"></p>'
    res = await ingest(desk, account(desk), [msg("m1", html=html, attachments=[
        InboundAttachment(filename="../../etc/passwd", content_type="text/plain", data=b"secret-ish")])])
    row = await Message.select(Message.html).where(Message.id == res[0].message_id).first()
    assert "script" not in row["html"] and "onclick" not in row["html"] and "javascript" not in row["html"]
    assert "Hi" in row["html"]
    att = await Attachment.select().where(Attachment.message == res[0].message_id).first()
    assert att["filename"] == "passwd" and att["size"] == 10
    assert (desk.data_dir / att["storage_path"]).read_bytes() == b"secret-ish"


async def test_echo_is_stored_as_outbound(desk):
    await ingest(desk, account(desk), [msg("m1")])
    res = await ingest(desk, account(desk), [msg("m2", is_echo=True, text="Sent from the platform app")])
    row = await Message.select(Message.direction, Message.delivery_status).where(Message.id == res[0].message_id).first()
    assert row == {"direction": "outbound", "delivery_status": "sent"}


async def test_status_updates_only_move_forward(desk):
    res = await ingest(desk, account(desk), [msg("m1")])
    mid = (await Message.insert(Message(ticket=res[0].ticket_id, account=account(desk).id, direction="outbound",
                                        text="reply", external_id="out-1", delivery_status="sent")).returning(Message.id))[0]["id"]
    await ingest(desk, account(desk), [], [StatusUpdate("out-1", "read")])
    await ingest(desk, account(desk), [], [StatusUpdate("out-1", "delivered")])  # late, out of order
    row = await Message.select(Message.delivery_status).where(Message.id == mid).first()
    assert row["delivery_status"] == "read"


@pytest.fixture
def classifier():
    class Classifier:
        @hookimpl
        def classify(self, message, ticket):
            if "chargeback" in message.text.lower():
                return {"priority": "urgent", "tags": ["Chargeback"], "language": "en"}
            return None

    return Classifier()


async def test_hook_classify(make_desk, classifier):
    desk = await make_desk(extra_plugins=[("classifier", classifier)])
    res = await ingest(desk, account(desk), [msg("m1", text="I will file a chargeback")])
    ticket = await Ticket.select().where(Ticket.id == res[0].ticket_id).first()
    assert ticket["priority"] == "urgent" and ticket["language"] == "en"
    assert await TicketTag.select(TicketTag.tag).where(TicketTag.ticket == res[0].ticket_id) == [{"tag": "chargeback"}]
    # urgent targets from the default SLA plugin: first response within 60 minutes
    minutes = (ticket["first_response_due_at"] - ticket["created_at"]).total_seconds() / 60
    assert round(minutes) == 60


async def test_hook_sla_targets(make_desk):
    from core.sla import SlaTargets

    class Strict:
        @hookimpl
        def sla_targets(self, ticket):
            return SlaTargets(first_response_minutes=15, resolution_minutes=None)

    desk = await make_desk(extra_plugins=[("strict", Strict())])
    res = await ingest(desk, account(desk), [msg("m1")])
    ticket = await Ticket.select().where(Ticket.id == res[0].ticket_id).first()
    assert round((ticket["first_response_due_at"] - ticket["created_at"]).total_seconds()) == 15 * 60
    assert ticket["resolution_due_at"] is None


async def test_hook_route(make_desk):
    from core.routing import RouteDecision
    from tests.helpers import make_agent

    class ToFirstAgent:
        @hookimpl
        def route(self, ticket, desk):
            return RouteDecision(agent_id=desk_agent["id"], team_id=None, reason="test: everything to one agent")

    desk_agent: dict = {}
    desk = await make_desk(extra_plugins=[("router", ToFirstAgent())])
    desk_agent["id"], _ = await make_agent()
    res = await ingest(desk, account(desk), [msg("m1")])
    ticket = await Ticket.select(Ticket.assignee, Ticket.route_reason).where(Ticket.id == res[0].ticket_id).first()
    assert ticket == {"assignee": desk_agent["id"], "route_reason": "test: everything to one agent"}


async def test_hook_ticket_event(make_desk):
    seen = []

    class Listener:
        @hookimpl
        def ticket_event(self, event):
            async def record():
                seen.append((event.name, event.ticket_id))
            return record()

    class Broken:
        @hookimpl
        def ticket_event(self, event):
            raise RuntimeError("a plugin bug must not undo the ingest")

    desk = await make_desk(extra_plugins=[("listener", Listener()), ("broken", Broken())])
    res = await ingest(desk, account(desk), [msg("m1"), msg("m2")])
    assert seen == [("created", res[0].ticket_id), ("customer_replied", res[0].ticket_id)]
    assert await Message.count() == 2
