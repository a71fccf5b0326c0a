"""A customer's data (issue 19 item 7): export as a zip of JSON plus attachments, erase with a
confirmation, from the API and the customer panel, admins only, audited; and retention per channel
that anonymizes or erases solved tickets after N days (a job), leaving open work alone."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest

from core import clock, retention, search
from core.config import settings_from_dict
from core.errors import ConfigError
from core.tables import Attachment, AuditEntry, Customer, Message, Ticket, TicketTag
from tests.conftest import base_config
from tests.helpers import auth, client_for, make_agent, message, post_messages
from tests.web.inbox_helpers import csrf_from, sign_in

RECEIPT = b"%PDF-1.4 receipt of order 1001 \xe2\x82\xac"


def _with_file(external_id: str, sender: str, text: str) -> dict:
    return message(external_id, sender, text, details={"name": "Hanna Schmidt", "email": "hanna@example.de"},
                   attachments=[{"filename": "Quittung 1001.pdf", "content_type": "application/pdf",
                                 "data": base64.b64encode(RECEIPT).decode()}])


async def _customer_of(text: str) -> int:
    row = await Message.select(Message.customer).where(Message.text == text).first()
    return row["customer"]


async def test_an_admin_exports_everything_and_erases_with_confirmation(desk):
    _, admin = await make_agent("admin", email="dpo@example.com")
    _, agent = await make_agent("agent", email="plain@example.com")
    async with client_for(desk) as client:
        await post_messages(client, [_with_file("d-1", "hanna", "Wo bleibt meine Bestellung 1001?"),
                                     message("d-2", "hanna", "Bitte meine Daten löschen")])
        customer = await _customer_of("Bitte meine Daten löschen")
        assert (await client.get(f"/api/v1/customers/{customer}/export", headers=auth(agent))).status_code == 403
        exported = await client.get(f"/api/v1/customers/{customer}/export", headers=auth(admin))
        assert exported.status_code == 200 and exported.headers["content-type"].startswith("application/zip")
        archive = zipfile.ZipFile(io.BytesIO(exported.content))
        data = json.loads(archive.read("customer.json"))
        assert data["customers"][0]["email"] == "hanna@example.de"
        assert {m["text"] for m in data["messages"]} >= {"Wo bleibt meine Bestellung 1001?", "Bitte meine Daten löschen"}
        assert archive.read(data["attachments"][0]["file"]) == RECEIPT
        stored = (await Attachment.select(Attachment.storage_path).first())["storage_path"]
        assert (desk.data_dir / stored).is_file()

        refused = await client.post(f"/api/v1/customers/{customer}/erase", json={}, headers=auth(admin))
        assert refused.status_code == 400 and await Customer.exists().where(Customer.id == customer)
        assert (await client.post(f"/api/v1/customers/{customer}/erase", json={"confirm": True},
                                  headers=auth(agent))).status_code == 403
        erased = await client.post(f"/api/v1/customers/{customer}/erase",
                                   json={"confirm": True, "reason": "GDPR request by email"}, headers=auth(admin))
        assert erased.status_code == 200 and erased.json()["messages"] == 2 and erased.json()["files_removed"] == 1
        assert not await Customer.exists().where(Customer.id == customer)
        assert not (desk.data_dir / stored).exists()
        assert (await client.post(f"/api/v1/customers/{customer}/erase", json={"confirm": True},
                                  headers=auth(admin))).status_code == 404
        actions = [r["action"] for r in await AuditEntry.select(AuditEntry.action).where(AuditEntry.entity_id == customer)]
        assert "customer.exported" in actions and "customer.erased" in actions
        assert "GDPR" in json.dumps([r["changes"] for r in await AuditEntry.select(AuditEntry.changes)])
        for bad in ({"confirm": "yes"}, {"confirm": True, "reason": "x" * 500}, {"confirm": True, "extra": 1}):
            response = await client.post("/api/v1/customers/1/erase", json=bad, headers=auth(admin))
            assert response.status_code == 400, bad


async def test_the_panel_offers_export_and_erase_to_admins_and_asks_first(desk):
    await make_agent("admin", email="panel-admin@example.com")
    await make_agent("agent", email="panel-agent@example.com")
    async with client_for(desk) as client:
        await post_messages(client, [message("p-1", "kim", "hello from kim")])
        customer = await _customer_of("hello from kim")
        ticket = (await Ticket.select(Ticket.id).first())["id"]
        await sign_in(client, "panel-agent@example.com")
        view = await client.get(f"/inbox/t/{ticket}")
        assert f"/inbox/customers/{customer}/erase" not in view.text
        assert (await client.get(f"/inbox/customers/{customer}/erase")).status_code == 403
    async with client_for(desk) as client:
        await sign_in(client, "panel-admin@example.com")
        view = await client.get(f"/inbox/t/{ticket}")
        assert f"/inbox/customers/{customer}/erase" in view.text
        confirm = await client.get(f"/inbox/customers/{customer}/erase")
        assert confirm.status_code == 200 and "1 message(s)" in confirm.text
        token = csrf_from(confirm.text)
        unticked = await client.post(f"/inbox/customers/{customer}/erase", data={"_csrf_token": token})
        assert unticked.status_code == 400 and await Customer.exists().where(Customer.id == customer)
        done = await client.post(f"/inbox/customers/{customer}/erase", follow_redirects=False,
                                 data={"_csrf_token": token, "confirm": "erase", "reason": "asked by phone"})
        assert done.status_code in (302, 303) and not await Customer.exists().where(Customer.id == customer)
        zipped = await client.get(f"/inbox/customers/{customer}/export")
        assert zipped.status_code == 404


def test_retention_settings_are_checked_at_start(tmp_path: Path):
    config = base_config("sqlite:///x.db", tmp_path)
    config["relaydesk"]["retention"] = {"email": {"days": 365, "action": "anonymize"}, "whatsapp": {"days": 30}}
    rules = settings_from_dict(config).retention
    assert rules["email"].action == "anonymize" and rules["whatsapp"].action == "anonymize"
    for bad in ({"email": {"days": 0}}, {"email": {"days": "a year"}}, {"email": {"days": 9, "action": "shred"}},
                {"email": 365}, {"email": {"days": 9, "keep": 1}}):
        config["relaydesk"]["retention"] = bad
        with pytest.raises(ConfigError):
            settings_from_dict(config)


async def _age(ticket_id: int, days: int, status: str = "solved") -> None:
    then = clock.now() - timedelta(days=days)
    await Ticket.update({Ticket.status: status, Ticket.solved_at: then, Ticket.updated_at: then}).where(Ticket.id == ticket_id)


async def test_retention_anonymizes_or_erases_old_solved_tickets_of_its_channel_only(make_desk):
    def configure(config):
        config["relaydesk"]["retention"] = {"api": {"days": 30, "action": "anonymize"}}

    desk = await make_desk(configure)
    async with client_for(desk) as client:
        await post_messages(client, [_with_file("r-1", "old", "Kündigung wegen Lieferverzug zzyzx"),
                                     message("r-2", "recent", "recent question quokka"),
                                     message("r-3", "open", "still open wombat")])
    by_text = {}
    for text in ("Kündigung wegen Lieferverzug zzyzx", "recent question quokka", "still open wombat"):
        by_text[text] = (await Message.select(Message.ticket).where(Message.text == text).first())["ticket"]
    old, recent, still_open = by_text.values()
    await _age(old, 40)
    await _age(recent, 5)
    await _age(still_open, 90, status="open")
    await search.catch_up()
    assert old in await search.search("zzyzx")
    channel = (await Ticket.select(Ticket.channel_type).where(Ticket.id == old).first())["channel_type"]
    rule = retention.RetentionRule(channel, 30, "anonymize")

    assert await retention.apply(desk, rule) == 1
    assert await retention.apply(desk, rule) == 0, "done once"
    texts = [r["text"] for r in await Message.select(Message.text).where(Message.ticket == old)]
    assert texts and all(t == "" for t in texts)
    assert not await Attachment.exists().where(Attachment.message.is_in(
        [r["id"] for r in await Message.select(Message.id).where(Message.ticket == old)]))
    assert await TicketTag.exists().where((TicketTag.ticket == old) & (TicketTag.tag == "anonymized"))
    assert old not in await search.search("zzyzx"), "the removed words no longer find the ticket"
    assert "recent question quokka" in [r["text"] for r in await Message.select(Message.text).where(Message.ticket == recent)]
    assert "still open wombat" in [r["text"] for r in await Message.select(Message.text).where(Message.ticket == still_open)]
    ticket = await Ticket.select(Ticket.status, Ticket.solved_at).where(Ticket.id == old).first()
    assert ticket["status"] == "solved" and ticket["solved_at"] is not None, "kept for reports"

    erase = retention.RetentionRule(channel, 3, "erase")
    assert await retention.apply(desk, erase) == 2  # the anonymized one and the recent one, not the open one
    assert [r["id"] for r in await Ticket.select(Ticket.id)] == [still_open]
