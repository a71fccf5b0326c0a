"""Spam and the blocklist (issue 19 item 5) for every channel through the core: marking spam
blocks the sender and empties the ticket out of queues, counts and SLA; a blocked sender, domain or
phone number is stored in Spam (nothing lost, nobody notified); "not spam" undoes it."""

from __future__ import annotations

from core import counts, spam
from core.tables import Block, Message, Notification, Ticket
from tests.helpers import auth, client_for, make_agent, message, post_messages
from tests.web.inbox_helpers import csrf_from, form_post, sign_in


async def _ticket_of(text: str) -> dict:
    row = await Message.select(Message.ticket).where(Message.text == text).first()
    return await Ticket.select().where(Ticket.id == row["ticket"]).first()


async def _exact_counts() -> None:
    assert await counts.kept() == await counts.recount()


async def test_marking_spam_blocks_the_sender_and_their_next_message_lands_in_spam(desk):
    _, token = await make_agent("agent", email="spam-agent@example.com")
    async with client_for(desk) as client:
        await post_messages(client, [message("s-1", "spammer", "Buy cheap followers now",
                                             details={"email": "promo@spam-shop.example"})])
        ticket = await _ticket_of("Buy cheap followers now")
        marked = await client.post(f"/api/v1/tickets/{ticket['id']}/spam", headers=auth(token))
        assert marked.status_code == 200 and marked.json()["blocked"] == ["api:spammer"]
        row = await Ticket.select().where(Ticket.id == ticket["id"]).first()
        assert row["status"] == "spam" and row["assignee"] is None and row["sla_due_at"] is None
        listed = (await client.get("/api/v1/tickets", params={"status": "open"}, headers=auth(token))).json()["items"]
        assert ticket["id"] not in [t["id"] for t in listed]
        await _exact_counts()
        notifications_before = await Notification.count()
        await post_messages(client, [message("s-2", "spammer", "Last chance: followers 50% off")])
        again = await _ticket_of("Last chance: followers 50% off")
        assert again["id"] == ticket["id"] and again["status"] == "spam" and again["sla_due_at"] is None
        assert await Notification.count() == notifications_before
        await _exact_counts()
        back = await client.post(f"/api/v1/tickets/{ticket['id']}/not-spam", headers=auth(token))
        assert back.status_code == 200 and back.json()["unblocked"] == ["api:spammer"]
        assert not await Block.exists()
        await post_messages(client, [message("s-3", "spammer", "Sorry, a real question about order 1001")])
        assert (await _ticket_of("Sorry, a real question about order 1001"))["status"] != "spam"
        await _exact_counts()


async def test_a_blocked_domain_or_phone_sends_to_spam_without_hiding_older_conversations(desk):
    _, token = await make_agent("supervisor", email="spam-sup@example.com")
    async with client_for(desk) as client:
        await post_messages(client, [message("b-1", "shop-a", "Where is my parcel?",
                                             details={"email": "anna@bulk-mail.example"})])
        earlier = await _ticket_of("Where is my parcel?")
        for kind, value in (("domain", "@Bulk-Mail.example"), ("phone", "+49 (151) 234-5678")):
            made = await client.post("/api/v1/blocklist", json={"kind": kind, "value": value}, headers=auth(token))
            assert made.status_code == 201
        assert sorted(r["value"] for r in (await client.get("/api/v1/blocklist", headers=auth(token))).json()) == [
            "491512345678", "bulk-mail.example"]
        await post_messages(client, [
            message("b-2", "shop-a", "Another message from the same domain", details={"email": "anna@bulk-mail.example"}),
            message("b-3", "caller", "WhatsApp-style sales pitch", details={"phone": "+491512345678"}),
            message("b-4", "fine", "An ordinary customer", details={"email": "fine@example.org"}),
        ])
        second = await _ticket_of("Another message from the same domain")
        assert second["status"] == "spam" and second["id"] != earlier["id"] and second["linked_ticket"] == earlier["id"]
        assert (await Ticket.select(Ticket.status).where(Ticket.id == earlier["id"]).first())["status"] == "new"
        assert (await _ticket_of("WhatsApp-style sales pitch"))["status"] == "spam"
        assert (await _ticket_of("An ordinary customer"))["status"] == "new"
        await _exact_counts()
        gone = await client.request("DELETE", "/api/v1/blocklist", params={"kind": "domain", "value": "bulk-mail.example"},
                                    headers=auth(token))
        assert gone.status_code == 204
        assert (await client.request("DELETE", "/api/v1/blocklist", params={"kind": "domain", "value": "bulk-mail.example"},
                                     headers=auth(token))).status_code == 404


async def test_the_blocklist_refuses_what_it_cannot_match_and_checks_roles(desk):
    _, supervisor = await make_agent("supervisor", email="bl-sup@example.com")
    _, agent = await make_agent("agent", email="bl-agent@example.com")
    _, reader = await make_agent("readonly", email="bl-ro@example.com")
    async with client_for(desk) as client:
        for body in ({"kind": "domain", "value": "not a domain"}, {"kind": "phone", "value": "12"},
                     {"kind": "sender", "value": "no-channel"}, {"kind": "ip", "value": "1.2.3.4"},
                     {"kind": "domain", "value": "x" * 300}, {"kind": "domain"}, {"kind": "domain", "value": ""}):
            response = await client.post("/api/v1/blocklist", json=body, headers=auth(supervisor))
            assert response.status_code == 400, body
        assert (await client.post("/api/v1/blocklist", json={"kind": "domain", "value": "a.example"},
                                  headers=auth(agent))).status_code == 403
        await post_messages(client, [message("r-1", "c1", "hello there")])
        ticket = await _ticket_of("hello there")
        assert (await client.post(f"/api/v1/tickets/{ticket['id']}/spam", headers=auth(reader))).status_code == 403
        assert (await client.post("/api/v1/tickets/99999999/spam", headers=auth(agent))).status_code == 404
        assert (await client.post(f"/api/v1/tickets/{ticket['id']}/not-spam", headers=auth(agent))).status_code == 400


async def test_the_inbox_marks_spam_shows_the_spam_view_and_the_blocklist_page(desk):
    await make_agent("supervisor", email="inbox-sup@example.com")
    async with client_for(desk) as client:
        await post_messages(client, [message("i-1", "pest", "unsolicited offer zqx")])
        ticket = await _ticket_of("unsolicited offer zqx")
        await sign_in(client, "inbox-sup@example.com")
        view = await client.get(f"/inbox/t/{ticket['id']}")
        assert "Mark as spam" in view.text
        done = await client.post(f"/inbox/t/{ticket['id']}/spam", data={"_csrf_token": csrf_from(view.text)},
                                 follow_redirects=False)
        assert done.status_code in (302, 303)
        assert "unsolicited offer zqx" not in (await client.get("/inbox/q/open")).text
        assert "unsolicited offer zqx" in (await client.get("/inbox/q/spam")).text
        page = await client.get("/inbox/admin/blocklist")
        assert page.status_code == 200 and "api:pest" in page.text
        bad = await form_post(client, "/inbox/admin/blocklist", {"kind": "phone", "value": "call me"},
                              page="/inbox/admin/blocklist")
        assert bad.status_code == 400 and "is not a phone number" in bad.text
        await form_post(client, "/inbox/admin/blocklist", {"kind": "sender", "value": "api:pest", "action": "unblock"},
                        page="/inbox/admin/blocklist")
        assert not await Block.exists()
    assert spam.CACHE_SECONDS <= 10
