"""Ingest: normalized inbound messages -> customer -> ticket -> hooks -> events.

Each batch is stored in one transaction; a webhook is acknowledged only after it commits. Ingest is
idempotent on (account, external id): a replayed or duplicated delivery changes nothing.
"""

from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from core import attachments, clock, db, sla, spam
from core.customers import resolve
from core.sql import Conn, as_json
from core.events import Event, publish
from core.group_commit import GroupCommit
from core.metrics import INGEST_DELIVERIES, INGEST_TRANSACTIONS
from core.routing import decide, pool_columns, prepare as prepare_routing
from core.sanitize import sanitize_html
from core.tables import PRIORITIES, Message, TicketTag
from core.types import Account, InboundMessage, StatusUpdate

if TYPE_CHECKING:
    from core.desk import Desk

log = logging.getLogger("relaydesk.inbound")

DELIVERY_RANK = {"queued": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}


@dataclass(slots=True)
class IngestResult:
    message_id: int
    ticket_id: int
    duplicate: bool = False
    created_ticket: bool = False
    skipped: bool = False


async def ingest(desk: "Desk", account: Account, messages: list[InboundMessage],
                 statuses: list[StatusUpdate] | None = None) -> list[IngestResult]:
    """Store messages and status updates atomically, then publish events; return once committed.

    Concurrent calls share transactions (core.group_commit): under a burst of webhooks, whatever
    has queued while the database was busy is stored in one transaction."""
    for message in messages:
        _drop_nul(message)
        _adapt(desk, account, message)  # once, before any attempt: a retried batch must not re-claim
    return await _committer(desk).submit(_Delivery(account, messages, statuses or []))


@dataclass(slots=True)
class _Delivery:
    account: Account
    messages: list[InboundMessage]
    statuses: list[StatusUpdate]


# Lanes: batches stored at once per process. Each holds a pooled connection; the rest of the pool
# stays free for the inbox and the jobs.
LANES = 4
MAX_BATCH = 32
_committers: "weakref.WeakKeyDictionary[Desk, GroupCommit[_Delivery, list[IngestResult]]]" = weakref.WeakKeyDictionary()


def _committer(desk: "Desk") -> GroupCommit[_Delivery, list[IngestResult]]:
    committer = _committers.get(desk)
    if committer is None:
        async def run(deliveries: list[_Delivery]) -> list[list[IngestResult]]:
            results = await _store_deliveries(desk, deliveries)
            INGEST_TRANSACTIONS.inc()
            INGEST_DELIVERIES.inc(len(deliveries))
            return results

        committer = _committers[desk] = GroupCommit(run, lanes=LANES, max_batch=MAX_BATCH)
    return committer


def commit_stats() -> tuple[int, int]:
    """(transactions committed, deliveries they stored) by ingest in this process."""
    committers = list(_committers.values())
    return sum(c.batches for c in committers), sum(c.items for c in committers)


def _lock_order(delivery: _Delivery) -> tuple[int, str, str]:
    first = delivery.messages[0] if delivery.messages else None
    return (delivery.account.id or 0, first.sender_handle if first else "", (first.thread_key or "") if first else "")


async def _store_deliveries(desk: "Desk", deliveries: list[_Delivery]) -> list[list[IngestResult]]:
    """Store several deliveries in one transaction, then publish their events.

    They are stored in the order of their sender and thread, not of arrival (the callers were
    concurrent, so they had no order), and a stable sort keeps one sender's deliveries in arrival
    order. Two batches then take their row locks (a ticket's row, a new identity's key) in the same
    order, which keeps them from waiting on each other in a cycle (a deadlock costs PostgreSQL a
    second to detect)."""
    order = sorted(range(len(deliveries)), key=lambda i: _lock_order(deliveries[i]))
    for attempt in range(3):
        per_delivery: list[list[IngestResult]] = [[] for _ in deliveries]
        events: list[Event] = []
        try:
            async with db.transaction() as transaction:
                conn = Conn(transaction)
                for index in order:
                    delivery = deliveries[index]
                    results: list[IngestResult] = []
                    for message in delivery.messages:
                        result, event = await _store_one(desk, conn, delivery.account, message)
                        results.append(result)
                        if event:
                            events.append(event)
                    for status in delivery.statuses:
                        if status.up_to is not None and status.recipient:
                            events += await apply_watermark(delivery.account, status)
                            continue
                        event = await apply_status(delivery.account, status)
                        if event:
                            events.append(event)
                    per_delivery[index] = results
            break
        except Exception as exc:
            # Two deliveries racing on PostgreSQL (the same message, or a new customer's first two
            # messages): the loser's insert hits a unique index, or two batches wait on each other's
            # rows. Run the batch again; this time it sees the winner's rows.
            if attempt < 2 and _is_conflict(exc):
                continue
            raise
    await publish(desk, events)
    return per_delivery


def _is_conflict(exc: Exception) -> bool:
    text = f"{type(exc).__name__} {exc}".lower()
    return "unique" in text or "duplicate key" in text or "deadlock" in text


_TICKET_COLUMNS = ("id, status, priority, customer, assignee, team, first_responded_at, language, subject, "
                   "channel_type, next_response_due_at, resolution_due_at")
_TICKET_KEYS = tuple(c.strip() for c in _TICKET_COLUMNS.split(","))

# One statement answers the three questions every message asks first: was it stored already (the
# dedupe key), is its sender known (identity -> customer), and which ticket carries its platform
# thread. Folding them into one round trip matters: ingest time is mostly waiting on the database.
PROBE_SQL = (
    "SELECT m.id AS probe_message, m.ticket AS probe_message_ticket, i.customer AS probe_customer, "
    "c.merged_into AS probe_merged_into, " + ", ".join(f"t.{k}" for k in _TICKET_KEYS) + " "
    "FROM (SELECT 1 AS one) probe "
    "LEFT JOIN messages m ON m.account = $1 AND m.external_id = $2 "
    "LEFT JOIN customer_identities i ON i.channel_type = $3 AND i.handle = $4 "
    "LEFT JOIN customers c ON c.id = i.customer "
    "LEFT JOIN tickets t ON t.id = (SELECT MAX(id) FROM tickets WHERE account = $5 AND thread_key = $6)"
)


async def _store_one(desk: "Desk", conn: Conn, account: Account, message: InboundMessage) -> tuple[IngestResult, Event | None]:
    probe = await conn.fetchrow(PROBE_SQL, account.id, message.external_id, account.channel_type,
                                message.sender_handle, account.id, message.thread_key)
    assert probe is not None  # the probe always returns its one row
    if probe["probe_message"] is not None:
        return IngestResult(probe["probe_message"], probe["probe_message_ticket"], duplicate=True), None

    now = clock.now()
    customer_id, new_customer = await resolve(conn, account.channel_type, message, now,
                                              probe["probe_customer"], probe["probe_merged_into"])
    thread_ticket = {k: probe[k] for k in _TICKET_KEYS} if probe["id"] is not None else None
    blocked = not message.is_echo and await spam.is_blocked(account.channel_type, message)
    ticket, opened = await _thread(desk, conn, account, message, customer_id, now, thread_ticket, new_customer,
                                   blocked)
    created = opened is not None
    if ticket is None:
        log.info("skipped %s on %s: it would open a ticket and may not", message.external_id, account.name)
        return IngestResult(0, 0, skipped=True), None

    if opened is not None:
        write, tags = opened
    elif message.is_echo:
        write, tags = _TicketWrite("UPDATE tickets SET last_message_at = $1, updated_at = $2 WHERE id = $3",
                                   (now, now, ticket["id"]), inserts=False), set()
    else:
        write, tags = await _reply_update(desk, conn, ticket, message, now)
    message_id, ticket["id"] = await _insert_message(conn, write, ticket["id"], (
        account.id, "outbound" if message.is_echo else "inbound", None if message.is_echo else customer_id,
        message.subject, message.text, sanitize_html(message.html), message.external_id,
        "sent" if message.is_echo else None, as_json(_message_metadata(message, opens=created)), message.sent_at or now,
        message.sent_at if message.is_echo else None))
    for item in message.attachments:
        await _store_attachment(desk, conn, message_id, item, now)
    if not created and not message.is_echo and message.respond_by is not None:
        await _platform_deadline(conn, ticket["id"], message.respond_by)
    for tag in sorted(tags):
        await _add_tag(conn, ticket["id"], tag)
    if message.is_echo or ticket["status"] == "spam":
        # spam is stored and stays out of everyone's way: no notifications, rules or auto-replies
        return IngestResult(message_id, ticket["id"], created_ticket=created), None
    name = "created" if created else "customer_replied"
    return (IngestResult(message_id, ticket["id"], created_ticket=created),
            Event(name=name, ticket_id=ticket["id"], message_id=message_id, actor=f"customer:{customer_id}"))


@dataclass(slots=True)
class _TicketWrite:
    """The ticket's own write for one message (its INSERT, or the UPDATE a reply makes). On
    PostgreSQL it rides in the message's INSERT as a data-modifying WITH: one round trip, not two.
    On SQLite, which has no such WITH, it runs just before the message's INSERT."""

    sql: str  # placeholders $1..$n; an INSERT ends with RETURNING id
    args: tuple[Any, ...]
    inserts: bool


_MESSAGE_INSERT = (
    "INSERT INTO messages (ticket, account, direction, customer, author, subject, text, html, external_id, "
    "delivery_status, delivery_error, metadata, created_at, sent_at) VALUES ({ticket}, {v[0]}, {v[1]}, {v[2]}, NULL, "
    "{v[3]}, {v[4]}, {v[5]}, {v[6]}, {v[7]}, NULL, {v[8]}::json, {v[9]}, {v[10]}) RETURNING id, ticket"
)


def _message_insert(ticket: str, first: int) -> str:
    return _MESSAGE_INSERT.format(ticket=ticket, v=[f"${i}" for i in range(first, first + 11)])


async def _insert_message(conn: Conn, write: _TicketWrite, ticket_id: int | None,
                          values: tuple[Any, ...]) -> tuple[int, int]:
    """Run the ticket's write and insert the message; returns (message id, ticket id)."""
    n = len(write.args)
    if conn.postgres and write.inserts:
        row = await conn.fetchrow(f"WITH t AS ({write.sql}) " + _message_insert("(SELECT id FROM t)", n + 1),
                                  *write.args, *values)
    elif conn.postgres:
        row = await conn.fetchrow(f"WITH u AS ({write.sql}) " + _message_insert(f"${n + 1}", n + 2),
                                  *write.args, ticket_id, *values)
    else:
        if write.inserts:
            ticket_id = await conn.fetchval(write.sql, *write.args)
        else:
            await conn.execute(write.sql, *write.args)
        row = await conn.fetchrow(_message_insert("$1", 2), ticket_id, *values)
    assert row is not None
    return row["id"], row["ticket"]


async def _thread(desk: "Desk", conn: Conn, account: Account, message: InboundMessage, customer_id: int,
                  now: Any, thread_ticket: dict[str, Any] | None, new_customer: bool,
                  blocked: bool = False) -> tuple[dict[str, Any] | None, tuple[_TicketWrite, set[str]] | None]:
    """Find the ticket this message belongs to: references, then a ticket number it quotes (same
    customer only), then the platform's thread id (`thread_ticket`, looked up by the probe), then
    the customer's one recent ticket on the message's topic (see InboundMessage.topic), then
    the customer's open ticket on this account; otherwise a new ticket. A closed ticket is reopened
    when the message says so (reopen_closed), else a new message opens a follow-up linked to it.
    A blocked sender's message joins the ticket only when that is in Spam already; otherwise it
    opens a spam ticket (linked), so a block never hides an earlier real conversation.
    Returns the ticket and, for a new one, its INSERT and tags (see _open_ticket)."""
    ticket = None
    refs = list(dict.fromkeys(message.references[-50:]))
    if refs:
        marks = ", ".join(f"${i}" for i in range(2, len(refs) + 2))
        row = await conn.fetchrow(
            f"SELECT ticket FROM messages WHERE account = $1 AND external_id IN ({marks}) ORDER BY id DESC LIMIT 1",
            account.id, *refs)
        if row:
            ticket = await conn.fetchrow(f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE id = $1", row["ticket"])
    if ticket is None and getattr(message, "ticket_ref", None):
        # A ticket number the sender quoted: honoured only for that customer's own ticket, so a
        # typed or guessed number never files one customer's mail into another's conversation.
        ticket = await conn.fetchrow(
            f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE id = $1 AND customer = $2 AND account = $3",
            message.ticket_ref, customer_id, account.id)
    if ticket is None and message.thread_key:
        ticket = thread_ticket
    if ticket is None and message.topic and message.topic_window_days > 0 and not new_customer:
        ticket = await _ticket_by_topic(conn, account, message, customer_id, now)
    if ticket is None and not message.thread_key and not new_customer:  # a new customer has no tickets
        ticket = await conn.fetchrow(
            f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE customer = $1 AND account = $2 "
            f"AND status IN ('new', 'open', 'pending', 'on-hold') ORDER BY id DESC LIMIT 1",
            customer_id, account.id)
    if blocked and (ticket is None or ticket["status"] != "spam") and not new_customer:
        # a blocked sender keeps writing into their one spam conversation, not a new one each time
        ticket = await conn.fetchrow(
            f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE customer = $1 AND account = $2 AND status = 'spam' "
            f"ORDER BY id DESC LIMIT 1", customer_id, account.id) or ticket
    if ticket is not None and (ticket["status"] != "closed" or message.reopen_closed) and (
            not blocked or ticket["status"] == "spam"):
        return ticket, None
    if not message.may_open_ticket:
        return None, None
    new, write, tags = await _open_ticket(desk, conn, account, message, customer_id, now,
                                          linked=ticket["id"] if ticket else None, new_customer=new_customer,
                                          spam=blocked)
    return new, (write, tags)


async def _ticket_by_topic(conn: Conn, account: Account, message: InboundMessage, customer_id: int,
                           now: Any) -> dict[str, Any] | None:
    """The one ticket of this customer on this account, updated within the message's topic
    window, that has an inbound message of the same topic (InboundMessage.topic); None when no
    ticket or more than one matches: then the topic says too little to choose."""
    topic_of = "m.metadata->>'topic'" if conn.postgres else "json_extract(m.metadata, '$.topic')"
    row = await conn.fetchrow(
        f"SELECT MIN(m.ticket) AS ticket, COUNT(DISTINCT m.ticket) AS tickets FROM messages m "
        f"JOIN tickets t ON t.id = m.ticket WHERE t.customer = $1 AND t.account = $2 AND t.updated_at >= $3 "
        f"AND m.direction = 'inbound' AND {topic_of} = $4",
        customer_id, account.id, now - timedelta(days=message.topic_window_days), message.topic)
    if row is None or row["tickets"] != 1:
        return None
    return await conn.fetchrow(f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE id = $1", row["ticket"])


async def _open_ticket(desk: "Desk", conn: Conn, account: Account, message: InboundMessage, customer_id: int,
                       now: Any, linked: int | None, new_customer: bool = False,
                       spam: bool = False) -> tuple[dict[str, Any], _TicketWrite, set[str]]:
    """Classify, prioritize, set SLA due times and route. Returns the ticket (its id still None),
    its INSERT and its tags: _store_one stores the ticket together with its first message."""
    subject = (message.subject or message.text.strip().split("\n", 1)[0])[:200]
    ticket: dict[str, Any] = {"id": None, "status": "new", "priority": "normal", "customer": customer_id,
                              "assignee": None, "team": None, "first_responded_at": None, "language": message.language,
                              "subject": subject, "channel_type": account.channel_type, "intent": None,
                              "sentiment": None, "account": account.id, "created_at": now}
    if new_customer:  # created in this transaction: no tags and no earlier helper to read back
        ticket.update(customer_tags=[], last_helper=None)
    tags = _classify(desk, message, ticket) | set(message.tags)
    ticket["tags"] = sorted(tags)  # sla_targets may match on them (a claimed conversation's kind)
    if spam:  # a blocked sender: nobody is assigned and no clock runs
        return _spam_ticket(ticket, account, message, customer_id, now, linked, subject)
    # Route first, so SLA policies can match on the team; both hooks read snapshots loaded here.
    decision = decide(desk.registry, await prepare_routing(conn, ticket, message.text), desk)
    ticket["team"] = decision.team_id
    ticket["respond_by"] = message.respond_by  # a platform's own deadline, visible to sla_targets
    targets = sla.targets_for(desk.registry, await sla.prepare(conn, ticket))
    first = sla.due(now, targets.first_response_minutes, targets.calendar)
    resolution = sla.due(now, targets.resolution_minutes, targets.calendar)
    if message.respond_by is not None:  # the platform's deadline overrides the desk's targets
        first = message.respond_by
        if resolution is not None and resolution < first:
            resolution = first  # no desk target falls due before the platform's own clock
    write = _TicketWrite(
        _TICKET_INSERT.format(status="new"),
        (subject, ticket["priority"], customer_id, account.id, account.channel_type, message.thread_key,
         decision.agent_id, decision.team_id, ticket["language"], ticket["intent"], ticket["sentiment"],
         decision.reason, linked, now, now, now, now, first, resolution, sla.earliest(first, resolution),
         *pool_columns(decision, now), targets.warning_minutes), inserts=True)
    ticket.update(assignee=decision.agent_id, team=decision.team_id)
    return ticket, write, tags


def _spam_ticket(ticket: dict[str, Any], account: Account, message: InboundMessage, customer_id: int, now: Any,
                 linked: int | None, subject: str) -> tuple[dict[str, Any], _TicketWrite, set[str]]:
    reason = "spam: the sender is blocked"
    write = _TicketWrite(
        _TICKET_INSERT.format(status="spam"),
        (subject, "low", customer_id, account.id, account.channel_type, message.thread_key, None, None,
         message.language, None, None, reason, linked, now, now, now, now, None, None, None, None, None, None),
        inserts=True)
    ticket.update(status="spam", priority="low")
    return ticket, write, set()


_TICKET_INSERT = (
        "INSERT INTO tickets (subject, status, priority, customer, account, channel_type, thread_key, assignee, team, "
        "language, intent, sentiment, route_reason, linked_ticket, created_at, updated_at, last_message_at, "
        "last_customer_message_at, first_response_due_at, next_response_due_at, resolution_due_at, sla_due_at, "
        "sla_warned_at, first_response_breached, next_response_breached, resolution_breached, first_responded_at, "
        "solved_at, closed_at, pooled_at, pool_alert_due_at, sla_warning_minutes) VALUES ($1, '{status}', $2, $3, $4, $5, "
        "$6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, NULL, $19, $20, NULL, FALSE, FALSE, FALSE, NULL, "
        "NULL, NULL, $21, $22, $23) RETURNING id")


_STRING_FIELDS = ("external_id", "sender_handle", "text", "html", "subject", "sender_name", "sender_email",
                  "sender_phone", "thread_key", "language", "topic")


def _drop_nul(message: InboundMessage) -> None:
    """PostgreSQL text cannot hold NUL characters (SQLite can): a message that carries one (a
    broken mail, a JSON "\\u0000") would fail to store. NUL is never meaningful text, so it goes."""
    for name in _STRING_FIELDS:
        value = getattr(message, name)
        if value and "\x00" in value:
            setattr(message, name, value.replace("\x00", ""))
    message.references = [r.replace("\x00", "") for r in message.references]
    message.order_ids = [o.replace("\x00", "") for o in message.order_ids]
    message.tags = [t.replace("\x00", "") for t in message.tags]
    for item in message.attachments:
        item.filename = item.filename.replace("\x00", "")


def _adapt(desk: "Desk", account: Account, message: InboundMessage) -> None:
    """Let a plugin claim the message (adapt_inbound) and apply its claim in place."""
    claim = desk.registry.hook.adapt_inbound(message=message, account=account)
    if claim is None:
        return
    if claim.text is not None:
        message.text = claim.text
        message.html = claim.html
    if claim.subject is not None:
        message.subject = claim.subject[:500]
    if claim.sender_name is not None:
        message.sender_name = claim.sender_name[:200]
    if claim.thread_key is not None:
        message.thread_key = claim.thread_key[:255]
    message.order_ids = list(dict.fromkeys([*message.order_ids, *claim.order_ids]))
    message.tags = list(dict.fromkeys([*message.tags, claim.kind, *claim.tags]))
    message.metadata["conversation"] = {**claim.fields, "kind": claim.kind}


def _classify(desk: "Desk", message: InboundMessage, ticket: dict[str, Any]) -> set[str]:
    """Run the classify hooks; their answers update `ticket` in place. Returns the tags.

    Priority only moves up, except on a new ticket: there, when every classifier that names a
    priority names a lower one than "normal" (e.g. "low"), the most urgent of those applies, so a
    routing strategy can send it to a claim pool."""
    tags: set[str] = set()
    lower: list[str] = []
    for result in desk.registry.hook.classify(message=message, ticket=ticket):
        if not result:
            continue
        if result.get("language"):
            ticket["language"] = result["language"]
        if result.get("intent"):
            ticket["intent"] = result["intent"]
        if result.get("sentiment") is not None:
            ticket["sentiment"] = str(result["sentiment"])
        if result.get("priority") in PRIORITIES and _more_urgent(result["priority"], ticket["priority"]):
            ticket["priority"] = result["priority"]
        elif result.get("priority") in PRIORITIES and result["priority"] != ticket["priority"]:
            lower.append(result["priority"])
        tags.update(result.get("tags") or [])
    if lower and ticket.get("id") is None and ticket["priority"] == "normal":
        ticket["priority"] = min(lower, key=PRIORITIES.index)
    return tags


async def _reply_update(desk: "Desk", conn: Conn, ticket: dict[str, Any], message: InboundMessage,
                        now: Any) -> tuple[_TicketWrite, set[str]]:
    """The customer wrote again: classify, reopen, restart the next-response clock. Returns the
    ticket's UPDATE (run with the message's INSERT) and the tags to add. A spam ticket only records
    that the message came: it stays in Spam with no clock."""
    if ticket["status"] == "spam":
        return _TicketWrite("UPDATE tickets SET last_message_at = $1, last_customer_message_at = $2, updated_at = $3 "
                            "WHERE id = $4", (now, now, now, ticket["id"]), inserts=False), set()
    before = dict(ticket)
    tags = _classify(desk, message, ticket) | set(message.tags)
    status = "open" if ticket["status"] in ("pending", "on-hold", "solved", "closed") else ticket["status"]
    if before["status"] == "pending":  # the customer answered: the paused SLA clock runs again
        ticket.update(await sla.resume(desk.registry, ticket["id"], now))
    next_due = ticket["next_response_due_at"]
    sla_due = None
    if ticket["first_responded_at"] is not None:
        # We had answered: the next-response clock starts (unless it is already running).
        targets = sla.targets_for(desk.registry, await sla.prepare(conn, ticket))
        next_due = next_due or sla.due(now, targets.next_response_minutes, targets.calendar)
        sla_due = sla.earliest(next_due, ticket["resolution_due_at"])
    return _TicketWrite(
        "UPDATE tickets SET last_message_at = $1, last_customer_message_at = $2, updated_at = $3, status = $4, "
        "priority = $5, language = $6, intent = $7, sentiment = $8, next_response_due_at = $9, "
        "sla_due_at = COALESCE($10, sla_due_at) WHERE id = $11",
        (now, now, now, status, ticket["priority"], ticket["language"] or message.language or before["language"],
         ticket.get("intent"), ticket.get("sentiment"), next_due, sla_due, ticket["id"]), inserts=False), tags


async def _platform_deadline(conn: Conn, ticket_id: int, respond_by: Any) -> None:
    """The platform set a (new) deadline for our answer: it replaces the running response clock,
    first response until we have answered once, next response after that, as a fresh target."""
    row = await conn.fetchrow(
        "SELECT first_responded_at, first_response_due_at, next_response_due_at, resolution_due_at, "
        "first_response_breached, next_response_breached, resolution_breached FROM tickets WHERE id = $1", ticket_id)
    if row is None:
        return
    kind = "first_response" if row["first_responded_at"] is None else "next_response"
    dues = {k: row[f"{k}_due_at"] for k in sla.KINDS}
    breached = {k for k in sla.KINDS if row[f"{k}_breached"]} - {kind}
    dues[kind] = respond_by
    if dues["resolution"] is not None and dues["resolution"] < respond_by and "resolution" not in breached:
        dues["resolution"] = respond_by  # no desk target falls due before the platform's own clock
    running = sla.earliest(*(dues[k] for k in sla.KINDS if k not in breached))
    await conn.execute(
        f"UPDATE tickets SET {kind}_due_at = $1, {kind}_breached = FALSE, resolution_due_at = $2, sla_due_at = $3, "
        f"sla_warned_at = NULL WHERE id = $4", respond_by, dues["resolution"], running, ticket_id)


async def _add_tag(conn: Conn, ticket_id: int, tag: str) -> None:
    tag = tag.strip().lower()[:64]
    if tag and not await conn.fetchrow("SELECT id FROM ticket_tags WHERE ticket = $1 AND tag = $2", ticket_id, tag):
        await conn.execute("INSERT INTO ticket_tags (ticket, tag) VALUES ($1, $2)", ticket_id, tag)


async def add_tag(ticket_id: int, tag: str) -> bool:
    tag = tag.strip().lower()[:64]
    exists = await TicketTag.exists().where((TicketTag.ticket == ticket_id) & (TicketTag.tag == tag))
    if not exists and tag:
        await TicketTag.insert(TicketTag(ticket=ticket_id, tag=tag))
        return True
    return False


def _more_urgent(candidate: str, current: str) -> bool:
    return PRIORITIES.index(candidate) < PRIORITIES.index(current or "normal")


async def _store_attachment(desk: "Desk", conn: Conn, message_id: int, item: Any, now: Any) -> None:
    digest, path = attachments.store(desk.data_dir, item)
    await conn.execute(
        "INSERT INTO attachments (message, filename, content_type, size, sha256, storage_path, content_id, inline, "
        "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        message_id, attachments.safe_filename(item.filename), item.content_type[:127], len(item.data), digest, path,
        item.content_id, item.inline, now,
    )


def _message_metadata(message: InboundMessage, opens: bool = False) -> dict[str, Any]:
    meta = dict(message.metadata)
    if opens and message.sender_handle:
        # which identity opened the ticket: undoing a customer merge (core.merge.split) follows it
        meta["sender_handle"] = message.sender_handle
    if message.references:
        meta["references"] = message.references[-20:]
    if message.order_ids:
        meta["order_ids"] = message.order_ids
    if message.is_auto_reply:
        meta["auto_reply"] = True
    if message.topic:
        meta["topic"] = message.topic
    return meta


async def apply_status(account: Account, update: StatusUpdate) -> Event | None:
    """Record what the platform says happened to our message. Statuses only move forward, so
    out-of-order receipts (read before delivered) leave the later state in place."""
    row = await Message.select(Message.id, Message.ticket, Message.delivery_status).where(
        (Message.account == account.id) & (Message.external_id == update.external_id)
        & (Message.direction == "outbound")
    ).first()
    if row is None:
        log.info("status %s for unknown message %s on %s", update.status, update.external_id, account.name)
        return None
    current = DELIVERY_RANK.get(row["delivery_status"] or "queued", 0)
    if DELIVERY_RANK[update.status] <= current:
        return None
    values: dict[Any, Any] = {Message.delivery_status: update.status}
    if update.status == "failed":
        values[Message.delivery_error] = update.error or "the platform reported a failure"
    await Message.update(values).where(Message.id == row["id"])
    name = "delivery_failed" if update.status == "failed" else "delivered"
    return Event(name=name, ticket_id=row["ticket"], message_id=row["id"], data={"status": update.status})


async def apply_watermark(account: Account, update: StatusUpdate) -> list[Event]:
    """A receipt that covers every outbound message to one customer up to a time (Messenger's read
    watermark): each such message not already further along takes the status."""
    from core import db

    below = [s for s, rank in DELIVERY_RANK.items() if rank < DELIVERY_RANK[update.status] and s != "failed"]
    rows = await db.fetch(
        "SELECT m.id, m.ticket FROM messages m JOIN tickets t ON t.id = m.ticket "
        "JOIN customer_identities i ON i.customer = t.customer "
        "WHERE m.account = {} AND m.direction = 'outbound' AND i.channel_type = {} AND i.handle = {} "
        "AND m.external_id IS NOT NULL AND COALESCE(m.sent_at, m.created_at) <= {} "
        "AND m.delivery_status IN (" + ", ".join("{}" for _ in below) + ")",
        account.id, account.channel_type, update.recipient, update.up_to, *below)
    events = []
    for row in rows:
        await Message.update({Message.delivery_status: update.status}).where(Message.id == row["id"])
        events.append(Event(name="delivered", ticket_id=row["ticket"], message_id=row["id"],
                            data={"status": update.status}))
    return events
