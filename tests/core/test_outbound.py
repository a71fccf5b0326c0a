"""Replies: outbox in one transaction, delivery with an idempotency key, retries, sweeper, arq."""

from __future__ import annotations

import asyncio

from core import outbound
from core.inbound import ingest
from core.plugins import hookimpl
from core.tables import Message, Outbox, Ticket
from core.types import InboundMessage
from tests.conftest import allow_loopback, wait_for
from tests.loopback import Scripted


def with_callback(url: str, **relaydesk):
    def configure(config):
        config["plugins"]["api_channel"]["accounts"]["main"]["callback_url"] = url
        config["relaydesk"].update(relaydesk)
        allow_loopback(config)
    return configure


async def new_ticket(desk, sender: str = "cust-1") -> int:
    account = desk.registry.account("api_channel", "main")
    res = await ingest(desk, account, [InboundMessage(external_id=f"in-{sender}", sender_handle=sender, text="Hello")])
    return res[0].ticket_id


async def status_of(message_id: int) -> str:
    row = await Message.select(Message.delivery_status).where(Message.id == message_id).first()
    return row["delivery_status"]


async def test_reply_is_delivered_in_process(make_desk, receiver):
    desk = await make_desk(with_callback(receiver.url + "/replies"))
    ticket_id = await new_ticket(desk)
    message = await outbound.reply(desk, ticket_id, author_id=None, text="Your parcel ships today.")
    assert message["delivery_status"] == "queued"
    assert await Outbox.count() == 1
    await wait_for(lambda: status_of(message["id"]), timeout=10)
    await wait_for(lambda: _is(status_of(message["id"]), "sent"))
    [request] = receiver.requests
    body = request.json()
    assert body["text"] == "Your parcel ships today." and body["recipient"] == "cust-1"
    assert request.headers["idempotency-key"] == f"relaydesk-{desk.desk_id}-msg-{message['id']}"
    ticket = await Ticket.select(Ticket.status, Ticket.first_responded_at, Ticket.first_response_due_at).where(
        Ticket.id == ticket_id).first()
    assert ticket["status"] == "open" and ticket["first_responded_at"] and ticket["first_response_due_at"] is None


async def _is(value, expected):
    return (await value) == expected


async def test_retryable_failure_backs_off_then_succeeds(make_desk, receiver):
    receiver.script = [Scripted(status=503, body={"error": "busy"}, headers={"retry-after": "0.2"})]
    desk = await make_desk(with_callback(receiver.url))
    ticket_id = await new_ticket(desk)
    message = await outbound.reply(desk, ticket_id, author_id=None, text="Retry me")
    await wait_for(lambda: _is(status_of(message["id"]), "sent"), timeout=15)
    assert len(receiver.requests) == 2
    keys = {r.headers["idempotency-key"] for r in receiver.requests}
    assert keys == {f"relaydesk-{desk.desk_id}-msg-{message['id']}"}
    row = await Outbox.select(Outbox.status, Outbox.attempts).first()
    assert row == {"status": "done", "attempts": 2}


async def test_permanent_failure_is_shown_on_the_message(make_desk, receiver):
    receiver.script = [Scripted(status=400, body={"error": "recipient blocked"})]
    desk = await make_desk(with_callback(receiver.url))
    ticket_id = await new_ticket(desk)
    message = await outbound.reply(desk, ticket_id, author_id=None, text="Nope")
    await wait_for(lambda: _is(status_of(message["id"]), "failed"))
    row = await Message.select(Message.delivery_error).where(Message.id == message["id"]).first()
    assert "400" in row["delivery_error"] and "recipient blocked" in row["delivery_error"]
    assert len(receiver.requests) == 1


async def test_hook_send_message(make_desk):
    sent = []

    class Recorder:
        @hookimpl
        def send_message(self, channel_type, account, message):
            if channel_type != "api":
                return None

            async def send():
                from core.types import SendResult
                sent.append(message)
                return SendResult(external_id="platform-42", status="delivered")
            return send()

    desk = await make_desk(extra_plugins=[("recorder", Recorder())])
    ticket_id = await new_ticket(desk)
    message = await outbound.reply(desk, ticket_id, author_id=None, text="Hi")
    await wait_for(lambda: _is(status_of(message["id"]), "delivered"))
    assert sent[0].idempotency_key == f"relaydesk-{desk.desk_id}-msg-{message['id']}" and sent[0].in_reply_to == "in-cust-1"
    row = await Message.select(Message.external_id).where(Message.id == message["id"]).first()
    assert row["external_id"] == "platform-42"


async def test_sweeper_picks_up_rows_no_job_holds(make_desk, receiver):
    # A web process that does not run jobs queues the reply; nothing delivers it...
    web = await make_desk(with_callback(receiver.url), run_jobs=False)
    ticket_id = await new_ticket(web)
    message = await outbound.reply(web, ticket_id, author_id=None, text="Swept")
    await asyncio.sleep(0.2)
    assert receiver.requests == [] and await status_of(message["id"]) == "queued"
    # ...until a process that runs jobs starts: its sweeper finds the row in the database.
    await make_desk(with_callback(receiver.url), run_jobs=True)
    await wait_for(lambda: _is(status_of(message["id"]), "sent"))
    assert len(receiver.requests) == 1


async def test_a_leased_row_is_not_sent_twice(make_desk, receiver):
    desk = await make_desk(with_callback(receiver.url), run_jobs=False)
    ticket_id = await new_ticket(desk)
    message = await outbound.reply(desk, ticket_id, author_id=None, text="Once")
    outbox_id = (await Outbox.select(Outbox.id).first())["id"]
    results = await asyncio.gather(*(outbound.deliver(desk, outbox_id) for _ in range(3)))
    assert sorted(results) == ["sent", "skipped", "skipped"]
    assert len(receiver.requests) == 1 and await status_of(message["id"]) == "sent"


async def test_arq_worker_in_burst_mode_on_real_redis(make_desk, receiver, redis_url):
    from arq.worker import Worker

    from core.jobs import worker_settings

    web = await make_desk(with_callback(receiver.url, redis=redis_url))
    ticket_id = await new_ticket(web)
    message = await outbound.reply(web, ticket_id, author_id=None, text="Via arq")
    assert await status_of(message["id"]) == "queued"
    worker_desk = await make_desk(with_callback(receiver.url, redis=redis_url,
                                                queue_name=web.settings.queue_name), run_jobs=False)
    settings = worker_settings(worker_desk, burst=True)
    settings["cron_jobs"] = []  # burst mode waits for cron; the queue alone is what we test here
    worker = Worker(**settings)
    await worker.main()
    await worker.close()
    assert worker.jobs_failed == 0 and worker.jobs_complete == 1
    assert await status_of(message["id"]) == "sent"
    assert receiver.requests[0].json()["text"] == "Via arq"
