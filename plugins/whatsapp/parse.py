"""WhatsApp Cloud API webhook payloads -> InboundMessage and StatusUpdate (pure: no I/O).

Shape: ``{"object": "whatsapp_business_account", "entry": [{"id": WABA, "changes": [{"field":
"messages", "value": {"metadata": {"phone_number_id"}, "contacts": [...], "messages": [...],
"statuses": [...]}}]}]}``. Each entry and change is handled on its own; changes for another phone
number, and fields we do not handle (template and account updates), are skipped.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

from core.attachments import PENDING_KEY
from core.types import InboundMessage, StatusUpdate

log = logging.getLogger("relaydesk.whatsapp")

MEDIA_KINDS = ("image", "video", "audio", "document", "sticker")
STATUS_MAP = {"sent": "sent", "delivered": "delivered", "read": "read", "played": "read", "failed": "failed"}


def handle(wa_id: str | None) -> str | None:
    """A WhatsApp id as an E.164 number: '972544401243' -> '+972544401243'."""
    digits = "".join(ch for ch in str(wa_id or "") if ch.isdigit())
    return f"+{digits}" if digits else None


def parse_payload(payload: dict[str, Any], phone_number_id: str) -> tuple[list[InboundMessage], list[StatusUpdate], int]:
    """Returns (messages, statuses, skipped changes)."""
    messages: list[InboundMessage] = []
    statuses: list[StatusUpdate] = []
    skipped = 0
    for entry in _list(payload.get("entry")):
        for change in _list(entry.get("changes") if isinstance(entry, dict) else None):
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                continue
            field = change.get("field")
            if field not in ("messages", "smb_message_echoes"):
                continue
            number = str((value.get("metadata") or {}).get("phone_number_id") or "")
            if number and number != phone_number_id:
                log.warning("skipped a change for phone number %s on the account of %s", number, phone_number_id)
                skipped += 1
                continue
            names = {str(c.get("wa_id")): (c.get("profile") or {}).get("name")
                     for c in _list(value.get("contacts")) if isinstance(c, dict)}
            # A payload with one contact names the customer even where the number is redacted.
            only = next(iter(names)) if len(names) == 1 else None
            for item in _list(value.get("messages")):
                message = _message(item, names, only)
                if message:
                    messages.append(message)
            for item in _list(value.get("message_echoes")):
                message = _message(item, names, only, echo=True)
                if message:
                    messages.append(message)
            for item in _list(value.get("statuses")):
                status = _status(item)
                if status:
                    statuses.append(status)
    return messages, statuses, skipped


def _message(item: Any, names: dict[str, str | None], only: str | None, *, echo: bool = False) -> InboundMessage | None:
    if not isinstance(item, dict) or not item.get("id"):
        return None
    kind = str(item.get("type") or "unknown")
    peer = item.get("to") if echo else item.get("from")
    if handle(peer) is None:
        peer = only
    sender = handle(peer)
    if sender is None:
        return None
    text, meta, pending = render(kind, item)
    context = item.get("context") if isinstance(item.get("context"), dict) else {}
    references = [str(context["id"])] if context.get("id") else []
    if kind == "reaction" and (item.get("reaction") or {}).get("message_id"):
        references = [str(item["reaction"]["message_id"])]
    if kind in ("revoke", "edit"):
        original = (item.get(kind) or {}).get("original_message_id")
        if original:
            references = [str(original)]
    if context.get("forwarded") or context.get("frequently_forwarded"):
        meta["forwarded"] = "frequently" if context.get("frequently_forwarded") else True
    if item.get("referral"):
        meta["referral"] = item["referral"]
    meta["whatsapp_type"] = kind
    if pending:
        meta[PENDING_KEY] = pending
    wa_id = "".join(ch for ch in str(peer) if ch.isdigit())
    return InboundMessage(
        external_id=str(item["id"]), sender_handle=sender, text=text,
        sender_name=None if echo else names.get(wa_id), sender_phone=sender, phone_verified=True,
        references=references, sent_at=_time(item.get("timestamp")), is_echo=echo,
        # Reactions, deletions and system notices belong to a conversation; alone they open nothing.
        may_open_ticket=kind not in ("reaction", "revoke", "system"),
        metadata=meta,
    )


def render(kind: str, item: dict[str, Any]) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
    """A readable text for the agent, the structured data, and the media still to download."""
    body = item.get(kind) if isinstance(item.get(kind), dict) else {}
    meta: dict[str, Any] = {}
    pending: list[dict[str, Any]] = []
    if kind == "text":
        return str(body.get("body") or ""), meta, pending
    if kind in MEDIA_KINDS:
        caption = str(body.get("caption") or "")
        if body.get("id"):
            pending.append({"key": str(body["id"]), "media_id": str(body["id"]), "kind": kind,
                            "mime_type": body.get("mime_type"), "filename": body.get("filename"), "state": "pending"})
        label = "voice message" if kind == "audio" and body.get("voice") else kind
        if kind == "sticker" and body.get("animated"):
            label = "animated sticker"
        if body.get("filename"):
            label += f" {body['filename']}"
        meta["media"] = {k: body[k] for k in ("id", "mime_type", "filename", "voice", "animated") if k in body}
        return (f"{caption}\n[{label}]" if caption else f"[{label}]"), meta, pending
    if kind == "location":
        meta["location"] = body
        where = ", ".join(str(body[k]) for k in ("name", "address") if body.get(k))
        coords = f"{body.get('latitude')}, {body.get('longitude')}"
        return f"Location: {where} ({coords})" if where else f"Location: {coords}", meta, pending
    if kind == "contacts":
        contacts = _list(item.get("contacts"))
        meta["contacts"] = contacts
        parts = []
        for contact in contacts:
            name = ((contact.get("name") or {}).get("formatted_name") or "contact") if isinstance(contact, dict) else "contact"
            phones = ", ".join(p.get("phone", "") for p in _list(contact.get("phones")) if isinstance(p, dict))
            parts.append(f"{name} {phones}".strip())
        return "Shared contacts: " + "; ".join(parts), meta, pending
    if kind == "interactive":
        sub = str(body.get("type") or "")
        reply = body.get(sub) if isinstance(body.get(sub), dict) else {}
        meta["interactive"] = {"type": sub, **reply}
        if sub in ("button_reply", "list_reply"):
            text = str(reply.get("title") or reply.get("id") or "")
            if reply.get("description"):
                text += f" — {reply['description']}"
            return text, meta, pending
        if sub == "nfm_reply":
            return str(reply.get("body") or "[form reply]"), meta, pending
        return "[interactive reply]", meta, pending
    if kind == "button":
        meta["button"] = body
        return str(body.get("text") or body.get("payload") or ""), meta, pending
    if kind == "reaction":
        meta["reaction"] = body
        emoji = body.get("emoji")
        return (f"Reacted {emoji} to a message" if emoji else "Removed a reaction"), meta, pending
    if kind == "order":
        meta["order"] = body
        lines = [f"{p.get('quantity')} × {p.get('product_retailer_id')} at {p.get('item_price')} {p.get('currency')}"
                 for p in _list(body.get("product_items")) if isinstance(p, dict)]
        return "Order: " + "; ".join(lines), meta, pending
    if kind == "system":
        meta["system"] = body
        return str(body.get("body") or "[system message]"), meta, pending
    if kind == "revoke":
        return "The customer deleted a message", meta, pending
    if kind == "edit":
        inner = body.get("message") if isinstance(body.get("message"), dict) else {}
        inner_kind = str(inner.get("type") or "text")
        text, inner_meta, pending = render(inner_kind, inner)
        meta.update(inner_meta)
        return f"(edited) {text}", meta, pending
    if kind == "unsupported" or item.get("errors"):
        errors = _list(item.get("errors"))
        meta["errors"] = errors
        title = errors[0].get("title") if errors and isinstance(errors[0], dict) else None
        return f"[unsupported message{': ' + title if title else ''}]", meta, pending
    return f"[{kind} message]", meta, pending


def _status(item: Any) -> StatusUpdate | None:
    if not isinstance(item, dict) or not item.get("id"):
        return None
    status = STATUS_MAP.get(str(item.get("status")))
    if status is None:
        return None
    error = None
    if status == "failed":
        parts = []
        for err in _list(item.get("errors")):
            if not isinstance(err, dict):
                continue
            details = (err.get("error_data") or {}).get("details") if isinstance(err.get("error_data"), dict) else None
            parts.append(f"{err.get('title') or err.get('message') or 'failed'} ({err.get('code')})"
                         + (f": {details}" if details else ""))
        error = "; ".join(parts) or "WhatsApp reported the message as failed"
    return StatusUpdate(external_id=str(item["id"]), status=status, error=error, at=_time(item.get("timestamp")))


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
