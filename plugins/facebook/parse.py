"""Messenger and Instagram messaging webhooks -> InboundMessage and StatusUpdate (pure: no I/O).

Shape: ``{"object": "page" | "instagram", "entry": [{"id": PAGE_OR_IG_ID, "time", "messaging": [event]}]}``
where each event has ``sender``, ``recipient``, ``timestamp`` (ms) and one of ``message`` (with
``is_echo`` for what the business sent), ``postback``, ``reaction``, ``delivery`` or ``read``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

from core.attachments import PENDING_KEY
from core.types import InboundMessage, StatusUpdate

log = logging.getLogger("relaydesk.facebook")

MEDIA_TYPES = ("image", "video", "audio", "file")
# Our own sends carry this prefix in message.metadata; their echoes are already stored.
OWN_METADATA_PREFIX = "relaydesk-msg-"


def parse_payload(payload: dict[str, Any], account_node_id: str, *, download_media: bool
                  ) -> tuple[list[InboundMessage], list[StatusUpdate], int]:
    """Returns (messages, statuses, skipped entries for another Page or account)."""
    messages: list[InboundMessage] = []
    statuses: list[StatusUpdate] = []
    skipped = 0
    for entry in _list(payload.get("entry")):
        if not isinstance(entry, dict):
            continue
        if str(entry.get("id") or "") != account_node_id:
            log.warning("skipped an entry for %s on the account of %s", entry.get("id"), account_node_id)
            skipped += 1
            continue
        for event in _list(entry.get("messaging")):
            if not isinstance(event, dict):
                continue
            sender = str((event.get("sender") or {}).get("id") or "")
            recipient = str((event.get("recipient") or {}).get("id") or "")
            at = _time(event.get("timestamp"))
            if isinstance(event.get("message"), dict):
                message = _message(event["message"], sender, recipient, at, download_media)
                if message:
                    messages.append(message)
            elif isinstance(event.get("postback"), dict):
                messages.append(_postback(event["postback"], sender, event.get("timestamp"), at))
            elif isinstance(event.get("reaction"), dict):
                messages.append(_reaction(event["reaction"], sender, event.get("timestamp"), at))
            elif isinstance(event.get("delivery"), dict):
                statuses += [StatusUpdate(external_id=str(mid), status="delivered", at=at)
                             for mid in _list(event["delivery"].get("mids"))]
            elif isinstance(event.get("read"), dict) and event["read"].get("mid"):
                # Instagram's messaging_seen names the message ...
                statuses.append(StatusUpdate(external_id=str(event["read"]["mid"]), status="read", at=at))
            elif isinstance(event.get("read"), dict) and event["read"].get("watermark") and sender:
                # ... Messenger's read names a time: everything we sent this person up to it was read.
                statuses.append(StatusUpdate(external_id="", status="read", at=at, recipient=sender,
                                             up_to=_time(event["read"]["watermark"])))
    return messages, statuses, skipped


def _message(msg: dict[str, Any], sender: str, recipient: str, at: datetime | None,
             download_media: bool) -> InboundMessage | None:
    mid = msg.get("mid")
    if not mid or msg.get("is_deleted") or msg.get("is_unsupported") and not msg.get("text"):
        return None
    echo = bool(msg.get("is_echo"))
    if echo and str(msg.get("metadata") or "").startswith(OWN_METADATA_PREFIX):
        return None
    customer = recipient if echo else sender
    if not customer:
        return None
    meta: dict[str, Any] = {}
    pending: list[dict[str, Any]] = []
    lines: list[str] = []
    text = str(msg.get("text") or "")
    references: list[str] = []
    reply_to = msg.get("reply_to") if isinstance(msg.get("reply_to"), dict) else {}
    if reply_to.get("mid"):
        references.append(str(reply_to["mid"]))
    if isinstance(reply_to.get("story"), dict):
        meta["story_reply"] = {k: reply_to["story"].get(k) for k in ("id", "url")}
        lines.append("(replying to your story)")
    if isinstance(msg.get("quick_reply"), dict):
        meta["quick_reply"] = {"payload": msg["quick_reply"].get("payload")}
    if msg.get("sticker_id"):
        meta["sticker_id"] = msg["sticker_id"]
    for index, attachment in enumerate(_list(msg.get("attachments"))):
        if not isinstance(attachment, dict):
            continue
        kind = str(attachment.get("type") or "attachment")
        body = attachment.get("payload") if isinstance(attachment.get("payload"), dict) else {}
        link = body.get("url")
        meta.setdefault("attachments", []).append({"type": kind, **{k: body[k] for k in ("url", "title", "sticker_id") if k in body}})
        if kind == "story_mention":
            lines.append(f"[mentioned you in their story] {link or ''}".strip())
        elif kind in MEDIA_TYPES:
            label = "sticker" if msg.get("sticker_id") or body.get("sticker_id") else kind
            lines.append(f"[{label}]")
            if link and download_media:
                pending.append({"key": f"{mid}:{index}", "url": link, "kind": label, "state": "pending"})
        elif kind == "location":
            coords = (body.get("coordinates") or {})
            lines.append(f"Location: {coords.get('lat')}, {coords.get('long')}")
            meta["location"] = coords
        elif kind in ("share", "ig_reel", "reel", "fallback", "template"):
            title = body.get("title")
            lines.append(f"[shared {kind.replace('_', ' ')}] {title or link or ''}".strip())
        else:
            lines.append(f"[{kind}]")
    if pending:
        meta[PENDING_KEY] = pending
    full = "\n".join(part for part in [text, *lines] if part)
    return InboundMessage(
        external_id=str(mid), sender_handle=customer, text=full or "[empty message]", sent_at=at,
        is_echo=echo, references=references, metadata=meta,
    )


def _postback(postback: dict[str, Any], sender: str, timestamp: Any, at: datetime | None) -> InboundMessage:
    title = postback.get("title") or postback.get("payload") or "a button"
    return InboundMessage(
        external_id=str(postback.get("mid") or f"postback:{sender}:{timestamp}"), sender_handle=sender,
        text=f"Tapped “{title}”", sent_at=at,
        metadata={"postback": {k: postback.get(k) for k in ("title", "payload", "referral") if postback.get(k) is not None}},
    )


def _reaction(reaction: dict[str, Any], sender: str, timestamp: Any, at: datetime | None) -> InboundMessage:
    target = str(reaction.get("mid") or "")
    action = reaction.get("action") or "react"
    emoji = reaction.get("emoji") or reaction.get("reaction") or ""
    text = f"Reacted {emoji} to a message" if action == "react" else "Removed a reaction"
    return InboundMessage(
        external_id=f"reaction:{target}:{sender}:{action}:{timestamp}", sender_handle=sender, text=text, sent_at=at,
        references=[target] if target else [], may_open_ticket=False,
        metadata={"reaction": {k: reaction.get(k) for k in ("reaction", "emoji", "action", "mid")}},
    )


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
