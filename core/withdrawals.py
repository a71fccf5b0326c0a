"""A customer takes back a message they sent (Instagram's unsend): the stored copy loses its text,
HTML and channel data and is marked withdrawn, so the agent sees that it was withdrawn, not what it said.

The row stays (the ticket's order and any reply that quoted it still make sense); the attachments
the message carried are not deleted here (channels that send unsends link their media rather than
store it).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from core import clock, db
from core.events import Event, publish
from core.sql import as_json
from core.tables import Message, Ticket
from core.types import Account, Withdrawal

if TYPE_CHECKING:
    from core.desk import Desk

log = logging.getLogger("relaydesk.inbound")

# Channel data that says nothing of what the customer wrote, kept so the timeline still reads.
KEPT_METADATA = ("references", "whatsapp_type")
# Stored data, like every subject, is written in English; the page shows it as stored.
WITHDRAWN_SUBJECT = "(withdrawn message)"


async def withdraw(desk: "Desk", account: Account, withdrawals: list[Withdrawal]) -> int:
    """Mark each named inbound message of this account withdrawn; returns how many changed.

    Idempotent: a message already withdrawn, or one never stored, is left alone (an unsend may
    arrive before the message itself if Meta reorders; it is then simply not shown)."""
    events: list[Event] = []
    async with db.transaction():
        for item in withdrawals:
            if not item.external_id:
                continue
            row = await Message.select(Message.id, Message.ticket, Message.metadata, Message.subject, Message.text).where(
                (Message.account == account.id) & (Message.external_id == item.external_id[:255])
                & (Message.direction == "inbound")).first()
            if row is None:
                log.info("withdrawal of unknown message %s on %s", item.external_id, account.name)
                continue
            meta = _loads(row["metadata"])
            if meta.get("withdrawn_at"):
                continue
            kept = {k: meta[k] for k in KEPT_METADATA if k in meta}
            at = (item.at or clock.now()).isoformat()
            # A ticket named after the withdrawn text (a chat message has no subject) is renamed.
            derived = (row["subject"] or (row["text"] or "").strip().split("\n", 1)[0])[:200]
            await Ticket.update({Ticket.subject: WITHDRAWN_SUBJECT}).where(
                (Ticket.id == row["ticket"]) & (Ticket.subject == derived))
            await Message.update({Message.text: "", Message.html: None,
                                  Message.metadata: as_json({**kept, "withdrawn_at": at})}).where(Message.id == row["id"])
            events.append(Event(name="message_withdrawn", ticket_id=row["ticket"], message_id=row["id"],
                                actor=f"{account.plugin}:{account.name}", data={"withdrawn_at": at}))
    await publish(desk, events)
    return len(events)


def _loads(value: Any) -> dict[str, Any]:
    import json

    if isinstance(value, str):
        try:
            value = json.loads(value or "{}")
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}
