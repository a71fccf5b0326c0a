"""End to end: a message arrives, the ticket learns the language, a job translates it for the
agent, failures are recorded and retried, and an agent previews a reply in the customer's language."""

from __future__ import annotations

from typing import Any, Callable

from core.tables import Message, Ticket
from plugins.translate.jobs import as_dict
from tests.helpers import auth, client_for, make_agent, message, post_messages
from tests.plugins.translate.conftest import desk_with


async def _inbound(desk: Any, external_id: str, text: str, sender: str = "cust-1") -> dict[str, Any]:
    async with client_for(desk) as client:
        response = await post_messages(client, [message(external_id, sender=sender, text=text)])
        assert response.status_code in (200, 202), response.text
    await desk.jobs.drain()
    row = await Message.select().where(Message.external_id == external_id).output(load_json=True).first()
    row["metadata"] = as_dict(row["metadata"])
    return row


async def test_hook_classify(tdesk: Any) -> None:
    row = await _inbound(tdesk, "m-1", "Wo ist meine Bestellung? Sie sollte gestern ankommen.")
    ticket = await Ticket.select(Ticket.language).where(Ticket.id == row["ticket"]).first()
    assert ticket["language"] == "de"
    from core.types import InboundMessage

    assert tdesk.registry.hook.classify(message=InboundMessage("x", "c", text="ok"), ticket={}) == []


async def test_hook_ticket_event_translates_inbound_for_the_reader(tdesk: Any, provider: Any) -> None:
    row = await _inbound(tdesk, "m-2", "Wo ist meine Bestellung?")
    # unassigned: translated into the default language, the original stays as it was
    assert row["text"] == "Wo ist meine Bestellung?"
    assert row["metadata"]["translation"] == {"text": "Where is my order?", "language": "en", "source": "de",
                                              "provider": "deepl"}
    assert len(provider.requests) == 1
    # an English message for an English reader: nothing to do, no call
    await _inbound(tdesk, "m-3", "Thanks, everything is fine now.")
    assert len(provider.requests) == 1


async def test_assigned_agent_language_wins(tdesk: Any, provider: Any) -> None:
    first = await _inbound(tdesk, "m-4", "The package arrived damaged, what should I do now?", sender="c-9")
    agent_id, _ = await make_agent(languages=["de", "fr"])
    await Ticket.update({Ticket.assignee: agent_id}).where(Ticket.id == first["ticket"])
    row = await _inbound(tdesk, "m-5", "Can I change the delivery address please?", sender="c-9")
    assert row["ticket"] == first["ticket"]
    assert row["metadata"]["translation"]["language"] == "de"
    assert row["metadata"]["translation"]["text"] == "[de] Can I change the delivery address please?"


async def test_transient_failure_is_retried_by_the_job(make_desk: Callable[..., Any], provider: Any) -> None:
    desk = await desk_with(make_desk, provider.url, retry_seconds=0.05, retry_attempts=2)
    provider.fail_next = [429, 503]
    row = await _inbound(desk, "m-9", "Das Paket kam beschädigt an, was soll ich tun?")  # drains the retries
    assert row["metadata"]["translation"]["text"] == "[en] Das Paket kam beschädigt an, was soll ich tun?"
    assert "translation_error" not in row["metadata"]
    assert len(provider.requests) == 3
    provider.fail_next = [429, 429, 429]
    row = await _inbound(desk, "m-10", "Bitte stornieren Sie meine Bestellung sofort.")
    assert row["metadata"]["translation_error"]["code"] == "429"  # given up after 2 retries
    assert len(provider.requests) == 6


async def test_failure_is_recorded_and_retry_works(make_desk: Callable[..., Any], provider: Any) -> None:
    desk = await desk_with(make_desk, provider.url, retry_attempts=0)
    provider.fail_next = [503]
    row = await _inbound(desk, "m-6", "Das Paket kam beschädigt an, was soll ich tun?")
    error = row["metadata"]["translation_error"]
    assert error["provider"] == "deepl" and error["code"] == "503" and error["retryable"] is True
    assert "translation" not in row["metadata"]
    assert row["delivery_status"] is None or row["delivery_status"] != "failed"  # the message itself is fine
    _, token = await make_agent()
    async with client_for(desk) as client:
        response = await client.post(f"/api/v1/plugins/translate/messages/{row['id']}/retry", headers=auth(token))
    assert response.status_code == 202, response.text
    await desk.jobs.drain()
    fresh = as_dict((await Message.select(Message.metadata).where(Message.id == row["id"]).first())["metadata"])
    assert fresh["translation"]["text"] == "[en] Das Paket kam beschädigt an, was soll ich tun?"
    assert "translation_error" not in fresh


async def test_preview_translates_a_draft_into_the_customers_language(tdesk: Any, provider: Any) -> None:
    row = await _inbound(tdesk, "m-7", "Wo ist meine Bestellung? Sie sollte gestern ankommen.")
    _, token = await make_agent()
    async with client_for(tdesk) as client:
        ok = await client.post("/api/v1/plugins/translate/preview", headers=auth(token),
                               json={"ticket_id": row["ticket"], "text": "Your parcel ships today."})
        assert ok.status_code == 200, ok.text
        assert ok.json() == {"text": "Ihr Paket wird heute versandt.", "language": "de", "source": "en",
                             "provider": "deepl", "original": "Your parcel ships today."}
        provider.fail_next = [500]
        failed = await client.post("/api/v1/plugins/translate/preview", headers=auth(token),
                                   json={"ticket_id": row["ticket"], "text": "We refunded order #1001."})
        assert failed.status_code == 502
        assert failed.json()["error"]["code"] == "translation_failed"
        assert failed.json()["error"]["original"] == "We refunded order #1001."
        # the agent sends the original anyway: the reply is not blocked
        sent = await client.post(f"/api/v1/tickets/{row['ticket']}/reply", headers=auth(token),
                                 json={"text": "We refunded order #1001."})
        assert sent.status_code == 202, sent.text
        bad = await client.post("/api/v1/plugins/translate/preview", headers=auth(token), json={"text": "x"})
        assert bad.status_code == 400
        anonymous = await client.post("/api/v1/plugins/translate/preview",
                                      json={"ticket_id": row["ticket"], "text": "Hi"})
        assert anonymous.status_code == 401


async def test_reply_sends_the_translation_and_keeps_the_original(tdesk: Any, provider: Any) -> None:
    row = await _inbound(tdesk, "m-8", "Wo ist meine Bestellung? Sie sollte gestern ankommen.")
    _, token = await make_agent()
    async with client_for(tdesk) as client:
        sent = await client.post("/api/v1/plugins/translate/reply", headers=auth(token),
                                 json={"ticket_id": row["ticket"], "text": "Your parcel ships today."})
        assert sent.status_code == 202, sent.text
        edited = await client.post("/api/v1/plugins/translate/reply", headers=auth(token),
                                   json={"ticket_id": row["ticket"], "text": "Thanks!",
                                         "translated": "Vielen herzlichen Dank!"})
        assert edited.status_code == 202, edited.text
        calls = len(provider.requests)
        provider.fail_next = [456]
        failed = await client.post("/api/v1/plugins/translate/reply", headers=auth(token),
                                   json={"ticket_id": row["ticket"], "text": "One more thing."})
        assert failed.status_code == 502 and failed.json()["error"]["platform_code"] == "456"
        assert len(provider.requests) == calls + 1
    await tdesk.jobs.drain()
    stored = await Message.select().where((Message.ticket == row["ticket"]) & (Message.direction == "outbound")
                                          ).order_by(Message.id).output(load_json=True)
    assert [m["text"] for m in stored] == ["Ihr Paket wird heute versandt.", "Vielen herzlichen Dank!"]
    first = as_dict(stored[0]["metadata"])["translation"]
    assert first == {"original": "Your parcel ships today.", "source": "en", "language": "de", "provider": "deepl"}
    assert as_dict(stored[1]["metadata"])["translation"]["original"] == "Thanks!"
