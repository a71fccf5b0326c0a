"""Attachments live on disk, content-addressed by sha256; the table keeps their metadata."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import datetime
from pathlib import Path

from core.types import InboundAttachment

MAX_FILENAME = 180


def safe_filename(name: str | None, fallback: str = "attachment") -> str:
    """A name that is safe on any disk and in any header: no paths, no control characters."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r"[<>:\"|?*]", "_", name).strip(" .")
    if not name:
        name = fallback
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: MAX_FILENAME - len(ext) - 1] + "." + ext) if dot and len(ext) < 16 else name[:MAX_FILENAME]
    return name


def store(data_dir: Path, attachment: InboundAttachment) -> tuple[str, str]:
    """Write the bytes once per content; returns (sha256, path relative to data_dir)."""
    digest = hashlib.sha256(attachment.data).hexdigest()
    relative = Path("attachments") / digest[:2] / digest
    target = data_dir / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(attachment.data)
        tmp.replace(target)
    return digest, str(relative)


# --- attachments a channel learns of before it can fetch them -------------------------------------
#
# A webhook parser must not do I/O, so it stores the message with descriptors of the media still to
# fetch under ``metadata["pending_attachments"]`` (a list of dicts; each needs a unique "key", the
# rest is the plugin's own). A job of the plugin fetches them later and calls ``complete_pending``.

PENDING_KEY = "pending_attachments"


async def pending_for(account_ids: list[int], since: datetime, *, message_ids: list[int] | None = None,
                      limit: int = 200) -> list[dict]:
    """Recent messages on these accounts (or just ``message_ids``) that still have pending attachments:
    ``[{"id", "account", "pending": [descriptor, ...]}]``. Bounded by time and count."""
    from core.tables import Message

    if not account_ids:
        return []
    where = Message.account.is_in(account_ids) & (Message.created_at >= since)
    if message_ids is not None:
        where = Message.account.is_in(account_ids) & Message.id.is_in(message_ids or [0])
    rows = await Message.select(Message.id, Message.account, Message.metadata).where(
        where).order_by(Message.id, ascending=False).limit(limit * 5)
    out: list[dict] = []
    for row in rows:
        meta = _as_dict(row["metadata"])
        pending = [p for p in meta.get(PENDING_KEY) or [] if isinstance(p, dict) and p.get("state", "pending") == "pending"]
        if pending:
            out.append({"id": row["id"], "account": row["account"], "pending": pending})
        if len(out) >= limit:
            break
    return out


async def complete_pending(data_dir: Path, message_id: int, key: str, item: InboundAttachment | None = None,
                           *, error: str | None = None) -> bool:
    """Store ``item`` on the message (once: the same bytes are not attached twice) and mark the
    pending descriptor ``key`` as stored, or as failed with ``error`` when ``item`` is None.
    Returns False when the message or the descriptor no longer exists."""
    from core import clock, db
    from core.tables import Attachment, Message

    async with db.transaction():
        row = await Message.select(Message.metadata).where(Message.id == message_id).first()
        if row is None:
            return False
        meta = _as_dict(row["metadata"])
        pending = meta.get(PENDING_KEY) or []
        target = next((p for p in pending if isinstance(p, dict) and p.get("key") == key), None)
        if target is None:
            return False
        if item is not None:
            digest, path = store(data_dir, item)
            exists = await Attachment.exists().where((Attachment.message == message_id) & (Attachment.sha256 == digest))
            if not exists:
                await Attachment.insert(Attachment(
                    message=message_id, filename=safe_filename(item.filename), content_type=item.content_type[:127],
                    size=len(item.data), sha256=digest, storage_path=path, content_id=item.content_id,
                    inline=item.inline, created_at=clock.now(),
                ))
            target["state"] = "stored"
            target.pop("error", None)
        else:
            target["state"] = "failed"
            target["error"] = (error or "the attachment could not be fetched")[:500]
        await Message.update({Message.metadata: meta}).where(Message.id == message_id)
    return True


def _as_dict(value: object) -> dict:
    if isinstance(value, dict):
        return value
    if isinstance(value, (str, bytes)) and value:
        import json

        try:
            loaded = json.loads(value)
        except ValueError:
            return {}
        return loaded if isinstance(loaded, dict) else {}
    return {}
