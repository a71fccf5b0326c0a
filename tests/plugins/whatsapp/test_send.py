"""Sending on WhatsApp against the loopback Graph API: text, media, templates, the 24-hour window,
Meta's error codes (retryable or permanent, shown on the message), statuses and media downloads."""

from __future__ import annotations

from datetime import timedelta

from core import clock, outbound
from core.context import reply_constraints
from core.tables import Attachment, Message, Outbox, Ticket
from core.types import InboundAttachment, OutboundMessage
from tests.conftest import wait_for
from tests.plugins.whatsapp.graph_loopback import Failure
from tests.plugins.whatsapp.wa_helpers import PHONE_ID, TOKEN, WABA_ID, envelope, hooks_client, post, text_message, whatsapp


async def inbound_ticket(desk, wamid: str = "wamid.IN1") -> int:
    async with hooks_client(desk) as client:
        res = await post(client, envelope([text_message(wamid)]))
    assert res.status_code == 200
    return res.json()["messages"][0]["ticket_id"]


async def first_attachment(message_id: int) -> dict | None:
    return await Attachment.select().where(Attachment.message == message_id).first()


async def delivery(message_id: int) -> dict:
    return await Message.select(Message.delivery_status, Message.delivery_error, Message.external_id).where(
        Message.id == message_id).first()


async def settled(message_id: int) -> dict | None:
    row = await delivery(message_id)
    return row if row["delivery_status"] in ("sent", "failed") else None


async def test_text_reply_inside_the_window_is_sent(make_desk, graph):
    desk = await make_desk(whatsapp(graph))
    ticket_id = await inbound_ticket(desk)
    message = await outbound.reply(desk, ticket_id, author_id=None, text="Your parcel left our warehouse today.")
    row = await wait_for(lambda: settled(message["id"]))
    assert row["delivery_status"] == "sent" and row["external_id"].startswith("wamid.LOOPBACK")
    [call] = graph.sends()
    assert call.path == f"/v21.0/{PHONE_ID}/messages"
    assert call.headers["authorization"] == f"Bearer {TOKEN}"
    assert call.json() == {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "972987654321",
                           "type": "text", "text": {"preview_url": False, "body": "Your parcel left our warehouse today."}}


async def test_status_updates_arrive_out_of_order_and_only_move_forward(make_desk, graph):
    desk = await make_desk(whatsapp(graph))
    ticket_id = await inbound_ticket(desk)
    message = await outbound.reply(desk, ticket_id, author_id=None, text="Shipped!")
    row = await wait_for(lambda: settled(message["id"]))
    wamid = row["external_id"]

    def status(name: str, **extra):
        return envelope(statuses=[{"id": wamid, "status": name, "timestamp": "1700000200",
                                   "recipient_id": "972987654321", **extra}])

    async with hooks_client(desk) as client:
        assert (await post(client, status("read"))).status_code == 200
        assert (await post(client, status("delivered"))).status_code == 200  # late
        assert (await post(client, status("sent"))).status_code == 200  # later still
        assert (await post(client, status("read"))).status_code == 200  # replayed
    assert (await delivery(message["id"]))["delivery_status"] == "read"


async def test_failed_status_shows_metas_code_and_title(make_desk, graph):
    desk = await make_desk(whatsapp(graph))
    ticket_id = await inbound_ticket(desk)
    message = await outbound.reply(desk, ticket_id, author_id=None, text="Hello?")
    wamid = (await wait_for(lambda: settled(message["id"])))["external_id"]
    failed = envelope(statuses=[{"id": wamid, "status": "failed", "timestamp": "1700000300", "recipient_id": "972987654321",
                                 "errors": [{"code": 131026, "title": "Message undeliverable",
                                             "error_data": {"details": "Recipient is not a valid WhatsApp user"}}]}])
    async with hooks_client(desk) as client:
        assert (await post(client, failed)).status_code == 200
    row = await delivery(message["id"])
    assert row["delivery_status"] == "failed"
    assert row["delivery_error"] == "Message undeliverable (131026): Recipient is not a valid WhatsApp user"


async def test_rate_limit_is_retried_then_sent(make_desk, graph):
    graph.failures.append(Failure("/messages", 400, 130429, "(#130429) Rate limit hit",
                                  details="Cloud API message throughput has been reached."))
    desk = await make_desk(whatsapp(graph))
    ticket_id = await inbound_ticket(desk)
    message = await outbound.reply(desk, ticket_id, author_id=None, text="Retry me")
    row = await wait_for(lambda: settled(message["id"]), timeout=15)
    assert row["delivery_status"] == "sent"
    assert len(graph.sends()) == 2
    outbox = await Outbox.select(Outbox.status, Outbox.attempts).first()
    assert outbox == {"status": "done", "attempts": 2}


async def test_metas_window_error_is_permanent_and_shown(make_desk, graph):
    graph.failures.append(Failure("/messages", 400, 131047, "Re-engagement message",
                                  details="Message failed to send because more than 24 hours have passed"))
    desk = await make_desk(whatsapp(graph))
    ticket_id = await inbound_ticket(desk)
    message = await outbound.reply(desk, ticket_id, author_id=None, text="Are you still there?")
    row = await wait_for(lambda: settled(message["id"]))
    assert row["delivery_status"] == "failed"
    assert "(131047)" in row["delivery_error"] and "approved template" in row["delivery_error"]
    assert len(graph.sends()) == 1


async def test_expired_token_is_permanent(make_desk, graph, monkeypatch):
    monkeypatch.setenv("RD_TEST_WA_TOKEN", "expired-token")
    desk = await make_desk(whatsapp(graph))
    ticket_id = await inbound_ticket(desk)
    message = await outbound.reply(desk, ticket_id, author_id=None, text="Hello")
    row = await wait_for(lambda: settled(message["id"]))
    assert row["delivery_status"] == "failed" and "(190)" in row["delivery_error"]
    assert "access token" in row["delivery_error"]


async def test_free_form_reply_outside_the_window_is_refused_without_calling_meta(make_desk, graph, shifted_clock):
    desk = await make_desk(whatsapp(graph))
    ticket_id = await inbound_ticket(desk)
    shifted_clock(timedelta(hours=25))
    message = await outbound.reply(desk, ticket_id, author_id=None, text="Sorry for the wait")
    row = await wait_for(lambda: settled(message["id"]))
    assert row["delivery_status"] == "failed" and "24-hour" in row["delivery_error"]
    assert graph.sends() == []


async def test_hook_reply_constraints(make_desk, graph, shifted_clock):
    graph.templates = [
        {"name": "order_update", "language": "en_US", "status": "APPROVED", "category": "UTILITY", "id": "1",
         "components": [{"type": "BODY", "text": "Hi {{1}}, your order {{2}} has shipped."}]},
        {"name": "promo", "language": "en_US", "status": "REJECTED", "category": "MARKETING", "id": "2",
         "components": [{"type": "BODY", "text": "Sale!"}]},
    ]
    desk = await make_desk(whatsapp(graph, business_account_id=WABA_ID))
    ticket_id = await inbound_ticket(desk)
    ticket = await Ticket.select().where(Ticket.id == ticket_id).first()
    inside = await reply_constraints(desk, ticket)
    assert inside["window_kind"] == "24h" and "blocked_reason" not in inside
    assert abs((inside["window_closes_at"] - ticket["last_customer_message_at"]) - timedelta(hours=24)) < timedelta(seconds=1)
    assert inside["reply_window_seconds"] == 24 * 3600
    assert not [c for c in graph.calls if c.path.endswith("message_templates")]

    shifted_clock(timedelta(hours=30))
    outside = await reply_constraints(desk, ticket)
    assert "24-hour" in outside["blocked_reason"]
    assert outside["templates"] == [{"name": "order_update", "language": "en_US", "category": "UTILITY",
                                     "params": ["1", "2"], "text": "Hi {{1}}, your order {{2}} has shipped.",
                                     "header": "", "footer": "", "examples": {}}]
    again = await reply_constraints(desk, ticket)
    assert again["templates"] == outside["templates"]
    fetches = [c for c in graph.calls if c.path.endswith("message_templates")]
    assert len(fetches) == 1 and fetches[0].path == f"/v21.0/{WABA_ID}/message_templates"  # cached


async def test_template_is_sent_outside_the_window(make_desk, graph, shifted_clock):
    graph.templates = [{"name": "order_update", "language": "en_US", "status": "APPROVED", "category": "UTILITY",
                        "components": [{"type": "BODY", "text": "Hi {{1}}, your order {{2}} has shipped."}]}]
    desk = await make_desk(whatsapp(graph))
    ticket_id = await inbound_ticket(desk)
    shifted_clock(timedelta(days=3))
    message = await outbound.reply(desk, ticket_id, author_id=None, text="Hi Dana, your order 1042 has shipped.",
                                   metadata={"template": {"name": "order_update", "language": "en_US",
                                                          "params": ["Dana", "1042"]}})
    row = await wait_for(lambda: settled(message["id"]))
    assert row["delivery_status"] == "sent"
    [call] = graph.sends()
    assert call.json()["type"] == "template"
    assert call.json()["template"] == {"name": "order_update", "language": {"code": "en_US"},
                                       "components": [{"type": "body", "parameters": [
                                           {"type": "text", "text": "Dana"}, {"type": "text", "text": "1042"}]}]}


async def test_media_reply_by_link_carries_the_text_as_caption(make_desk, graph):
    desk = await make_desk(whatsapp(graph))
    ticket_id = await inbound_ticket(desk)
    message = await outbound.reply(desk, ticket_id, author_id=None, text="Here is your invoice",
                                   metadata={"media": {"type": "document", "link": "https://example.com/inv.pdf",
                                                       "filename": "invoice.pdf"}})
    assert (await wait_for(lambda: settled(message["id"])))["delivery_status"] == "sent"
    [call] = graph.sends()
    assert call.json()["document"] == {"link": "https://example.com/inv.pdf", "filename": "invoice.pdf",
                                       "caption": "Here is your invoice"}


async def test_attachment_is_uploaded_then_sent_by_id(make_desk, graph):
    desk = await make_desk(whatsapp(graph))
    await inbound_ticket(desk)
    account = desk.registry.account("whatsapp", "main")
    pending = desk.registry.hook.send_message(channel_type="whatsapp", account=account, message=OutboundMessage(
        message_id=1, ticket_id=1, idempotency_key="k", recipient_handle="+972987654321", text="Photo of the item",
        attachments=[InboundAttachment(filename="item.jpg", content_type="image/jpeg", data=b"\xff\xd8jpeg")],
        last_customer_message_at=clock.now()))
    result = await pending
    upload = next(c for c in graph.calls if c.path.endswith("/media"))
    assert b'name="messaging_product"' in upload.body and b"\xff\xd8jpeg" in upload.body
    [send] = graph.sends()
    assert send.json()["image"] == {"id": "upl1", "caption": "Photo of the item"}
    assert result.external_id.startswith("wamid.")


async def test_inbound_media_is_downloaded_with_the_token_and_stored(make_desk, graph):
    graph.add_media("1234567890987654321", b"%PDF-1.4 invoice", "application/pdf")
    desk = await make_desk(whatsapp(graph))
    doc = {"from": "972987654321", "id": "wamid.DOC1", "timestamp": "1700000000", "type": "document",
           "document": {"caption": "my receipt", "filename": "receipt.pdf", "mime_type": "application/pdf",
                        "sha256": "x", "id": "1234567890987654321"}}
    async with hooks_client(desk) as client:
        res = await post(client, envelope([doc]))
        assert res.status_code == 200
        message_id = res.json()["messages"][0]["message_id"]
        att = await wait_for(lambda: first_attachment(message_id))
        assert att["filename"] == "receipt.pdf" and att["content_type"] == "application/pdf"
        assert (desk.data_dir / att["storage_path"]).read_bytes() == b"%PDF-1.4 invoice"
        # A replay changes nothing, and running the job again stores nothing twice.
        assert (await post(client, envelope([doc]))).json()["duplicates"] == 1
    await desk.enqueue("whatsapp_fetch_media", message_id, job_id="again")
    await desk.jobs.drain()
    assert await Attachment.count() == 1
    downloads = [c for c in graph.calls if c.method == "GET"]
    assert [c.path for c in downloads] == ["/v21.0/1234567890987654321", "/cdn/1234567890987654321"]
    assert all(c.headers["authorization"] == f"Bearer {TOKEN}" for c in downloads)
    row = await Message.select(Message.metadata, Message.text).where(Message.id == message_id).first()
    meta = row["metadata"] if isinstance(row["metadata"], dict) else __import__("json").loads(row["metadata"])
    assert meta["pending_attachments"][0]["state"] == "stored"
    assert row["text"] == "my receipt\n[document receipt.pdf]"


async def test_missing_media_is_marked_failed_not_retried_forever(make_desk, graph):
    desk = await make_desk(whatsapp(graph))
    image = {"from": "972987654321", "id": "wamid.IMG1", "timestamp": "1700000000", "type": "image",
             "image": {"mime_type": "image/jpeg", "sha256": "x", "id": "404404"}}
    async with hooks_client(desk) as client:
        res = await post(client, envelope([image]))
    message_id = res.json()["messages"][0]["message_id"]

    async def state():
        row = await Message.select(Message.metadata).where(Message.id == message_id).first()
        meta = row["metadata"] if isinstance(row["metadata"], dict) else __import__("json").loads(row["metadata"])
        return meta["pending_attachments"][0].get("state") if meta["pending_attachments"][0].get("state") != "pending" else None

    assert await wait_for(state) == "failed"
    assert await Attachment.count() == 0


async def test_hook_send_message_with_a_replys_files_uploads_each_then_sends_it_by_id(make_desk, graph):
    """An agent's reply with a photo and a PDF: each file is uploaded (POST /{phone-number-id}/media),
    then sent as a message naming the media id; the text rides as the first caption."""
    desk = await make_desk(whatsapp(graph))
    ticket_id = await inbound_ticket(desk)
    photo, invoice = b"\xff\xd8\xff" + b"p" * 3000, b"%PDF-1.4 invoice"
    message = await outbound.reply(desk, ticket_id, author_id=None, text="Photo and invoice attached", attachments=[
        InboundAttachment(filename="item.jpg", content_type="image/jpeg", data=photo),
        InboundAttachment(filename="invoice.pdf", content_type="application/pdf", data=invoice)])
    row = await wait_for(lambda: settled(message["id"]))
    assert row["delivery_status"] == "sent", row
    uploads = list(graph.uploads.items())
    assert [(u.filename, u.content_type, u.data) for _, u in uploads] == [
        ("item.jpg", "image/jpeg", photo), ("invoice.pdf", "application/pdf", invoice)]
    first, second = graph.sends()
    assert first.json()["image"] == {"id": uploads[0][0], "caption": "Photo and invoice attached"}
    assert second.json()["document"] == {"id": uploads[1][0], "filename": "invoice.pdf"}


async def test_a_file_whatsapp_does_not_take_is_refused_before_anything_is_stored(make_desk, graph):
    from core.errors import PayloadTooLarge, UnsupportedType

    desk = await make_desk(whatsapp(graph))
    ticket_id = await inbound_ticket(desk)
    for error, item in ((UnsupportedType, InboundAttachment("s.webp", "image/webp", b"RIFF")),
                        (PayloadTooLarge, InboundAttachment("big.png", "image/png", b"x" * 5_000_001))):
        try:
            await outbound.reply(desk, ticket_id, author_id=None, text="look", attachments=[item])
        except error:
            pass
        else:
            raise AssertionError(f"{item.filename} was accepted")
    assert not await Message.exists().where(Message.direction == "outbound") and not graph.calls


async def test_files_with_a_template_fail_clearly_instead_of_being_dropped(make_desk, graph):
    desk = await make_desk(whatsapp(graph))
    ticket_id = await inbound_ticket(desk)
    message = await outbound.reply(desk, ticket_id, author_id=None, text="template", attachments=[
        InboundAttachment(filename="item.jpg", content_type="image/jpeg", data=b"\xff\xd8jpeg")],
        metadata={"template": {"name": "order_update", "language": "en_US", "params": []}})
    row = await wait_for(lambda: settled(message["id"]))
    assert row["delivery_status"] == "failed" and "template goes without files" in row["delivery_error"]
    assert not graph.calls
