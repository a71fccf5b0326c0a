"""Returns and cases through the Post-Order API: tickets with eBay's respond-by date as their SLA,
status and available actions in the panel, escalation onto the return's ticket, replies."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from core import outbound
from core.context import customer_context, panels
from core.polling import poll_account
from core.tables import Customer, Message, Ticket
from plugins.ebay.state import parse_time
from tests.plugins.ebay.fake_ebay import make_case, make_case_detail, make_order, make_return
from tests.plugins.ebay.test_messages import BUYER, account, deliver, iso, messages_of, retry_now, tickets


def seed_return(fake: Any, respond_by: str | None) -> None:
    fake.orders.append(make_order("12-01234-56789", BUYER, "110552233", updated=iso(-timedelta(days=5))))
    fake.returns.append(make_return("5000123456", "12-01234-56789", BUYER, "110552233", respond_by=respond_by))


async def view(desk: Any, ticket: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    customer = await Customer.select().where(Customer.id == ticket["customer"]).first()
    context = await customer_context(desk, customer, ticket)
    [panel] = [p for p in await panels(desk, ticket, customer, context) if p["plugin"] == "ebay"]
    return context, panel


async def test_a_return_is_a_ticket_due_by_ebays_respond_by_date(ebay_desk: Any, fake: Any) -> None:
    deadline = iso(timedelta(days=3))  # later than any default target (normal priority: 8 hours)
    seed_return(fake, deadline)
    assert await poll_account(ebay_desk, account(ebay_desk)) == 1
    [ticket] = await tickets()
    assert ticket["thread_key"] == "return:5000123456" and ticket["subject"] == "eBay return 5000123456"
    assert ticket["first_response_due_at"] == parse_time(deadline)
    assert ticket["sla_due_at"] == parse_time(deadline)
    [message] = await messages_of(ticket["id"])
    assert "NOT_AS_DESCRIBED" in message["text"] and "The lid is cracked." in message["text"]
    assert message["metadata"]["order_ids"] == ["12-01234-56789"]
    calls = fake.calls("/post-order/v2/return/search")
    assert calls[0]["headers"]["authorization"].startswith("IAF ") and calls[0]["query"]["offset"] == "1"

    context, panel = await view(ebay_desk, ticket)
    [dispute] = context["ebay"]["disputes"]
    assert dispute["status"] == "RETURN_REQUESTED" and dispute["actions"][0] == "SELLER_APPROVE_REQUEST"
    assert context["ebay"]["respond_by"] == parse_time(deadline).isoformat()
    assert context["ebay"]["order_number"] == "12-01234-56789"
    assert panel["title"] == "eBay returns and cases"
    assert "SELLER_DECLINE_REQUEST" in panel["html"] and "RETURN_REQUESTED" in panel["html"]
    assert "Respond by" in panel["html"] and "12-01234-56789" in panel["html"]

    # nothing changed at eBay: nothing new
    assert await poll_account(ebay_desk, account(ebay_desk)) == 0


async def test_a_new_stage_with_a_new_deadline_moves_the_due_time(ebay_desk: Any, fake: Any) -> None:
    seed_return(fake, iso(timedelta(days=3)))
    await poll_account(ebay_desk, account(ebay_desk))
    [ticket] = await tickets()
    # the agent answers, then the buyer ships the item back: eBay wants a refund by a new date
    message = await outbound.reply(ebay_desk, ticket["id"], author_id=None, text="Please send it back.")
    assert (await deliver(ebay_desk, message["id"]))["delivery_status"] == "sent"
    [sent] = fake.return_messages
    assert sent == {"returnId": "5000123456", "message": {"content": "Please send it back."}}
    later = iso(timedelta(days=6))
    fake.returns[0] = make_return("5000123456", "12-01234-56789", BUYER, "110552233", respond_by=later,
                                  state="ITEM_SHIPPED", status="ITEM_SHIPPED", actions=("SELLER_ISSUE_REFUND",),
                                  activity="SELLER_ISSUE_REFUND")
    assert await poll_account(ebay_desk, account(ebay_desk)) == 1
    row = await Ticket.select().where(Ticket.id == ticket["id"]).first()
    assert row["next_response_due_at"] == parse_time(later) and row["sla_due_at"] == parse_time(later)
    context, panel = await view(ebay_desk, row)
    assert context["ebay"]["dispute_status"] == "ITEM_SHIPPED" and context["ebay"]["dispute_actions"] == ["SELLER_ISSUE_REFUND"]
    assert "SELLER_APPROVE_REQUEST" not in panel["html"]


async def test_an_overdue_deadline_is_breached_by_the_sweeper(ebay_desk: Any, fake: Any) -> None:
    from core import sla

    seed_return(fake, iso(timedelta(minutes=-5)))
    await poll_account(ebay_desk, account(ebay_desk))
    [ticket] = await tickets()
    result = await sla.sweep(ebay_desk)
    assert result.breaches == 1
    assert (await Ticket.select().where(Ticket.id == ticket["id"]).first())["first_response_breached"] is True
    _, panel = await view(ebay_desk, ticket)
    assert "overdue" in panel["html"]


async def test_a_case_escalated_from_the_return_joins_its_ticket(ebay_desk: Any, fake: Any) -> None:
    seed_return(fake, iso(timedelta(days=3)))
    await poll_account(ebay_desk, account(ebay_desk))
    case_deadline = iso(timedelta(days=2))
    fake.returns[0] = make_return("5000123456", "12-01234-56789", BUYER, "110552233", respond_by=None,
                                  state="CLOSED", status="ESCALATED", actions=())
    fake.cases.append(make_case("5200998877", BUYER, "110552233", respond_by=case_deadline))
    fake.case_details["5200998877"] = make_case_detail("5200998877")
    await poll_account(ebay_desk, account(ebay_desk))
    [ticket] = await tickets()
    texts = [m["text"] for m in await messages_of(ticket["id"])]
    assert any("eBay case 5200998877 (RETURN): OPEN" in t for t in texts)
    assert ticket["first_response_due_at"] == parse_time(case_deadline)
    context, panel = await view(ebay_desk, ticket)
    kinds = [(d["kind"], d["status"]) for d in context["ebay"]["disputes"]]
    assert ("case", "OPEN") in kinds and ("return", "ESCALATED") in kinds
    assert "ISSUE_REFUND" in panel["html"]
    # the case's detail is fetched once, not on every poll
    await poll_account(ebay_desk, account(ebay_desk))
    assert len(fake.calls("/post-order/v2/casemanagement/5200998877")) == 1


def seed_item_not_received_case(fake: Any) -> None:
    fake.orders.append(make_order("12-05555-11111", BUYER, "110559999", updated=iso(-timedelta(days=20))))
    fake.cases.append(make_case("5200111222", BUYER, "110559999", respond_by=iso(timedelta(days=1)),
                                transaction_id="2914099999001"))
    fake.case_details["5200111222"] = make_case_detail("5200111222", case_type="ITEM_NOT_RECEIVED")


async def test_an_item_not_received_case_opens_its_own_ticket_and_replies_reach_the_buyer(ebay_desk: Any, fake: Any) -> None:
    seed_item_not_received_case(fake)
    await poll_account(ebay_desk, account(ebay_desk))
    [ticket] = await tickets()
    assert ticket["thread_key"] == "case:5200111222"
    message = await outbound.reply(ebay_desk, ticket["id"], author_id=None, text="Tracking: DHL 00340434")
    assert (await deliver(ebay_desk, message["id"]))["delivery_status"] == "sent"
    [sent] = fake.calls("/commerce/message/v1/send_message")
    assert json.loads(sent["body"]) == {"otherPartyUsername": BUYER, "messageText": "Tracking: DHL 00340434",
                                        "reference": {"referenceId": "110559999", "referenceType": "LISTING"}}


async def test_a_case_reply_whose_answer_was_lost_is_found_in_the_new_conversation(ebay_desk: Any, fake: Any) -> None:
    seed_item_not_received_case(fake)
    await poll_account(ebay_desk, account(ebay_desk))
    [ticket] = await tickets()
    fake.fail("/commerce/message/v1/send_message", 0, lost=True)
    message = await outbound.reply(ebay_desk, ticket["id"], author_id=None, text="Tracking: DHL 00340434")
    assert (await deliver(ebay_desk, message["id"]))["delivery_status"] in (None, "queued")
    row = await retry_now(ebay_desk, message["id"])
    assert row["delivery_status"] == "sent"
    [opened] = [c for c in fake.conversations.values() if c["buyer"] == BUYER]
    assert [m["messageBody"] for m in opened["messages"]] == ["Tracking: DHL 00340434"]
    assert row["external_id"] == f"msg:{opened['messages'][0]['messageId']}"
    assert len(fake.calls("/commerce/message/v1/send_message")) == 1


async def test_a_closed_return_never_seen_opens_no_ticket(ebay_desk: Any, fake: Any) -> None:
    fake.returns.append(make_return("5000777777", "12-07777-77777", BUYER, "110557777", respond_by=None,
                                    state="CLOSED", status="CLOSED", actions=()))
    assert await poll_account(ebay_desk, account(ebay_desk)) == 0
    assert await tickets() == []


async def test_post_order_errors_do_not_lose_the_messages(ebay_desk: Any, fake: Any) -> None:
    from tests.plugins.ebay.test_messages import seed_conversation

    seed_conversation(fake)
    fake.fail("/post-order/v2/return/search", 500, {"error": [{"errorId": 1001, "domain": "returnErrorDomain",
                                                                 "severity": "ERROR", "category": "SYSTEM",
                                                                 "message": "Internal error"}]}, times=10)
    assert await poll_account(ebay_desk, account(ebay_desk)) == 2  # messages still arrive
    assert len(await Message.select(Message.id)) == 2
