"""WhatsApp Cloud API webhook payloads -> InboundMessage and StatusUpdate (pure: no I/O).

Shape: ``{"object": "whatsapp_business_account", "entry": [{"id": WABA, "changes": [{"field":
"messages", "value": {"metadata": {"phone_number_id"}, "contacts": [...], "messages": [...],
"statuses": [...]}}]}]}``, decoded into plugins.whatsapp.wire's types. Each entry, change, message
and status is checked on its own: one that does not match Meta's format is skipped and reported
(the caller counts it), the rest is stored. Changes for another phone number, and fields we do not
handle (template and account updates), are skipped.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

import msgspec

from core.plugin_api import PENDING_KEY
from core.plugin_api import InvalidRequest
from core.plugin_api import decode_part
from core.plugin_api import InboundMessage, StatusUpdate
from plugins.whatsapp import wire

log = logging.getLogger("relaydesk.whatsapp")

MEDIA_KINDS = ("image", "video", "audio", "document", "sticker")
# Message kinds whose body sits under a key of the same name.
BODY_KINDS = (*MEDIA_KINDS, "text")
STATUS_MAP = {"sent": "sent", "delivered": "delivered", "read": "read", "played": "read", "failed": "failed"}


def handle(wa_id: str | None) -> str | None:
    """A WhatsApp id as an E.164 number: '972544401243' -> '+972544401243'."""
    digits = "".join(ch for ch in str(wa_id or "") if ch.isdigit())
    return f"+{digits}" if digits else None


def parse_payload(body: bytes, phone_number_id: str) -> tuple[list[InboundMessage], list[StatusUpdate], list[str]]:
    """Returns (messages, statuses, invalid events). The body must be a WhatsApp webhook (else
    InvalidRequest, a 400); inside it, an entry, change, message or status that does not match Meta's
    format is skipped and named in the third list, and the rest still comes out."""
    try:
        envelope = msgspec.json.decode(body, type=wire.Envelope)
    except msgspec.ValidationError as exc:
        raise InvalidRequest(f"this is not a WhatsApp webhook: {exc}") from None
    except msgspec.DecodeError as exc:
        raise InvalidRequest(f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise InvalidRequest("the body is nested too deeply to be a webhook") from None
    if envelope.object != "whatsapp_business_account":
        raise InvalidRequest("expected a WhatsApp webhook: object must be 'whatsapp_business_account'")
    messages: list[InboundMessage] = []
    statuses: list[StatusUpdate] = []
    invalid: list[str] = []
    for e, raw_entry in enumerate(envelope.entry):
        entry = decode_part(raw_entry, wire.Entry, f"entry[{e}]", invalid)
        for c, raw_change in enumerate(entry.changes if entry else []):
            where = f"entry[{e}].changes[{c}]"
            change = decode_part(raw_change, wire.Change, where, invalid)
            if change is None or change.field not in ("messages", "smb_message_echoes"):
                continue
            value = decode_part(change.value, wire.Value, f"{where}.value", invalid)
            if value is None:
                continue
            number = value.metadata.phone_number_id if value.metadata else ""
            if number and number != phone_number_id:
                log.warning("skipped a change for phone number %s on the account of %s", number, phone_number_id)
                continue
            names = {"".join(ch for ch in (c.wa_id or "") if ch.isdigit()): c.profile.name if c.profile else None
                     for c in value.contacts}
            # A payload with one contact names the customer even where the number is redacted.
            only = next(iter(names)) if len(names) == 1 else None
            for key, echo in (("messages", False), ("message_echoes", True)):
                for i, raw in enumerate(getattr(value, key)):
                    item = decode_part(raw, wire.Message, f"{where}.value.{key}[{i}]", invalid)
                    message = _message(item, names, only, echo=echo) if item else None
                    if message:
                        messages.append(message)
            for i, raw in enumerate(value.statuses):
                item = decode_part(raw, wire.Status, f"{where}.value.statuses[{i}]", invalid)
                status = _status(item) if item else None
                if status:
                    statuses.append(status)
    return messages, statuses, invalid


def _message(item: wire.Message, names: dict[str, str | None], only: str | None, *, echo: bool = False) -> InboundMessage | None:
    if not item.id:
        return None
    kind = item.type
    peer = item.to if echo else item.from_
    if handle(peer) is None:
        peer = only
    sender = handle(peer)
    if sender is None:
        return None
    text, meta, pending = render(kind, item)
    context = item.context or wire.Context()
    references = [context.id] if context.id else []
    if kind == "reaction" and item.reaction:
        references = [item.reaction.message_id]
    if kind == "revoke" and item.revoke:
        references = [item.revoke.original_message_id]
    if kind == "edit" and item.edit:
        references = [item.edit.original_message_id]
    if context.forwarded or context.frequently_forwarded:
        meta["forwarded"] = "frequently" if context.frequently_forwarded else True
    if item.referral:
        meta["referral"] = msgspec.to_builtins(item.referral)
    meta["whatsapp_type"] = kind
    if pending:
        meta[PENDING_KEY] = pending
    wa_id = "".join(ch for ch in str(peer) if ch.isdigit())
    return InboundMessage(
        external_id=item.id, sender_handle=sender, text=text,
        sender_name=None if echo else names.get(wa_id), sender_phone=sender, phone_verified=True,
        references=references, sent_at=_time(item.timestamp), is_echo=echo,
        # Reactions, deletions and system notices belong to a conversation; alone they open nothing.
        may_open_ticket=kind not in ("reaction", "revoke", "system"),
        metadata=meta,
    )


def render(kind: str, item: wire.Message | wire.InnerMessage) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
    """A readable text for the agent, the structured data, and the media still to download."""
    body = getattr(item, kind, None) if kind in BODY_KINDS else None
    meta: dict[str, Any] = {}
    pending: list[dict[str, Any]] = []
    if kind == "text":
        return (body.body if body else ""), meta, pending
    if kind in MEDIA_KINDS:
        media = body or wire.Media()
        caption = media.caption or ""
        if media.id:
            pending.append({"key": media.id, "media_id": media.id, "kind": kind,
                            "mime_type": media.mime_type, "filename": media.filename, "state": "pending"})
        label = "voice message" if kind == "audio" and media.voice else kind
        if kind == "sticker" and media.animated:
            label = "animated sticker"
        if media.filename:
            label += f" {media.filename}"
        meta["media"] = {k: v for k, v in msgspec.to_builtins(media).items()
                         if k in ("id", "mime_type", "filename", "voice", "animated")}
        return (f"{caption}\n[{label}]" if caption else f"[{label}]"), meta, pending
    if not isinstance(item, wire.Message):
        return f"[{kind} message]", meta, pending
    if kind == "location" and item.location:
        place = item.location
        meta["location"] = msgspec.to_builtins(place)
        where = ", ".join(v for v in (place.name, place.address) if v)
        coords = f"{place.latitude}, {place.longitude}"
        return f"Location: {where} ({coords})" if where else f"Location: {coords}", meta, pending
    if kind == "contacts":
        meta["contacts"] = msgspec.to_builtins(item.contacts)
        parts = []
        for contact in item.contacts:
            name = (contact.name.formatted_name if contact.name else None) or "contact"
            phones = ", ".join(p.phone or "" for p in contact.phones)
            parts.append(f"{name} {phones}".strip())
        return "Shared contacts: " + "; ".join(parts), meta, pending
    if kind == "interactive" and item.interactive:
        sub = item.interactive.type
        reply = getattr(item.interactive, sub, None) if sub in ("button_reply", "list_reply", "nfm_reply") else None
        meta["interactive"] = {"type": sub, **(msgspec.to_builtins(reply) if reply else {})}
        if isinstance(reply, wire.Reply):
            text = reply.title or reply.id or ""
            if reply.description:
                text += f" — {reply.description}"
            return text, meta, pending
        if isinstance(reply, wire.FlowReply):
            return reply.body or "[form reply]", meta, pending
        return "[interactive reply]", meta, pending
    if kind == "button" and item.button:
        meta["button"] = msgspec.to_builtins(item.button)
        return item.button.text or item.button.payload or "", meta, pending
    if kind == "reaction" and item.reaction:
        meta["reaction"] = msgspec.to_builtins(item.reaction)
        emoji = item.reaction.emoji
        return (f"Reacted {emoji} to a message" if emoji else "Removed a reaction"), meta, pending
    if kind == "order" and item.order:
        meta["order"] = msgspec.to_builtins(item.order)
        lines = [f"{p.quantity} × {p.product_retailer_id} at {_number(p.item_price)} {p.currency}" for p in item.order.product_items]
        return "Order: " + "; ".join(lines), meta, pending
    if kind == "system":
        meta["system"] = msgspec.to_builtins(item.system) if item.system else {}
        return (item.system.body if item.system and item.system.body else "[system message]"), meta, pending
    if kind == "revoke":
        return "The customer deleted a message", meta, pending
    if kind == "edit" and item.edit:
        inner = item.edit.message or wire.InnerMessage()
        text, inner_meta, pending = render(inner.type, inner)
        meta.update(inner_meta)
        return f"(edited) {text}", meta, pending
    if kind == "unsupported" or item.errors:
        meta["errors"] = msgspec.to_builtins(item.errors)
        title = item.errors[0].title if item.errors else None
        return f"[unsupported message{': ' + title if title else ''}]", meta, pending
    return f"[{kind} message]", meta, pending


def _status(item: wire.Status) -> StatusUpdate | None:
    if not item.id:
        return None
    status = STATUS_MAP.get(item.status)
    if status is None:
        return None
    error = None
    if status == "failed":
        parts = []
        for err in item.errors:
            details = err.error_data.details if err.error_data else None
            parts.append(f"{err.title or err.message or 'failed'} ({err.code})" + (f": {details}" if details else ""))
        error = "; ".join(parts) or "WhatsApp reported the message as failed"
    return StatusUpdate(external_id=item.id, status=status, error=error, at=_time(item.timestamp))


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else str(value)


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
