"""Files with a reply, through the API (base64 in JSON) and the inbox's multipart form, on both
databases: stored like inbound attachments, delivered by the channel (WhatsApp against the loopback
Graph API, email through a real SMTP server), and hostile files refused with a 4xx before anything
is stored."""

from __future__ import annotations

import base64
import email
import email.policy

import pytest

from core.tables import Attachment, Message, Ticket
from tests.conftest import wait_for
from tests.helpers import auth, client_for, make_agent, message, post_messages
from tests.plugins.email.conftest import _start_smtp
from tests.plugins.email.mailhelpers import email_config, email_env
from tests.plugins.whatsapp.graph_loopback import GraphLoopback
from tests.plugins.whatsapp.wa_helpers import APP_SECRET, TOKEN, VERIFY_TOKEN, envelope, post, text_message, whatsapp
from tests.web.inbox_helpers import form_post, sign_in

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8  # the bytes the far end must receive


@pytest.fixture(autouse=True)
def _secrets(monkeypatch):
    monkeypatch.setenv("RD_TEST_WA_TOKEN", TOKEN)
    monkeypatch.setenv("RD_TEST_WA_SECRET", APP_SECRET)
    monkeypatch.setenv("RD_TEST_WA_VERIFY", VERIFY_TOKEN)
    email_env(monkeypatch)


@pytest.fixture
def graph():
    server = GraphLoopback(token=TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def smtp():
    server = _start_smtp(None, auth=False, mode="plain")
    yield server
    server.controller.stop()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def whatsapp_ticket(client) -> int:
    res = await post(client, envelope([text_message("wamid.IN1")]))
    assert res.status_code == 200, res.text
    return res.json()["messages"][0]["ticket_id"]


async def settled(message_id: int):
    row = await Message.select(Message.delivery_status, Message.delivery_error).where(Message.id == message_id).first()
    return row if row["delivery_status"] in ("sent", "failed") else None


async def test_api_reply_with_a_photo_reaches_whatsapp_and_is_kept(make_desk, graph):
    desk = await make_desk(whatsapp(graph))
    _, token = await make_agent("agent")
    async with client_for(desk) as client:
        ticket_id = await whatsapp_ticket(client)
        limits = (await client.get(f"/api/v1/tickets/{ticket_id}/reply-limits", headers=auth(token))).json()
        assert limits["files"]["max_count"] == 10 and limits["files"]["types"]["image/jpeg"] == 5_000_000
        res = await client.post(f"/api/v1/tickets/{ticket_id}/reply", headers=auth(token), json={
            "text": "Here is the photo of your parcel",
            "attachments": [{"filename": "parcel.jpg", "content_type": "image/jpeg", "data": b64(JPEG)}]})
        assert res.status_code == 202, res.text
        body = res.json()
        assert [(a["filename"], a["content_type"], a["size"]) for a in body["attachments"]] == [
            ("parcel.jpg", "image/jpeg", len(JPEG))]
        row = await wait_for(lambda: settled(body["id"]))
        assert row["delivery_status"] == "sent", row
        listed = (await client.get(f"/api/v1/tickets/{ticket_id}/messages", headers=auth(token))).json()["items"]
        assert listed[-1]["attachments"][0]["filename"] == "parcel.jpg"
    [(media_id, upload)] = graph.uploads.items()
    assert upload.data == JPEG and upload.filename == "parcel.jpg" and upload.content_type == "image/jpeg"
    [send] = graph.sends()
    assert send.json()["type"] == "image"
    assert send.json()["image"] == {"id": media_id, "caption": "Here is the photo of your parcel"}
    stored = await Attachment.select().where(Attachment.message == body["id"]).first()
    assert (desk.data_dir / stored["storage_path"]).read_bytes() == JPEG


async def test_api_reply_with_a_file_goes_out_by_email(make_desk, smtp):
    desk = await make_desk(email_config(smtp_url=smtp.url))
    _, token = await make_agent("agent")
    from core.inbound import ingest
    from plugins.email.receive import receive
    from tests.plugins.email.mailhelpers import mail

    account = desk.registry.account("email", "support")
    await ingest(desk, account, receive(mail("<q1@buyer.example>"), account.settings, account.name).messages)
    ticket = await Ticket.select(Ticket.id).first()
    invoice = b"%PDF-1.4\n" + b"invoice 1001\n" * 200
    async with client_for(desk) as client:
        res = await client.post(f"/api/v1/tickets/{ticket['id']}/reply", headers=auth(token), json={
            "text": "Your invoice is attached.",
            "attachments": [{"filename": "发票-1001.pdf", "data": b64(invoice)}]})  # type from the name
        assert res.status_code == 202, res.text
        assert res.json()["attachments"][0]["content_type"] == "application/pdf"
        row = await wait_for(lambda: settled(res.json()["id"]))
    assert row["delivery_status"] == "sent", row
    [received] = smtp.received
    parsed = email.message_from_bytes(received.data, policy=email.policy.default)
    [part] = list(parsed.iter_attachments())
    assert part.get_filename() == "发票-1001.pdf" and part.get_content_type() == "application/pdf"
    assert part.get_payload(decode=True) == invoice


async def test_hostile_files_get_a_4xx_and_nothing_is_stored(make_desk, graph):
    desk = await make_desk(lambda c: (whatsapp(graph)(c), c["relaydesk"].update(max_reply_files_bytes=6_000_000)))
    _, token = await make_agent("agent")
    async with client_for(desk) as client:
        ticket_id = await whatsapp_ticket(client)
        await post_messages(client, [message("api-1", text="api question")])
        api_ticket = (await Ticket.select(Ticket.id).where(Ticket.channel_type == "api").first())["id"]
        before = await Message.count()

        async def reply(ticket: int, files: list[dict], text: str = "hi"):
            return await client.post(f"/api/v1/tickets/{ticket}/reply", headers=auth(token),
                                     json={"text": text, "attachments": files})

        one = {"filename": "a.jpg", "content_type": "image/jpeg", "data": b64(b"\xff\xd8jpeg")}
        cases = {
            "too large for its type": (await reply(ticket_id, [{**one, "data": b64(b"x" * 5_000_001)}]), 413),
            "too many": (await reply(ticket_id, [one] * 11), 400),
            "more than the list allows": (await reply(ticket_id, [one] * 21), 400),
            "bad type": (await reply(ticket_id, [{**one, "filename": "run.exe",
                                                  "content_type": "application/x-msdownload"}]), 415),
            "webp is a sticker, not a photo": (await reply(ticket_id, [{**one, "content_type": "image/webp"}]), 415),
            "not base64": (await reply(ticket_id, [{**one, "data": "%%%not base64%%%"}]), 400),
            "empty file": (await reply(ticket_id, [{**one, "data": ""}]), 400),
            "no file name": (await reply(ticket_id, [{**one, "filename": ""}]), 400),
            "unknown field": (await reply(ticket_id, [{**one, "path": "/etc/passwd"}]), 400),
            "a channel without files": (await reply(api_ticket, [one]), 400),
            "body beyond the route's limit": (await reply(ticket_id, [{**one, "data": b64(b"x" * 9_500_000)}]), 413),
        }
        for name, (res, status) in cases.items():
            assert res.status_code == status, (name, res.status_code, res.text)
            assert res.json()["error"]["message"], name
        assert "At most 10 files" in cases["too many"][0].json()["error"]["message"]
        assert cases["bad type"][0].json()["error"]["code"] == "unsupported_attachment_type"
    assert await Message.count() == before and not await Attachment.exists().where(Attachment.message > 0)
    assert not graph.uploads


async def test_inbox_form_sends_files_and_refuses_a_too_large_one_keeping_nothing(make_desk, graph):
    desk = await make_desk(whatsapp(graph))
    await make_agent("agent", email="files@example.com")
    async with client_for(desk) as client:
        ticket_id = await whatsapp_ticket(client)
        await sign_in(client, "files@example.com")
        page = (await client.get(f"/inbox/t/{ticket_id}")).text
        # the limits are in the reply box before sending
        assert 'name="files"' in page and 'hx-encoding="multipart/form-data"' in page
        assert "up to 10 files, 25 MB each" in page and 'accept="image/jpeg,image/png,' in page
        htmx = {"hx-request": "true"}
        big = await form_post(client, f"/inbox/t/{ticket_id}/reply", {"text": "Photo attached"}, page=f"/inbox/t/{ticket_id}",
                              files={"files": ("huge.jpg", b"\xff" * 5_000_001, "image/jpeg")}, headers=htmx)
        assert big.status_code == 413 and "huge.jpg is 5 MB; this channel takes at most 5 MB per file" in big.text
        assert big.headers["hx-retarget"] == "#flash"
        assert not await Message.exists().where(Message.direction == "outbound")
        note = await form_post(client, f"/inbox/t/{ticket_id}/reply", {"text": "for us", "kind": "note"},
                               page=f"/inbox/t/{ticket_id}", files={"files": ("a.jpg", JPEG, "image/jpeg")}, headers=htmx)
        assert note.status_code == 400 and "Internal notes cannot carry files" in note.text
        sent = await form_post(client, f"/inbox/t/{ticket_id}/reply", {"text": "Photo attached"}, page=f"/inbox/t/{ticket_id}",
                               files={"files": ("parcel.jpg", JPEG, "image/jpeg")}, headers=htmx)
        assert sent.status_code == 200, sent.text
        assert "parcel.jpg" in sent.text  # the timeline shows the file on the reply
        reply = await Message.select(Message.id).where(Message.direction == "outbound").first()
        assert (await wait_for(lambda: settled(reply["id"])))["delivery_status"] == "sent"
    assert [u.data for u in graph.uploads.values()] == [JPEG]


async def test_inbox_says_when_a_channel_cannot_send_files(desk):
    await make_agent("agent", email="nofiles@example.com")
    async with client_for(desk) as client:
        await post_messages(client, [message("m1")])
        ticket = await Ticket.select(Ticket.id).first()
        await sign_in(client, "nofiles@example.com")
        page = (await client.get(f"/inbox/t/{ticket['id']}")).text
    assert "This channel cannot send files." in page and 'name="files"' not in page


async def test_inbox_refusal_and_limits_speak_the_agents_language(make_desk, graph):
    from core.tables import Agent

    desk = await make_desk(whatsapp(graph))
    agent_id, _ = await make_agent("agent", email="li@example.com")
    await Agent.update({Agent.locale: "zh"}).where(Agent.id == agent_id)
    async with client_for(desk) as client:
        ticket_id = await whatsapp_ticket(client)
        await sign_in(client, "li@example.com")
        page = (await client.get(f"/inbox/t/{ticket_id}")).text
        assert "添加附件" in page and "最多 10 个文件，每个不超过 25 MB" in page
        refused = await form_post(client, f"/inbox/t/{ticket_id}/reply", {"text": "看图"}, page=f"/inbox/t/{ticket_id}",
                                  files={"files": ("tool.exe", b"MZ", "application/x-msdownload")},
                                  headers={"hx-request": "true"})
    assert refused.status_code == 415 and "tool.exe：此渠道不发送 application/x-msdownload 类型的文件。" in refused.text


async def test_a_control_character_in_the_multipart_reply_text_is_refused(make_desk, graph):
    desk = await make_desk(whatsapp(graph))
    await make_agent("agent", email="ctl@example.com")
    async with client_for(desk) as client:
        ticket_id = await whatsapp_ticket(client)
        await sign_in(client, "ctl@example.com")
        refused = await form_post(client, f"/inbox/t/{ticket_id}/reply", {"text": "bell\x07 here"},
                                  page=f"/inbox/t/{ticket_id}", files={"files": ("a.jpg", JPEG, "image/jpeg")},
                                  headers={"hx-request": "true"})
    assert refused.status_code == 400 and "control character" in refused.text
    assert not await Message.exists().where(Message.direction == "outbound")
