"""Exporting and erasing what Relaydesk holds about a customer, for any channel's privacy requests
(Shopify's customers/data_request and customers/redact, eBay's account deletion, a GDPR request by
email...).

Erasure is two-phase because attachments live on disk, content-addressed and possibly shared:
``erase_rows`` deletes the rows inside the caller's transaction and says which files lost a
reference; ``remove_files`` deletes those no remaining row references, after the commit. A crash
between the two leaves an orphan file, never a row pointing at a missing file.
``erase_customers`` runs both for callers without a transaction of their own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core import audit, db
from core.tables import Attachment, Customer, Identity, Message, Outbox, Ticket, TicketTag

if TYPE_CHECKING:
    from core.desk import Desk

log = logging.getLogger("relaydesk.privacy")


@dataclass
class ErasePlan:
    customers: list[int] = field(default_factory=list)
    tickets: int = 0
    messages: int = 0
    identities: int = 0
    attachments: int = 0
    files: list[str] = field(default_factory=list)  # storage paths relative to the data dir
    files_removed: int = 0

    def summary(self) -> dict[str, Any]:
        return {"customers": len(self.customers), "tickets": self.tickets, "messages": self.messages,
                "identities": self.identities, "attachments": self.attachments,
                "files": len(self.files), "files_removed": self.files_removed}


async def with_merged(customer_ids: list[int]) -> list[int]:
    """The customers plus every customer merged into them (merges form chains)."""
    found = {int(c) for c in customer_ids if c}
    frontier = set(found)
    while frontier:
        rows = await Customer.select(Customer.id).where(Customer.merged_into.is_in(list(frontier)))
        frontier = {r["id"] for r in rows} - found
        found |= frontier
    return sorted(found)


async def export_customers(customer_ids: list[int]) -> dict[str, Any]:
    """Everything stored for these customers (and those merged into them), as JSON-ready dicts."""
    ids = await with_merged(customer_ids)
    if not ids:
        return {"customers": [], "identities": [], "tickets": [], "messages": [], "attachments": []}
    customers = await Customer.select().where(Customer.id.is_in(ids)).order_by(Customer.id)
    identities = await Identity.select().where(Identity.customer.is_in(ids)).order_by(Identity.id)
    tickets = await Ticket.select(
        Ticket.id, Ticket.subject, Ticket.status, Ticket.channel_type, Ticket.customer, Ticket.created_at,
        Ticket.updated_at, Ticket.language,
    ).where(Ticket.customer.is_in(ids)).order_by(Ticket.id)
    ticket_ids = [t["id"] for t in tickets]
    messages: list[dict[str, Any]] = []
    attachments: list[dict[str, Any]] = []
    if ticket_ids:
        messages = await Message.select(
            Message.id, Message.ticket, Message.direction, Message.subject, Message.text, Message.html,
            Message.created_at, Message.sent_at, Message.delivery_status,
        ).where(Message.ticket.is_in(ticket_ids) & (Message.direction != "note")).order_by(Message.id)
        message_ids = [m["id"] for m in messages]
        if message_ids:
            attachments = await Attachment.select(
                Attachment.id, Attachment.message, Attachment.filename, Attachment.content_type, Attachment.size,
                Attachment.sha256, Attachment.created_at,
            ).where(Attachment.message.is_in(message_ids)).order_by(Attachment.id)
    return audit._jsonable({"customers": customers, "identities": identities, "tickets": tickets,
                            "messages": messages, "attachments": attachments})


async def erase_rows(customer_ids: list[int], *, actor: str, reason: str) -> ErasePlan:
    """Delete the customers (with merged ones), their identities, tickets, messages and attachment
    rows. Runs in the caller's transaction (or its own). Deletes explicitly rather than relying on
    foreign-key cascades, which SQLite enforces only when asked."""
    plan = ErasePlan()
    async with db.transaction():
        ids = await with_merged(customer_ids)
        existing = await Customer.select(Customer.id).where(Customer.id.is_in(ids)) if ids else []
        plan.customers = [r["id"] for r in existing]
        if not plan.customers:
            return plan
        tickets = await Ticket.select(Ticket.id).where(Ticket.customer.is_in(plan.customers))
        ticket_ids = [t["id"] for t in tickets]
        message_filter = Message.customer.is_in(plan.customers)
        if ticket_ids:
            message_filter = message_filter | Message.ticket.is_in(ticket_ids)
        await _delete_tickets(ticket_ids, message_filter, plan)
        identities = await Identity.select(Identity.id).where(Identity.customer.is_in(plan.customers))
        plan.identities = len(identities)
        await Identity.delete().where(Identity.customer.is_in(plan.customers))
        await Customer.update({Customer.merged_into: None}).where(Customer.merged_into.is_in(plan.customers))
        await Customer.delete().where(Customer.id.is_in(plan.customers))
        for customer_id in plan.customers:
            # The audit entry names the row id and the reason, never the erased personal data.
            await audit.record(actor, "customer.erased", "customer", customer_id,
                               {"reason": reason, "tickets": plan.tickets, "messages": plan.messages})
    return plan


async def _drop_attachments(message_ids: list[int], plan: ErasePlan) -> None:
    rows = await Attachment.select(Attachment.id, Attachment.storage_path).where(Attachment.message.is_in(message_ids))
    plan.attachments += len(rows)
    plan.files = sorted({*plan.files, *(r["storage_path"] for r in rows)})
    await Attachment.delete().where(Attachment.message.is_in(message_ids))


async def _delete_tickets(ticket_ids: list[int], message_filter: Any, plan: ErasePlan) -> None:
    """Delete the tickets, the messages `message_filter` selects, and everything hanging off them."""
    messages = await Message.select(Message.id).where(message_filter)
    message_ids = [m["id"] for m in messages]
    if message_ids:
        await _drop_attachments(message_ids, plan)
        await Outbox.delete().where(Outbox.message.is_in(message_ids))
        await Message.delete().where(Message.id.is_in(message_ids))
    plan.messages += len(message_ids)
    if ticket_ids:
        await TicketTag.delete().where(TicketTag.ticket.is_in(ticket_ids))
        # Follow-up tickets of other customers must not point at an erased ticket.
        await Ticket.update({Ticket.linked_ticket: None}).where(Ticket.linked_ticket.is_in(ticket_ids))
        await Ticket.delete().where(Ticket.id.is_in(ticket_ids))
    plan.tickets += len(ticket_ids)


async def erase_tickets(ticket_ids: list[int], *, actor: str, reason: str) -> ErasePlan:
    """Delete whole tickets (retention): their messages, attachments and tags; the customers stay."""
    plan = ErasePlan()
    if not ticket_ids:
        return plan
    async with db.transaction():
        await _delete_tickets(ticket_ids, Message.ticket.is_in(ticket_ids), plan)
        await audit.record(actor, "tickets.erased", "ticket", min(ticket_ids),
                           {"reason": reason, "tickets": plan.tickets, "messages": plan.messages})
    return plan


ANONYMIZED_TAG = "anonymized"


async def anonymize_tickets(ticket_ids: list[int], *, actor: str, reason: str) -> ErasePlan:
    """Keep the tickets' numbers for reports (channel, status, times, SLA, team, CSAT) and remove what
    people wrote and sent: subjects, message texts and HTML, message metadata, attachments. The
    ticket is tagged "anonymized"; its search entries are rebuilt from what is left."""
    from core import search

    plan = ErasePlan()
    if not ticket_ids:
        return plan
    async with db.transaction():
        messages = await Message.select(Message.id).where(Message.ticket.is_in(ticket_ids))
        message_ids = [m["id"] for m in messages]
        if message_ids:
            await _drop_attachments(message_ids, plan)
            await Message.update({Message.text: "", Message.html: None, Message.subject: None, Message.metadata: {},
                                  Message.delivery_error: None}).where(Message.id.is_in(message_ids))
        plan.messages = len(message_ids)
        await Ticket.update({Ticket.subject: ""}).where(Ticket.id.is_in(ticket_ids))
        await TicketTag.insert(*(TicketTag(ticket=t, tag=ANONYMIZED_TAG) for t in ticket_ids))
        await search.forget_tickets(ticket_ids)
        plan.tickets = len(ticket_ids)
        await audit.record(actor, "tickets.anonymized", "ticket", min(ticket_ids),
                           {"reason": reason, "tickets": plan.tickets, "messages": plan.messages})
    return plan


async def export_zip(data_dir: Path, customer_ids: list[int]) -> tuple[Any, dict[str, Any]]:
    """A zip of everything stored about the customers: customer.json (export_customers) and each
    attachment's bytes under attachments/. Spooled to disk past 16 MB. Returns (file at 0, summary)."""
    import json
    import tempfile
    import zipfile

    from core.attachments import safe_filename

    data = await export_customers(customer_ids)
    ids = [a["id"] for a in data["attachments"]]
    paths = {r["id"]: r["storage_path"] for r in
             await Attachment.select(Attachment.id, Attachment.storage_path).where(Attachment.id.is_in(ids))} if ids else {}
    out = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)
    missing: list[int] = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for item in data["attachments"]:
            source = (data_dir / paths.get(item["id"], "")).resolve()
            if not paths.get(item["id"]) or data_dir.resolve() not in source.parents or not source.is_file():
                missing.append(item["id"])
                continue
            name = f"attachments/{item['id']}-{safe_filename(item['filename'])}"
            archive.write(source, name)
            item["file"] = name
        data["missing_attachment_files"] = missing
        archive.writestr("customer.json", json.dumps(data, ensure_ascii=False, indent=2, default=str))
    out.seek(0)
    return out, {"customers": len(data["customers"]), "tickets": len(data["tickets"]),
                 "messages": len(data["messages"]), "attachments": len(data["attachments"]) - len(missing)}


async def remove_files(data_dir: Path, plan: ErasePlan) -> ErasePlan:
    """After the commit: delete the plan's files that no remaining attachment row references."""
    for relative in plan.files:
        if await Attachment.exists().where(Attachment.storage_path == relative):
            continue  # the same bytes are attached to someone else's message
        target = (data_dir / relative).resolve()
        if data_dir.resolve() not in target.parents:
            log.warning("refusing to remove %s: outside the data dir", relative)
            continue
        try:
            target.unlink()
            plan.files_removed += 1
        except FileNotFoundError:
            pass
    return plan


async def erase_customers(desk: "Desk", customer_ids: list[int], *, actor: str, reason: str) -> ErasePlan:
    plan = await erase_rows(customer_ids, actor=actor, reason=reason)
    return await remove_files(desk.data_dir, plan)
