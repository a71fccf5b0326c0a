"""Messenger and Instagram messaging webhooks -> InboundMessage and StatusUpdate (pure: no I/O).

Shape: ``{"object": "page" | "instagram", "entry": [{"id": PAGE_OR_IG_ID, "time", "messaging": [event]}]}``
where each event has ``sender``, ``recipient``, ``timestamp`` (ms) and one of ``message`` (with
``is_echo`` for what the business sent, ``is_deleted`` for an unsend), ``postback``, ``reaction``,
``delivery``, ``read`` or ``referral``; decoded into plugins.facebook.wire's types, one entry and
one event at a time, so a malformed event is skipped and reported while the rest is stored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import msgspec

from core.plugin_api import PENDING_KEY
from core.plugin_api import InvalidRequest
from core.plugin_api import is_own_key
from core.plugin_api import decode_part
from core.plugin_api import InboundMessage, StatusUpdate, Withdrawal
from plugins.facebook import wire

log = logging.getLogger("relaydesk.facebook")

MEDIA_TYPES = ("image", "video", "audio", "file")


def parse_payload(body: bytes, expected_object: str, account_node_id: str, *, download_media: bool,
                  desk_id: str = "") -> Parsed:
    """The body must be a webhook for ``expected_object`` ("page" or "instagram"), else InvalidRequest
    (a 400). Inside it, an entry or event that does not match Meta's format is skipped and named in
    ``invalid``; the rest still comes out. Entries for another Page or account are skipped quietly.

    Our sends carry their idempotency key as ``message.metadata`` (Send API: "a custom string that
    is delivered as a message echo"); the echo of one sent by the desk ``desk_id`` (or, in the old
    form, before desks had ids) is already stored and is skipped. Another desk's echo is kept."""
    try:
        envelope = msgspec.json.decode(body, type=wire.Envelope)
    except msgspec.ValidationError as exc:
        raise InvalidRequest(f"this is not a Messenger or Instagram webhook: {exc}") from None
    except msgspec.DecodeError as exc:
        raise InvalidRequest(f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise InvalidRequest("the body is nested too deeply to be a webhook") from None
    if envelope.object != expected_object:
        raise InvalidRequest(f"this account takes webhooks whose object is {expected_object!r}")
    out = Parsed()
    for e, raw_entry in enumerate(envelope.entry):
        entry = decode_part(raw_entry, wire.Entry, f"entry[{e}]", out.invalid)
        if entry is None:
            continue
        if entry.id != account_node_id:
            log.warning("skipped an entry for %s on the account of %s", entry.id, account_node_id)
            continue
        for i, raw in enumerate(entry.messaging):
            event = decode_part(raw, wire.Event, f"entry[{e}].messaging[{i}]", out.invalid)
            if event is not None:
                _event(event, out, download_media, desk_id)
    return out


@dataclass(slots=True)
class Parsed:
    messages: list[InboundMessage] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)
    withdrawals: list[Withdrawal] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)


def _event(event: wire.Event, out: Parsed, download_media: bool, desk_id: str) -> None:
    sender, recipient = event.sender.id, event.recipient.id
    at = _time(event.timestamp)
    if event.message is not None:
        if event.message.is_deleted:
            # An unsend (Instagram): the customer took the message back.
            out.withdrawals.append(Withdrawal(external_id=event.message.mid, at=at))
            return
        message = _message(event.message, sender, recipient, at, download_media, desk_id)
        if message:
            out.messages.append(message)
    elif event.postback is not None:
        out.messages.append(_postback(event.postback, sender, event.timestamp, at))
    elif event.reaction is not None:
        out.messages.append(_reaction(event.reaction, sender, event.timestamp, at))
    elif event.delivery is not None:
        out.statuses += [StatusUpdate(external_id=mid, status="delivered", at=at) for mid in event.delivery.mids]
    elif event.read is not None and event.read.mid:
        # Instagram's messaging_seen names the message ...
        out.statuses.append(StatusUpdate(external_id=event.read.mid, status="read", at=at))
    elif event.read is not None and event.read.watermark and sender:
        # ... Messenger's read names a time: everything we sent this person up to it was read.
        out.statuses.append(StatusUpdate(external_id="", status="read", at=at, recipient=sender,
                                         up_to=_time(event.read.watermark)))
    elif event.referral is not None and sender:
        # messaging_referrals: someone already in a conversation came back through an ad or a link.
        out.messages.append(_referral(event.referral, sender, event.timestamp, at))


def _message(msg: wire.Message, sender: str, recipient: str, at: datetime | None,
             download_media: bool, desk_id: str) -> InboundMessage | None:
    mid = msg.mid
    if not mid or msg.is_unsupported and not msg.text:
        return None
    echo = msg.is_echo
    if echo and is_own_key(msg.metadata, desk_id):
        return None
    customer = recipient if echo else sender
    if not customer:
        return None
    meta: dict[str, Any] = {}
    pending: list[dict[str, Any]] = []
    lines: list[str] = []
    text = msg.text or ""
    references: list[str] = []
    if msg.reply_to and msg.reply_to.mid:
        references.append(msg.reply_to.mid)
    if msg.reply_to and msg.reply_to.story:
        meta["story_reply"] = {"id": msg.reply_to.story.id, "url": msg.reply_to.story.url}
        lines.append("(replying to your story)")
    if msg.quick_reply:
        meta["quick_reply"] = {"payload": msg.quick_reply.payload}
    if msg.sticker_id:
        meta["sticker_id"] = msg.sticker_id
    if msg.referral:
        # The first message of a conversation that began at an ad: keep where it came from.
        meta["referral"] = msgspec.to_builtins(msg.referral)
    for index, attachment in enumerate(msg.attachments):
        kind = attachment.type or "attachment"
        body = attachment.payload or wire.AttachmentPayload()
        link = body.url
        meta.setdefault("attachments", []).append(
            {"type": kind, **{k: v for k, v in msgspec.to_builtins(body).items() if k in ("url", "title", "sticker_id")}})
        if kind == "story_mention":
            lines.append(f"[mentioned you in their story] {link or ''}".strip())
        elif kind in MEDIA_TYPES:
            label = "sticker" if msg.sticker_id or body.sticker_id else kind
            lines.append(f"[{label}]")
            if link and download_media:
                pending.append({"key": f"{mid}:{index}", "url": link, "kind": label, "state": "pending"})
        elif kind == "location":
            coords = body.coordinates
            lines.append(f"Location: {coords.lat}, {coords.long}" if coords else "Location")
            if coords:
                meta["location"] = msgspec.to_builtins(coords)
        elif kind in ("share", "ig_reel", "reel", "fallback", "template"):
            lines.append(f"[shared {kind.replace('_', ' ')}] {body.title or link or ''}".strip())
        else:
            lines.append(f"[{kind}]")
    if pending:
        meta[PENDING_KEY] = pending
    full = "\n".join(part for part in [text, *lines] if part)
    return InboundMessage(
        external_id=mid, sender_handle=customer, text=full or "[empty message]", sent_at=at,
        is_echo=echo, references=references, metadata=meta,
    )


def _postback(postback: wire.Postback, sender: str, timestamp: Any, at: datetime | None) -> InboundMessage:
    title = postback.title or postback.payload or "a button"
    meta: dict[str, Any] = {"postback": {k: v for k, v in msgspec.to_builtins(postback).items()
                                         if k in ("title", "payload", "referral")}}
    if postback.referral:
        # Get Started from an ad or a link: the referral of a new conversation arrives here.
        meta["referral"] = msgspec.to_builtins(postback.referral)
    return InboundMessage(
        external_id=postback.mid or f"postback:{sender}:{timestamp}", sender_handle=sender,
        text=f"Tapped “{title}”", sent_at=at, metadata=meta,
    )


def _reaction(reaction: wire.Reaction, sender: str, timestamp: Any, at: datetime | None) -> InboundMessage:
    target = reaction.mid or ""
    action = reaction.action or "react"
    emoji = reaction.emoji or reaction.reaction or ""
    text = f"Reacted {emoji} to a message" if action == "react" else "Removed a reaction"
    return InboundMessage(
        external_id=f"reaction:{target}:{sender}:{action}:{timestamp}", sender_handle=sender, text=text, sent_at=at,
        references=[target] if target else [], may_open_ticket=False,
        metadata={"reaction": {"reaction": reaction.reaction, "emoji": reaction.emoji, "action": action, "mid": reaction.mid}},
    )


def _referral(referral: wire.Referral, sender: str, timestamp: Any, at: datetime | None) -> InboundMessage:
    """Someone with a conversation already came back through an ad or a link: a note on their ticket."""
    return InboundMessage(
        external_id=f"referral:{sender}:{timestamp}", sender_handle=sender, text="[came back through a referral]",
        sent_at=at, may_open_ticket=False, metadata={"referral": msgspec.to_builtins(referral)},
    )


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
