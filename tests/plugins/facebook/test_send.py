"""The Send API against the loopback Graph API: messaging types inside Meta's windows, receipts,
and Meta's error codes as retryable or permanent, shown on the message."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone

from core import outbound
from core.context import reply_constraints
from core.tables import Message, Outbox, Ticket
from tests.conftest import wait_for
from tests.plugins.facebook.fb_helpers import (
    IG_ID, IGSID, PAGE_ID, PAGE_TOKEN, PSID, facebook, hooks_client, incoming, page_payload, post,
)
from tests.plugins.whatsapp.graph_loopback import Failure


async def inbound_ticket(desk, account: str = "shop", mid: str = "m_in1") -> int:
    if account == "insta":
        payload = page_payload([incoming(mid, sender=IGSID, node=IG_ID)], node=IG_ID, obj="instagram")
    else:
        payload = page_payload([incoming(mid)])
    async with hooks_client(desk) as client:
        res = await post(client, payload, account=account)
    assert res.status_code == 200
    return res.json()["messages"][0]["ticket_id"]


async def settled(message_id: int) -> dict | None:
    row = await Message.select(Message.delivery_status, Message.delivery_error, Message.external_id).where(
        Message.id == message_id).first()
    return row if row["delivery_status"] in ("sent", "failed") else None


async def test_reply_within_24_hours_is_a_response(make_desk, graph):
    desk = await make_desk(facebook(graph))
    ticket_id = await inbound_ticket(desk)
    message = await outbound.reply(desk, ticket_id, author_id=None, text="Yes, we ship to Spain.")
    row = await wait_for(lambda: settled(message["id"]))
    assert row["delivery_status"] == "sent" and row["external_id"].startswith("m_LOOPBACK")
    [call] = graph.sends()
    assert call.path == f"/v21.0/{PAGE_ID}/messages" and call.headers["authorization"] == f"Bearer {PAGE_TOKEN}"
    assert call.json() == {"recipient": {"id": PSID}, "messaging_type": "RESPONSE",
                           "message": {"text": "Yes, we ship to Spain.", "metadata": f"relaydesk-{desk.desk_id}-msg-{message['id']}"}}


async def test_between_24_hours_and_7_days_the_human_agent_tag_is_used(make_desk, graph, shifted_clock):
    desk = await make_desk(facebook(graph))
    ticket_id = await inbound_ticket(desk)
    shifted_clock(timedelta(days=3))
    ticket = await Ticket.select().where(Ticket.id == ticket_id).first()
    limits = await reply_constraints(desk, ticket)
    assert limits["window_kind"] == "human_agent" and "blocked_reason" not in limits
    assert abs(limits["window_closes_at"] - (ticket["last_customer_message_at"] + timedelta(days=7))) < timedelta(seconds=1)
    message = await outbound.reply(desk, ticket_id, author_id=None, text="Sorry for the slow answer")
    assert (await wait_for(lambda: settled(message["id"])))["delivery_status"] == "sent"
    [call] = graph.sends()
    assert call.json()["messaging_type"] == "MESSAGE_TAG" and call.json()["tag"] == "HUMAN_AGENT"


async def test_after_7_days_a_reply_is_refused_without_calling_meta(make_desk, graph, shifted_clock):
    desk = await make_desk(facebook(graph))
    ticket_id = await inbound_ticket(desk)
    shifted_clock(timedelta(days=8))
    ticket = await Ticket.select().where(Ticket.id == ticket_id).first()
    limits = await reply_constraints(desk, ticket)
    assert limits["window_kind"] == "closed" and "7 days" in limits["blocked_reason"]
    message = await outbound.reply(desk, ticket_id, author_id=None, text="Hello again")
    row = await wait_for(lambda: settled(message["id"]))
    assert row["delivery_status"] == "failed" and "messaging window is closed" in row["delivery_error"]
    assert graph.sends() == []


async def test_without_the_human_agent_tag_replies_stop_after_24_hours(make_desk, graph, shifted_clock):
    desk = await make_desk(facebook(graph, human_agent_tag=False))
    ticket_id = await inbound_ticket(desk)
    shifted_clock(timedelta(hours=30))
    ticket = await Ticket.select().where(Ticket.id == ticket_id).first()
    assert "24 hours" in (await reply_constraints(desk, ticket))["blocked_reason"]
    message = await outbound.reply(desk, ticket_id, author_id=None, text="Late")
    assert (await wait_for(lambda: settled(message["id"])))["delivery_status"] == "failed"
    assert graph.sends() == []


async def test_metas_window_error_is_permanent_and_shown(make_desk, graph):
    graph.failures.append(Failure("/messages", 400, 10, "(#10) This message is sent outside of allowed window.",
                                  subcode=2018278))
    desk = await make_desk(facebook(graph))
    ticket_id = await inbound_ticket(desk)
    message = await outbound.reply(desk, ticket_id, author_id=None, text="Hi")
    row = await wait_for(lambda: settled(message["id"]))
    assert row["delivery_status"] == "failed"
    assert "outside the allowed messaging window" in row["delivery_error"] and "(10/2018278)" in row["delivery_error"]
    assert len(graph.sends()) == 1


async def test_rate_limit_is_retried(make_desk, graph):
    graph.failures.append(Failure("/messages", 400, 613, "Calls to this api have exceeded the rate limit."))
    desk = await make_desk(facebook(graph))
    ticket_id = await inbound_ticket(desk)
    message = await outbound.reply(desk, ticket_id, author_id=None, text="Retry")
    assert (await wait_for(lambda: settled(message["id"]), timeout=15))["delivery_status"] == "sent"
    assert len(graph.sends()) == 2
    assert await Outbox.select(Outbox.status, Outbox.attempts).first() == {"status": "done", "attempts": 2}


async def test_unavailable_person_is_permanent(make_desk, graph):
    graph.failures.append(Failure("/messages", 400, 551, "This person isn't available right now."))
    desk = await make_desk(facebook(graph))
    ticket_id = await inbound_ticket(desk)
    message = await outbound.reply(desk, ticket_id, author_id=None, text="Hi")
    row = await wait_for(lambda: settled(message["id"]))
    assert row["delivery_status"] == "failed" and "(551)" in row["delivery_error"]


async def test_receipts_mark_our_messages_delivered_and_read(make_desk, graph):
    desk = await make_desk(facebook(graph))
    ticket_id = await inbound_ticket(desk)
    message = await outbound.reply(desk, ticket_id, author_id=None, text="Tracking: ES123")
    mid = (await wait_for(lambda: settled(message["id"])))["external_id"]
    delivery = {"sender": {"id": PSID}, "recipient": {"id": PAGE_ID},
                "delivery": {"mids": [mid], "watermark": 1700000009000}}
    async with hooks_client(desk) as client:
        assert (await post(client, page_payload([delivery]))).json()["statuses"] == 1
    row = await Message.select(Message.delivery_status).where(Message.id == message["id"]).first()
    assert row["delivery_status"] == "delivered"


async def test_instagram_reply_and_seen_receipt(make_desk, graph):
    desk = await make_desk(facebook(graph))
    ticket_id = await inbound_ticket(desk, account="insta", mid="ig_in1")
    message = await outbound.reply(desk, ticket_id, author_id=None, text="DM reply")
    mid = (await wait_for(lambda: settled(message["id"])))["external_id"]
    [call] = graph.sends()
    assert call.path == f"/v21.0/{PAGE_ID}/messages" and call.json()["recipient"] == {"id": IGSID}
    seen = {"sender": {"id": IGSID}, "recipient": {"id": IG_ID}, "timestamp": 1700000010000, "read": {"mid": mid}}
    async with hooks_client(desk) as client:
        await post(client, page_payload([seen], node=IG_ID, obj="instagram"), account="insta")
    row = await Message.select(Message.delivery_status).where(Message.id == message["id"]).first()
    assert row["delivery_status"] == "read"


async def test_media_link_reply(make_desk, graph):
    desk = await make_desk(facebook(graph))
    ticket_id = await inbound_ticket(desk)
    message = await outbound.reply(desk, ticket_id, author_id=None, text="Here is the photo",
                                   metadata={"media": {"type": "image", "link": "https://example.com/p.jpg"}})
    assert (await wait_for(lambda: settled(message["id"])))["delivery_status"] == "sent"
    first, second = graph.sends()
    assert first.json()["message"]["attachment"] == {"type": "image", "payload": {"url": "https://example.com/p.jpg",
                                                                                   "is_reusable": False}}
    assert second.json()["message"]["text"] == "Here is the photo"


async def test_attachment_is_uploaded_with_the_message(make_desk, graph):
    from core import clock
    from core.types import InboundAttachment, OutboundMessage

    desk = await make_desk(facebook(graph))
    account = desk.registry.account("facebook", "shop")
    result = await desk.registry.hook.send_message(channel_type="messenger", account=account, message=OutboundMessage(
        message_id=7, ticket_id=1, idempotency_key="k", recipient_handle=PSID, text="",
        attachments=[InboundAttachment(filename="label.pdf", content_type="application/pdf", data=b"%PDF-label")],
        last_customer_message_at=clock.now()))
    [call] = graph.sends()
    assert call.headers["content-type"].startswith("multipart/form-data")
    assert b'name="filedata"; filename="label.pdf"' in call.body and b"%PDF-label" in call.body
    assert b'"type": "file"' in call.body and b'"recipient"' in call.body and b"RESPONSE" in call.body
    assert result.external_id.startswith("m_LOOPBACK")


async def test_messenger_read_watermark_marks_what_was_sent_before_it(make_desk, graph):
    """Messenger's read receipt names a time, not a message: what we sent up to it is read, what
    we sent after it stays as it was."""
    desk = await make_desk(facebook(graph))
    ticket_id = await inbound_ticket(desk)
    first = await outbound.reply(desk, ticket_id, author_id=None, text="Your parcel left Shenzhen")
    await wait_for(lambda: settled(first["id"]))
    watermark = int(datetime.now(timezone.utc).timestamp() * 1000) + 1
    await asyncio.sleep(0.05)
    later = await outbound.reply(desk, ticket_id, author_id=None, text="And here is the tracking link")
    await wait_for(lambda: settled(later["id"]))
    read = {"sender": {"id": PSID}, "recipient": {"id": PAGE_ID}, "timestamp": watermark + 5,
            "read": {"watermark": watermark}}
    async with hooks_client(desk) as client:
        assert (await post(client, page_payload([read]))).status_code == 200
        statuses = {r["id"]: r["delivery_status"] for r in await Message.select(Message.id, Message.delivery_status)
                    .where(Message.id.is_in([first["id"], later["id"]]))}
        assert statuses == {first["id"]: "read", later["id"]: "sent"}
        # the same receipt again changes nothing
        await post(client, page_payload([read]))
    assert (await Message.select(Message.delivery_status).where(Message.id == later["id"]).first())[
        "delivery_status"] == "sent"


async def test_hook_send_message_uploads_a_replys_file_with_the_message_on_messenger_and_instagram(make_desk, graph):
    """The Send API's upload-and-send in one call: multipart with recipient, message (an attachment
    with is_reusable false) and filedata holding the file's bytes."""
    from core.types import InboundAttachment
    from tests.plugins.whatsapp.graph_loopback import form_parts

    desk = await make_desk(facebook(graph))
    label = b"%PDF-1.4 return label"
    photo = b"\x89PNG\r\n\x1a\n" + b"p" * 2000
    for account, item in (("shop", InboundAttachment("label.pdf", "application/pdf", label)),
                          ("insta", InboundAttachment("item.png", "image/png", photo))):
        ticket_id = await inbound_ticket(desk, account=account, mid=f"m_in_{account}")
        message = await outbound.reply(desk, ticket_id, author_id=None, text="", attachments=[item])
        row = await wait_for(lambda: settled(message["id"]))
        assert row["delivery_status"] == "sent", row
    first, second = graph.sends()
    for call, recipient, kind, item_bytes, name in ((first, PSID, "file", label, "label.pdf"),
                                                    (second, IGSID, "image", photo, "item.png")):
        form = form_parts(call)
        assert form["filedata"].data == item_bytes and form["filedata"].filename == name
        assert json.loads(form["recipient"].data) == {"id": recipient}
        assert json.loads(form["message"].data)["attachment"] == {"type": kind, "payload": {"is_reusable": False}}


async def test_instagram_refuses_a_file_type_it_does_not_send_and_messenger_more_than_one(make_desk, graph):
    from core.errors import InvalidRequest, UnsupportedType
    from core.types import InboundAttachment

    desk = await make_desk(facebook(graph))
    insta = await inbound_ticket(desk, account="insta", mid="m_in_i")
    shop = await inbound_ticket(desk, account="shop", mid="m_in_s")
    zipped = InboundAttachment("all.zip", "application/zip", b"PK\x03\x04")
    for ticket_id, files, error in ((insta, [zipped], UnsupportedType), (shop, [zipped, zipped], InvalidRequest)):
        try:
            await outbound.reply(desk, ticket_id, author_id=None, text="files", attachments=files)
        except error:
            continue
        raise AssertionError("the files were accepted")
    assert not await Message.exists().where(Message.direction == "outbound") and not graph.sends()
