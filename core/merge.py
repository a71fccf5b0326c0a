"""Merging duplicate customers: the source's identities, tickets and messages move to the target,
tags and notes are combined, and the source remembers where it went (merged_into), so ingest that
still finds the old customer follows the link. Audited; one transaction."""

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
        changes = {"into": target_id, "tickets": tickets, "identities": [r["id"] for r in identities]}
        await audit.record(actor, "merge", "customer", source_id, changes)
    # the target's tickets now answer to the source's names, emails and phones too
    everything = [r["id"] for r in await Ticket.select(Ticket.id).where(Ticket.customer == target_id)]
    await search.index_tickets(everything)
    return changes


def _list(value: Any) -> list[str]:
    if isinstance(value, str):
        import json

        try:
            value = json.loads(value or "[]")
        except ValueError:
            return []
    return [str(v) for v in (value or [])]


async def duplicates(customer: dict[str, Any], limit: int = 5) -> list[dict[str, Any]]:
    """Other customers that share an email, a phone number or the exact name: merge candidates."""
    clauses = []
    if customer.get("email"):
        clauses.append(Customer.email == customer["email"])
    if customer.get("phone"):
        clauses.append(Customer.phone == customer["phone"])
    if customer.get("name"):
        clauses.append(Customer.name == customer["name"])
    if not clauses:
        return []
    condition = clauses[0]
    for clause in clauses[1:]:
        condition = condition | clause
    return await Customer.select(Customer.id, Customer.name, Customer.email, Customer.phone).where(
        condition & (Customer.id != customer["id"]) & Customer.merged_into.is_null()).limit(limit)
