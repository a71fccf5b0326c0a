"""Merging duplicate customers: the source's identities, tickets and messages move to the target,
tags and notes are combined, and the source remembers where it went (merged_into), so ingest that
still finds the old customer follows the link. Audited; one transaction.

A merge can be undone (`split`): the audit entry of the merge names the identities, tickets and
messages that moved and the target's fields before it, so each goes back to the customer it came
from. Tickets a source identity opened after the merge go back too (their first inbound message
came through one of those identities). Suggestions (`duplicates`) also come from order numbers
two customers both wrote about."""

from __future__ import annotations

from typing import Any

from core import audit, clock, db, search
from core.errors import InvalidRequest, NotFound
from core.tables import Customer, Identity, Message, Ticket


async def merge_customers(source_id: int, target_id: int, *, actor: str) -> dict[str, Any]:
    if source_id == target_id:
        raise InvalidRequest("a customer cannot be merged into itself")
    now = clock.now()
    async with db.transaction():
        source = await Customer.select().where(Customer.id == source_id).first()
        target = await Customer.select().where(Customer.id == target_id).first()
        if source is None or target is None:
            raise NotFound("one of the customers to merge does not exist")
        if source["merged_into"]:
            raise InvalidRequest(f"customer {source_id} was already merged into {source['merged_into']}")
        if target["merged_into"]:
            raise InvalidRequest(f"customer {target_id} was merged into {target['merged_into']}; merge into that one")
        tickets = [r["id"] for r in await Ticket.select(Ticket.id).where(Ticket.customer == source_id)]
        messages = [r["id"] for r in await Message.select(Message.id).where(Message.customer == source_id)]
        identities = await Identity.update({Identity.customer: target_id}).where(
            Identity.customer == source_id).returning(Identity.id)
        await Ticket.update({Ticket.customer: target_id}).where(Ticket.customer == source_id)
        await Message.update({Message.customer: target_id}).where(Message.customer == source_id)
        tags = sorted(set(_list(target["tags"])) | set(_list(source["tags"])))
        notes = "\n\n".join(n for n in (target["notes"], source["notes"]) if n and n.strip())
        await Customer.update({
            Customer.tags: tags, Customer.notes: notes, Customer.updated_at: now,
            Customer.name: target["name"] or source["name"], Customer.email: target["email"] or source["email"],
            Customer.phone: target["phone"] or source["phone"],
        }).where(Customer.id == target_id)
        await Customer.update({Customer.merged_into: target_id, Customer.updated_at: now}).where(
            Customer.id == source_id)
        changes = {"into": target_id, "tickets": tickets, "identities": [r["id"] for r in identities],
                   "messages": messages, "target_before": {k: target[k] for k in ("name", "email", "phone", "tags", "notes")}}
        await audit.record(actor, "merge", "customer", source_id, changes)
    # the target's tickets now answer to the source's names, emails and phones too
    everything = [r["id"] for r in await Ticket.select(Ticket.id).where(Ticket.customer == target_id)]
    await search.index_tickets(everything)
    return changes


async def split(source_id: int, *, actor: str) -> dict[str, Any]:
    """Undo the merge of `source_id`: what came from it goes back to it (see the module doc)."""
    from core.tables import AuditEntry

    async with db.transaction():
        source = await Customer.select().where(Customer.id == source_id).first()
        if source is None:
            raise NotFound(f"customer {source_id} does not exist")
        target_id = source["merged_into"]
        if not target_id:
            raise InvalidRequest(f"customer {source_id} is not merged into another customer")
        if await Customer.exists().where(Customer.merged_into == source_id):
            raise InvalidRequest(f"other customers were merged into {source_id}; undo those merges first")
        entry = await AuditEntry.select(AuditEntry.changes).where(
            (AuditEntry.action == "merge") & (AuditEntry.entity_type == "customer") & (AuditEntry.entity_id == source_id)
        ).order_by(AuditEntry.id, ascending=False).first()
        merged = entry["changes"] if entry else {}
        if isinstance(merged, str):
            import json

            merged = json.loads(merged or "{}")
        if merged.get("into") != target_id or "identities" not in merged:
            raise InvalidRequest(f"the merge of customer {source_id} was not recorded in a way that can be undone")
        identity_ids = [int(i) for i in merged["identities"]]
        moved_identities = await Identity.update({Identity.customer: source_id}).where(
            Identity.id.is_in(identity_ids or [0]) & (Identity.customer == target_id)).returning(Identity.id)
        handles = await Identity.select(Identity.channel_type, Identity.handle).where(Identity.customer == source_id)
        tickets = set(int(t) for t in merged.get("tickets", []))
        tickets |= await _opened_through(target_id, {(h["channel_type"], h["handle"]) for h in handles})
        ticket_ids = sorted(tickets)
        if ticket_ids:
            await Ticket.update({Ticket.customer: source_id}).where(
                Ticket.id.is_in(ticket_ids) & (Ticket.customer == target_id))
        message_ids = [int(m) for m in merged.get("messages", [])]
        message_filter = Message.customer == target_id
        if ticket_ids:
            back = Message.ticket.is_in(ticket_ids)
            back = back | Message.id.is_in(message_ids) if message_ids else back
            await Message.update({Message.customer: source_id}).where(message_filter & back)
        elif message_ids:
            await Message.update({Message.customer: source_id}).where(message_filter & Message.id.is_in(message_ids))
        before = merged.get("target_before") or {}
        if before:
            await Customer.update({Customer.name: before.get("name"), Customer.email: before.get("email"),
                                   Customer.phone: before.get("phone"), Customer.tags: _list(before.get("tags")),
                                   Customer.notes: before.get("notes"), Customer.updated_at: clock.now()}).where(
                Customer.id == target_id)
        await Customer.update({Customer.merged_into: None, Customer.updated_at: clock.now()}).where(
            Customer.id == source_id)
        changes = {"from": target_id, "tickets": ticket_ids, "identities": [r["id"] for r in moved_identities]}
        await audit.record(actor, "split", "customer", source_id, changes)
    await search.index_tickets(ticket_ids)
    return changes


async def _opened_through(customer_id: int, handles: set[tuple[str, str]]) -> set[int]:
    """Tickets of `customer_id` whose first inbound message came through one of `handles`: opened
    by a source identity after the merge. The message's sender is in its metadata when the channel
    gave one; otherwise the ticket stays with the customer it is on."""
    if not handles:
        return set()
    found = set()
    rows = await db.fetch(
        "SELECT t.id AS ticket, t.channel_type, m.metadata FROM tickets t JOIN messages m ON m.id = ("
        "SELECT MIN(id) FROM messages WHERE ticket = t.id AND direction = 'inbound') WHERE t.customer = {}", customer_id)
    for row in rows:
        meta = row["metadata"]
        if isinstance(meta, str):
            import json

            try:
                meta = json.loads(meta or "{}")
            except ValueError:
                meta = {}
        sender = (meta or {}).get("sender_handle")
        if sender and (row["channel_type"], sender) in handles:
            found.add(row["ticket"])
    return found


def _list(value: Any) -> list[str]:
    if isinstance(value, str):
        import json

        try:
            value = json.loads(value or "[]")
        except ValueError:
            return []
    return [str(v) for v in (value or [])]


async def duplicates(customer: dict[str, Any], limit: int = 5, *, viewer: Any = None) -> list[dict[str, Any]]:
    """Other customers that share an email, a phone number, the exact name or an order number:
    merge candidates. Runs on every ticket view, so the order lookup is kept small. `viewer` (a
    core.visibility.Viewer): order numbers come only from tickets that agent may see, so a
    suggestion never shows what a hidden ticket said."""
    clauses = []
    if customer.get("email"):
        clauses.append(Customer.email == customer["email"])
    if customer.get("phone"):
        clauses.append(Customer.phone == customer["phone"])
    if customer.get("name"):
        clauses.append(Customer.name == customer["name"])
    found = []
    if clauses:
        condition = clauses[0]
        for clause in clauses[1:]:
            condition = condition | clause
        found = await Customer.select(Customer.id, Customer.name, Customer.email, Customer.phone).where(
            condition & (Customer.id != customer["id"]) & Customer.merged_into.is_null()).limit(limit)
    seen = {c["id"] for c in found}
    for other in await _same_orders(customer["id"], limit, viewer):
        if other["id"] not in seen and len(found) < limit:
            found.append(other)
            seen.add(other["id"])
    return found


async def _same_orders(customer_id: int, limit: int, viewer: Any = None) -> list[dict[str, Any]]:
    """Customers who wrote about an order number this customer wrote about (the same buyer on
    Amazon and by e-mail, say): order numbers from the newest inbound messages' metadata, matched
    through the search index."""
    from core.search import _order_ids

    # the customer's newest tickets, then their newest inbound messages, by the (ticket, id) index
    visible, args = viewer.sql() if viewer is not None else ("1 = 1", [])
    rows = await db.fetch(
        "SELECT m.metadata FROM messages m WHERE m.ticket IN (SELECT id FROM tickets WHERE customer = {} "
        f"AND {visible} ORDER BY id DESC LIMIT 5) AND m.direction = 'inbound' ORDER BY m.id DESC LIMIT 10",
        customer_id, *args)
    orders: list[str] = []
    for row in rows:
        for order in _order_ids(row["metadata"]):
            if order not in orders:
                orders.append(order)
    out: list[dict[str, Any]] = []
    for order in orders[:2]:
        tickets = await search.tickets_with_all(order, limit=20)
        if not tickets:
            continue
        where = Ticket.id.is_in(tickets) & (Ticket.customer != customer_id)
        for clause in (viewer.where() if viewer is not None else []):
            where = where & clause
        customers = {r["customer"] for r in await Ticket.select(Ticket.customer).where(where)}
        if not customers:
            continue
        for other in await Customer.select(Customer.id, Customer.name, Customer.email, Customer.phone).where(
                Customer.id.is_in(sorted(customers)) & Customer.merged_into.is_null()):
            if all(o["id"] != other["id"] for o in out):
                out.append({**other, "order": order})
        if len(out) >= limit:
            break
    return out[:limit]
