"""The shipped example rules and settings at work, on both databases: an angry customer goes to the
senior agent (skills) first in line and supervisors are told; "where is my order" goes to the claim
pool and is answered from the tracking; a refund request on a large order waits for a supervisor."""

from __future__ import annotations

from core import rules
from core.tables import Agent, AutomationRule, Message, Notification, Ticket, TicketTag
from plugins.assist.examples import EXAMPLES
from tests.core.policy_helpers import make_team
from tests.helpers import client_for, message, post_messages
from tests.plugins.assist.conftest import shipped_order
from tests.plugins.shopify.conftest import post_webhook


def test_every_example_is_a_valid_rule():
    for example in EXAMPLES:
        rules.validate(example["event"], example["conditions"], example["actions"])


async def _tags(ticket_id):
    return {r["tag"] for r in await TicketTag.select(TicketTag.tag).where(TicketTag.ticket == ticket_id)}


async def test_examples_route_answer_and_escalate(make_assist_desk, frozen_clock):
    desk = await make_assist_desk(wismo_answer={"api": "send"}, wismo_priority="low")
    _, (_junior, senior) = await make_team("support", [{"skills": []}, {"skills": ["angry"]}],
                                          strategy="round_robin", pool_priorities=["low"])
    boss = (await Agent.insert(Agent(name="Boss", email="boss@example.com", role="admin", availability="online"))
            .returning(Agent.id))[0]["id"]
    for position, example in enumerate(EXAMPLES):
        await AutomationRule.insert(AutomationRule(name=example["name"], event=example["event"], position=position,
                                                   conditions=example["conditions"], actions=example["actions"]))
    rules.invalidate()

    async def ask(sender, text, external_id, email=None):
        body = message(external_id, sender=sender, text=text)
        if email:
            body["sender"]["email"] = email
        async with client_for(desk) as client:
            await post_messages(client, [body])
        return await Ticket.select().order_by(Ticket.id, ascending=False).first()

    async with client_for(desk) as client:
        await post_webhook(client, "orders/fulfilled", shipped_order(), webhook_id="wh-1")  # 409.94 USD, bob's
    angry = await ask("ann", "This is the WORST service ever!!! Nobody answers, I want a manager NOW!", "m-1")
    assert angry["assignee"] == senior and angry["priority"] == "high" and "skill angry" in angry["route_reason"]
    [note] = await Notification.select().where(Notification.ticket == angry["id"])
    assert note["agent"] == boss and note["text"].startswith(f"Angry customer on ticket #{angry['id']}")

    wismo = await ask("bob", "Hello, where is my order? I ordered last week.", "m-2", "bob.norman@hostmail.com")
    assert wismo["assignee"] is None and wismo["pooled_at"] is not None and wismo["status"] == "pending"
    assert await _tags(wismo["id"]) == {"wismo"}
    [answer] = await Message.select().where((Message.ticket == wismo["id"]) & (Message.direction == "outbound"))
    assert "1Z2345" in answer["text"]
    await Ticket.update({Ticket.status: "solved"}).where(Ticket.id == wismo["id"])

    refund = await ask("bob", "I want to return the iPod and get a refund please.", "m-3", "bob.norman@hostmail.com")
    assert refund["intent"] == "return_refund" and "refund-review" in await _tags(refund["id"])
    [note] = await Notification.select().where(Notification.ticket == refund["id"])
    assert note["text"] == f"Refund request on order #1001 (409.94), ticket #{refund['id']}"
