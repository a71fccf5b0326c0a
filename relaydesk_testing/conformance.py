"""The channel contract, as one call: `await check_channel(case, make_desk)`.

A channel plugin's author describes the channel with a ChannelCase (a few builders: a valid
webhook payload, a signer, how the fake platform counts sends and how to make its next send fail)
and gets every clause checked on the desk `make_desk` builds, on SQLite and PostgreSQL:

- a forged signature is refused (401/403) and stores nothing;
- an inbound message is stored, a second one from the same sender threads onto the same ticket,
  and the ticket's customer has an identity for the sender's handle on this channel;
- a duplicate delivery of the same payload answers 2xx and stores nothing;
- wrong-shaped payloads (every field of the valid one changed in type, and bodies that are not
  the platform's shape at all) are answered 4xx or 2xx, never 5xx;
- a reply reaches the fake platform exactly once per delivery attempt (with the attempt number,
  when the case says where the platform shows it) and is stored as sent with the platform's id;
- a retryable error leaves the reply queued and the next attempt sends it; a final error marks it
  failed with the reason and nothing is sent again;
- delivery statuses move forward only (a late "delivered" does not undo "read");
- media a webhook announces is stored as pending descriptors, not fetched inside the webhook
  request, and then fetched by a job and stored.

Every failing clause is reported together in one AssertionError. Channels whose messages are
polled (marketplaces, mail) run `check_polled_channel(PolledChannelCase(...), make_desk)` instead:
the same storing, threading, dedupe, wrong-shape and reply clauses through the core's poll path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Awaitable, Callable

from relaydesk_testing.clients import Signer, as_body, client_for
from relaydesk_testing.clock import ShiftedClock
from relaydesk_testing.jobs import drain_jobs, wait_for


@dataclass
class ChannelCase:
    plugin: str
    """The plugin's name, as in /hooks/<plugin>/<account>."""
    configure: Callable[[dict[str, Any]], None]
    """Edits the test config: enables the plugin with an account named `account` whose base URL
    points at the fake platform (and lets the URL guard reach loopback: allow_loopback)."""
    inbound: Callable[[str, str, str], Any]
    """(message id, sender handle, text) -> a valid webhook body (bytes or JSON-able) carrying that
    one message; its timestamp should be now (messaging windows count from it)."""
    sign: Signer
    """body -> the headers that sign it as the platform does."""
    sends: Callable[[], list[Any]]
    """The send requests the fake platform has received so far, oldest first."""
    fail_next_send: Callable[[bool], None]
    """Make the fake's next send fail: retryable=True (a 5xx, a throttle) or False (a refusal the
    platform documents as final, such as an unknown recipient)."""
    account: str = "main"
    forge: Signer | None = None
    """body -> headers a forger would send. Default: the signature of another body, which fits
    platforms that sign the body; a platform that sends a shared secret instead (Telegram's
    secret-token header) gives headers with a wrong secret here."""
    sender: str = "conformance-sender"
    """A sender handle in the platform's format (a phone number, a page-scoped id...)."""
    attempt_of: Callable[[Any], int | None] | None = None
    """Optional: the attempt number a send request carries, when the platform shows it."""
    status: Callable[[str, str, str], Any] | None = None
    """Optional: (the platform's message id, "delivered" | "read", recipient handle) -> a webhook body
    reporting that status."""
    media: Callable[[str, str], Any] | None = None
    """Optional: (message id, sender) -> a webhook body announcing one image the fake serves."""
    wrong_shapes: list[Any] = field(default_factory=list)
    """More bodies of the wrong shape worth trying, beyond the generated ones."""
    max_mutations: int = 60


class _Report:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def check(self, ok: bool, clause: str, detail: str = "") -> bool:
        if not ok:
            self.problems.append(f"{clause}{': ' + detail if detail else ''}")
        return ok


def mutations(payload: Any, limit: int) -> list[Any]:
    """Copies of the payload with one field (leaf or container) at a time replaced by a value of
    another type, spread over the whole payload, at most `limit`."""
    swaps: list[Any] = [None, 0, -1, 1.5, True, "", "x" * 300, [], {}, [1], {"a": 1}]
    paths: list[tuple[tuple[Any, ...], Any]] = []

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        if path:
            paths.append((path, node))
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, (*path, key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, (*path, index))

    walk(payload, ())
    candidates = [(path, value) for path, node in paths for value in swaps if type(value) is not type(node)]
    step = max(1, len(candidates) // max(1, limit))
    out = []
    for path, value in candidates[::step][:limit]:
        copy = json.loads(json.dumps(payload))
        target = copy
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        out.append(copy)
    return out


async def _count(model: Any) -> int:
    return await model.count()


async def _check_replies(desk: Any, case: Any, report: _Report, ticket_id: int) -> tuple[int, dict[str, Any]]:
    """The reply clauses, shared by webhook and polled channels: a reply reaches the platform once per
    attempt; a retryable error leaves it queued and the next attempt sends it; a final error marks
    it failed and nothing is sent again. Returns the sent reply's id and stored state."""
    from core import outbound
    from core.tables import Message, Outbox

    shifted = ShiftedClock().install()
    try:
        async def attempt(message_id: int) -> str:
            outbox = await Outbox.select(Outbox.id).where(Outbox.message == message_id).first()
            return await outbound.deliver(desk, outbox["id"])

        async def reply(text: str) -> int:
            created = await outbound.reply(desk, ticket_id, author_id=None, text=text)
            return created["id"]

        async def state(message_id: int) -> dict[str, Any]:
            return await Message.select(Message.delivery_status, Message.external_id, Message.delivery_error
                                        ).where(Message.id == message_id).first()

        sent_before = len(case.sends())
        ok_id = await reply("Your parcel left today.")
        outcome = await attempt(ok_id)
        sends = case.sends()[sent_before:]
        report.check(outcome == "sent" and len(sends) == 1, "a reply reaches the platform once",
                     f"outcome {outcome}, {len(sends)} send(s)")
        if case.attempt_of and sends:
            report.check(case.attempt_of(sends[0]) == 1, "the first send carries attempt 1",
                         str(case.attempt_of(sends[0])))
        ok_state = await state(ok_id)
        report.check(ok_state["delivery_status"] == "sent" and bool(ok_state["external_id"]),
                     "a sent reply is stored as sent with the platform's id", repr(ok_state))

        sent_before = len(case.sends())
        retry_id = await reply("Trying again is fine.")
        case.fail_next_send(True)
        outcome = await attempt(retry_id)
        report.check(outcome == "retry" and (await state(retry_id))["delivery_status"] == "queued",
                     "a retryable error leaves the reply queued for another attempt", outcome)
        shifted(shifted.offset + timedelta(minutes=11))  # past any backoff or Retry-After the core honours
        outcome = await attempt(retry_id)
        sends = case.sends()[sent_before:]
        report.check(outcome == "sent" and len(sends) == 2, "the next attempt sends it, once per attempt",
                     f"outcome {outcome}, {len(sends)} send(s)")
        if case.attempt_of and len(sends) == 2:
            numbers = [case.attempt_of(s) for s in sends]
            report.check(numbers == [1, 2], "each send carries its attempt number", repr(numbers))

        sent_before = len(case.sends())
        final_id = await reply("This one will be refused.")
        case.fail_next_send(False)
        outcome = await attempt(final_id)
        final_state = await state(final_id)
        report.check(outcome == "failed" and final_state["delivery_status"] == "failed"
                     and bool(final_state["delivery_error"]),
                     "a final error marks the reply failed with the reason", f"{outcome} {final_state!r}")
        shifted(shifted.offset + timedelta(minutes=11))
        report.check(await attempt(final_id) == "skipped" and len(case.sends()) == sent_before + 1,
                     "a reply that failed for good is not sent again")
    finally:
        shifted.uninstall()
    return ok_id, ok_state


async def check_channel(case: ChannelCase, make_desk: Callable[..., Awaitable[Any]]) -> None:
    """Run the channel contract (module docstring) against `case`; raise AssertionError listing
    every clause that failed."""
    from core.tables import Identity, Message, Ticket

    report = _Report()
    hook = f"/hooks/{case.plugin}/{case.account}"
    desk = await make_desk(case.configure, run_jobs=False)

    async def post(payload: Any, headers: dict[str, str] | None = None) -> Any:
        body = as_body(payload)
        sent = {"content-type": "application/json", **(case.sign(body) if headers is None else headers)}
        return await client.post(hook, content=body, headers=sent)

    async with client_for(desk) as client:
        # --- signatures ---------------------------------------------------------------------
        first = case.inbound("conformance-m1", case.sender, "Where is my order?")
        forged = await post(first, headers=(case.forge or (lambda _body: case.sign(b"a different body")))(as_body(first)))
        report.check(forged.status_code in (401, 403), "a forged signature is refused",
                     f"answered {forged.status_code}")
        report.check(await _count(Message) == 0, "a forged request stores nothing")

        # --- store, thread, identity, dedupe ------------------------------------------------
        stored = await post(first)
        if not report.check(200 <= stored.status_code < 300, "a valid webhook is accepted",
                            f"answered {stored.status_code} {stored.text[:300]}"):
            raise AssertionError(_message(case, report))
        rows = await Message.select(Message.id, Message.ticket, Message.customer, Message.text).where(
            Message.direction == "inbound")
        report.check(len(rows) == 1, "one inbound message is stored", f"found {len(rows)}")
        second = await post(case.inbound("conformance-m2", case.sender, "Any news?"))
        report.check(200 <= second.status_code < 300, "a second message is accepted", str(second.status_code))
        rows = await Message.select(Message.id, Message.ticket, Message.customer).where(Message.direction == "inbound")
        report.check(len(rows) == 2 and rows[0]["ticket"] == rows[1]["ticket"],
                     "a second message from the same sender threads onto the same ticket", repr(rows))
        report.check(len(rows) == 2 and rows[0]["customer"] == rows[1]["customer"] is not None,
                     "both messages link the same customer", repr(rows))
        ticket_id = rows[0]["ticket"] if rows else None
        if ticket_id is not None:
            ticket = await Ticket.select(Ticket.customer, Ticket.channel_type).where(Ticket.id == ticket_id).first()
            identities = await Identity.select(Identity.handle).where(
                (Identity.customer == ticket["customer"]) & (Identity.channel_type == ticket["channel_type"]))
            report.check(bool(identities), "the ticket's customer has an identity on this channel",
                         f"none for channel {ticket['channel_type']!r}")
        before = await _count(Message)
        again = await post(first)
        report.check(200 <= again.status_code < 300, "a duplicate delivery is acknowledged", str(again.status_code))
        report.check(await _count(Message) == before, "a duplicate delivery stores nothing")

        # --- wrong shapes -------------------------------------------------------------------
        shapes: list[Any] = [b"", b"not json", b"[]", b"{}", b"null", b'"text"', b"[[[[[[[[]]]]]]]]", b"{\"a\":"]
        if not isinstance(first, bytes):
            shapes += mutations(first, case.max_mutations)
        shapes += case.wrong_shapes
        five_hundreds = []
        for shape in shapes:
            answer = await post(shape)
            if answer.status_code >= 500:
                five_hundreds.append(f"{as_body(shape)[:120]!r} -> {answer.status_code}")
        report.check(not five_hundreds, f"wrong-shaped payloads never answer 5xx ({len(shapes)} tried)",
                     "; ".join(five_hundreds[:5]))

        if ticket_id is None:
            raise AssertionError(_message(case, report))

        ok_id, ok_state = await _check_replies(desk, case, report, ticket_id)

        async def state(message_id: int) -> dict[str, Any]:
            return await Message.select(Message.delivery_status, Message.external_id).where(
                Message.id == message_id).first()

        # --- statuses -----------------------------------------------------------------------
        if case.status is not None and ok_state["external_id"]:
            read = await post(case.status(ok_state["external_id"], "read", case.sender))
            report.check(200 <= read.status_code < 300, "a status webhook is accepted", str(read.status_code))
            report.check((await state(ok_id))["delivery_status"] == "read", "a read receipt marks the reply read",
                         repr(await state(ok_id)))
            await post(case.status(ok_state["external_id"], "delivered", case.sender))
            report.check((await state(ok_id))["delivery_status"] == "read",
                         "statuses move forward only (a late 'delivered' does not undo 'read')",
                         repr(await state(ok_id)))

        # --- media is not fetched inside the webhook (this desk runs no jobs) ----------------
        if case.media is not None:
            from core.attachments import PENDING_KEY
            from core.tables import Attachment

            announced = await post(case.media("conformance-media-0", case.sender))
            report.check(200 <= announced.status_code < 300, "a webhook announcing media is accepted",
                         f"{announced.status_code} {announced.text[:300]}")
            latest = await Message.select(Message.id, Message.metadata).where(
                Message.direction == "inbound").order_by(Message.id, ascending=False).first()
            metadata = latest["metadata"] if latest else {}
            if isinstance(metadata, str):
                metadata = json.loads(metadata or "{}")
            pending = [p for p in (metadata or {}).get(PENDING_KEY) or [] if isinstance(p, dict)]
            report.check(bool(pending) and all(p.get("key") for p in pending),
                         "announced media is stored as pending_attachments descriptors with a key", repr(metadata))
            report.check(await _count(Attachment) == 0, "media is not fetched inside the webhook request")

    # --- media, fetched by a job after the webhook answered -------------------------------------
    if case.media is not None:
        from core.tables import Attachment

        jobs_desk = await make_desk(case.configure)
        async with client_for(jobs_desk) as client:
            body = as_body(case.media("conformance-media", case.sender))
            answer = await client.post(hook, content=body, headers={"content-type": "application/json", **case.sign(body)})
            report.check(200 <= answer.status_code < 300, "a webhook announcing media is accepted on a desk with jobs",
                         str(answer.status_code))
            failed = await drain_jobs(jobs_desk)
            report.check(failed == 0, "the media job does not fail", f"{failed} failed job(s)")
            try:
                await wait_for(lambda: _count(Attachment), timeout=10)
            except AssertionError:
                report.check(False, "announced media is fetched and stored by a job after the webhook answered")

    if report.problems:
        raise AssertionError(_message(case, report))


def _message(case: ChannelCase, report: _Report) -> str:
    lines = "\n".join(f"  - {p}" for p in report.problems)
    return f"channel {case.plugin!r} breaks the channel contract:\n{lines}"


@dataclass
class WebhookCase:
    """A plugin that takes webhooks but stores no messages (a store's order events): the part of
    the contract that still holds."""

    plugin: str
    configure: Callable[[dict[str, Any]], None]
    payload: Callable[[str], Any]
    """key -> a valid webhook body (bytes or JSON-able); the same key is the same delivery."""
    sign: Signer
    """body -> every header the platform sends with it (signature, topic, delivery id...)."""
    stored: Callable[[], Awaitable[int]]
    """How many rows the plugin has stored from webhooks so far."""
    account: str = "main"
    forge: Signer | None = None
    max_mutations: int = 60


async def check_webhooks(case: WebhookCase, make_desk: Callable[..., Awaitable[Any]]) -> None:
    """A forged signature is refused and stores nothing; a valid delivery is accepted and stored;
    the same delivery again stores nothing more; wrong-shaped bodies never answer 5xx. Runs the
    plugin's migrations first (its tables)."""
    report = _Report()
    hook = f"/hooks/{case.plugin}/{case.account}"
    desk = await make_desk(case.configure, run_jobs=False, migrate=True)

    async with client_for(desk) as client:
        async def post(payload: Any, headers: dict[str, str] | None = None) -> Any:
            body = as_body(payload)
            sent = {"content-type": "application/json", **(case.sign(body) if headers is None else headers)}
            return await client.post(hook, content=body, headers=sent)

        first = case.payload("conformance-1")
        before = await case.stored()
        forged = await post(first, headers=(case.forge or (lambda _b: case.sign(b"a different body")))(as_body(first)))
        report.check(forged.status_code in (401, 403), "a forged signature is refused", f"answered {forged.status_code}")
        report.check(await case.stored() == before, "a forged request stores nothing")
        accepted = await post(first)
        report.check(200 <= accepted.status_code < 300, "a valid webhook is accepted",
                     f"{accepted.status_code} {accepted.text[:300]}")
        after = await case.stored()
        report.check(after > before, "a valid webhook is stored")
        again = await post(first)
        report.check(200 <= again.status_code < 300, "a duplicate delivery is acknowledged", str(again.status_code))
        report.check(await case.stored() == after, "a duplicate delivery stores nothing more")
        shapes: list[Any] = [b"", b"not json", b"[]", b"{}", b"null", b'"text"', b"{\"a\":"]
        if not isinstance(first, bytes):
            shapes += mutations(first, case.max_mutations)
        five_hundreds = []
        for shape in shapes:
            answer = await post(shape)
            if answer.status_code >= 500:
                five_hundreds.append(f"{as_body(shape)[:120]!r} -> {answer.status_code}")
        report.check(not five_hundreds, f"wrong-shaped payloads never answer 5xx ({len(shapes)} tried)",
                     "; ".join(five_hundreds[:5]))
    if report.problems:
        lines = "\n".join(f"  - {p}" for p in report.problems)
        raise AssertionError(f"plugin {case.plugin!r} breaks the webhook contract:\n{lines}")


@dataclass
class PolledChannelCase:
    """A channel whose messages the desk polls (a marketplace's message API): the builders the
    polled-channel contract needs. The fake platform keeps its messages in memory; the suite adds
    messages there and polls through the core (core.polling.poll_account, the `poll` hook)."""

    plugin: str
    configure: Callable[[dict[str, Any]], None]
    """Edits the test config: enables the plugin with an account named `account` whose base URL
    points at the fake platform (and lets the URL guard reach loopback: allow_loopback)."""
    add_inbound: Callable[[str, str, str], Any]
    """(key, sender handle, text) -> put one new message from that sender on the fake platform, in
    the sender's one conversation, dated now; returns the platform's live item for it (the JSON
    object the fake serves, mutable in place) or None when the case has no `item` mutations."""
    sends: Callable[[], list[Any]]
    """The send requests the fake platform has received so far, oldest first."""
    fail_next_send: Callable[[bool], None]
    """Make the fake's next send fail: retryable=True (a 5xx, a throttle) or False (a refusal the
    platform documents as final)."""
    account: str = "main"
    sender: str = "conformance-sender"
    """A sender handle in the platform's format."""
    attempt_of: Callable[[Any], int | None] | None = None
    """Optional: the attempt number a send request carries, when the platform shows it."""
    add_malformed: Callable[[str, int], bool] | None = None
    """Optional, for platforms whose items are not JSON (mail): (key, n) -> put the n-th malformed
    item the case knows (broken MIME, no sender...) on the fake platform; False when there is no n-th."""
    max_mutations: int = 24
    """How many wrong-shaped items (one field of a live item changed in type) to try, one poll each."""
    migrate: bool = True
    """Run the plugin's migrations before the suite (a plugin with tables)."""


async def check_polled_channel(case: PolledChannelCase, make_desk: Callable[..., Awaitable[Any]]) -> None:
    """The contract for polled channels, run through the core's own poll path:

    - a poll stores the new messages, threaded onto one ticket, with the customer and an identity
      for the sender on this channel;
    - polling again with the returned cursor stores nothing new;
    - a batch delivered twice (the cursor set back, as after a crash before it was saved) stores
      nothing twice;
    - a wrong-shaped item (one field of a live item changed in type) never makes the poll raise
      anything but core.errors.ChannelError; a poll that raises keeps the cursor where it was, and
      the good message polled beside the bad item is stored (by that poll, or by the next one once
      the platform serves the item whole again), exactly once;
    - the reply clauses of check_channel: once per attempt, retryable errors stay queued and the next
      attempt sends, final errors mark the reply failed and nothing is sent again.

    Raises AssertionError listing every clause that failed."""
    from core.errors import ChannelError
    from core.polling import poll_account
    from core.tables import ChannelAccount, Identity, Message, Ticket

    report = _Report()
    desk = await make_desk(case.configure, run_jobs=False, migrate=case.migrate)
    account = desk.registry.account(case.plugin, case.account)

    async def cursor() -> Any:
        row = await ChannelAccount.select(ChannelAccount.poll_cursor).where(ChannelAccount.id == account.id).first()
        return row["poll_cursor"] if row else None

    async def inbound() -> list[dict[str, Any]]:
        return await Message.select(Message.id, Message.ticket, Message.customer, Message.text).where(
            Message.direction == "inbound").order_by(Message.id)

    # --- store, thread, identity --------------------------------------------------------------
    case.add_inbound("conformance-m1", case.sender, "Where is my order?")
    case.add_inbound("conformance-m2", case.sender, "Any news?")
    start = await cursor()
    new = await poll_account(desk, account)
    rows = await inbound()
    report.check(new is not None, "the channel is polled (its `poll` hook answers for its channel type)")
    if not report.check(len(rows) == 2, "a poll stores the new messages", f"found {len(rows)} inbound: {rows!r}"):
        raise AssertionError(_polled_message(case, report))
    report.check(rows[0]["ticket"] == rows[1]["ticket"], "messages from the same sender thread onto one ticket",
                 repr(rows))
    report.check(rows[0]["customer"] == rows[1]["customer"] is not None, "both messages link the same customer",
                 repr(rows))
    ticket_id = rows[0]["ticket"]
    ticket = await Ticket.select(Ticket.customer, Ticket.channel_type).where(Ticket.id == ticket_id).first()
    identities = await Identity.select(Identity.handle).where(
        (Identity.customer == ticket["customer"]) & (Identity.channel_type == ticket["channel_type"]))
    report.check(bool(identities), "the ticket's customer has an identity on this channel",
                 f"none for channel {ticket['channel_type']!r}")
    after_first = await cursor()
    report.check(after_first != start, "a poll that stored messages saves a new cursor", repr(after_first))

    # --- the cursor, and a batch delivered twice ----------------------------------------------
    total = await _count(Message)
    again = await poll_account(desk, account)
    report.check(again == 0 and await _count(Message) == total, "polling again with the cursor stores nothing new",
                 f"{again} new")
    await ChannelAccount.update({ChannelAccount.poll_cursor: start}).where(ChannelAccount.id == account.id)
    replayed = await poll_account(desk, account)
    report.check(replayed == 0 and await _count(Message) == total,
                 "a batch delivered twice (cursor set back) stores nothing twice", f"{replayed} new")

    # --- wrong-shaped items -------------------------------------------------------------------
    crashes: list[str] = []
    lost: list[str] = []
    cursor_moved: list[str] = []
    probe = case.add_inbound("conformance-probe", case.sender, "shape probe")
    await poll_account(desk, account)
    if isinstance(probe, dict):
        shapes = mutations(probe, case.max_mutations)
        for index, shaped in enumerate(shapes):
            text = f"good message {index}"
            case.add_inbound(f"conformance-good-{index}", case.sender, text)
            bad = case.add_inbound(f"conformance-bad-{index}", case.sender, f"bad item {index}")
            original = json.loads(json.dumps(bad))
            shaped = json.loads(json.dumps(shaped))
            label = _shape_label(probe, shaped)
            # the probe's own id and text would collide; keep this item's where the mutation left them
            for key in list(shaped) if isinstance(shaped, dict) else []:
                if shaped[key] == probe.get(key) and key in original:
                    shaped[key] = original[key]
            bad.clear()
            bad.update(shaped)
            before = await cursor()
            try:
                await poll_account(desk, account)
            except ChannelError:
                if await cursor() != before:
                    cursor_moved.append(label)
            except Exception as exc:  # the clause: nothing but a ChannelError leaves a poll
                crashes.append(f"{label}: {type(exc).__name__}: {str(exc)[:120]}")
            bad.clear()
            bad.update(original)
            try:
                await poll_account(desk, account)
            except Exception as exc:
                crashes.append(f"{label}, after the item was whole again: {type(exc).__name__}: {str(exc)[:120]}")
            stored = await Message.count().where(Message.text == text)
            if stored != 1:
                lost.append(f"{label}: the good message stored {stored} time(s)")
    if case.add_malformed is not None:
        index = 0
        while True:
            text = f"good message beside malformed {index}"
            case.add_inbound(f"conformance-good-m{index}", case.sender, text)
            if not case.add_malformed(f"conformance-malformed-{index}", index):
                await poll_account(desk, account)
                break
            label = f"malformed item {index}"
            before = await cursor()
            for poll_number in (1, 2):  # the second poll: a failed one is tried again
                try:
                    await poll_account(desk, account)
                except ChannelError:
                    if await cursor() != before:
                        cursor_moved.append(label)
                except Exception as exc:
                    crashes.append(f"{label} (poll {poll_number}): {type(exc).__name__}: {str(exc)[:120]}")
            stored = await Message.count().where(Message.text == text)
            if stored != 1:
                lost.append(f"{label}: the good message stored {stored} time(s)")
            index += 1
    report.check(not crashes, "a wrong-shaped item never makes a poll raise anything but ChannelError",
                 "; ".join(crashes[:5]))
    report.check(not cursor_moved, "a poll that fails keeps the cursor where it was", "; ".join(cursor_moved[:5]))
    report.check(not lost, "the good messages polled beside a wrong-shaped item are stored exactly once",
                 "; ".join(lost[:5]))

    # --- replies ------------------------------------------------------------------------------
    await _check_replies(desk, case, report, ticket_id)
    if report.problems:
        raise AssertionError(_polled_message(case, report))


def _shape_label(original: Any, shaped: Any) -> str:
    if isinstance(original, dict) and isinstance(shaped, dict):
        changed = [k for k in shaped if shaped.get(k) != original.get(k)]
        return f"item with {','.join(map(str, changed)) or 'a nested field'} changed"
    return "item changed"


def _polled_message(case: PolledChannelCase, report: _Report) -> str:
    lines = "\n".join(f"  - {p}" for p in report.problems)
    return f"polled channel {case.plugin!r} breaks the polled-channel contract:\n{lines}"
