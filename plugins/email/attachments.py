"""Attachment helpers: safe file names and winmail.dat (TNEF) unpacking."""

from __future__ import annotations

import mimetypes
import re
import unicodedata

from core.plugin_api import InboundAttachment

MAX_FILENAME_CHARS = 120
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f/\\:*?\"<>|]+")
_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$", re.I)
_EXTRA_EXT = {"message/rfc822": ".eml", "text/plain": ".txt", "text/html": ".html",
              "message/delivery-status": ".txt", "text/rfc822-headers": ".txt",
              "application/ms-tnef": ".dat", "image/jpeg": ".jpg"}


def extension_for(content_type: str) -> str:
    return _EXTRA_EXT.get(content_type) or mimetypes.guess_extension(content_type, strict=False) or ".bin"


def sanitize_filename(name: str | None, content_type: str = "application/octet-stream",
                      index: int = 1) -> str:
    """A name safe on any file system and in a Content-Disposition header; never empty."""
    cleaned = ""
    if name:
        cleaned = unicodedata.normalize("NFC", str(name))
        # Keep only the last path component: "../../etc/passwd" becomes "passwd".
        cleaned = re.split(r"[/\\]", cleaned)[-1]
        cleaned = _UNSAFE.sub("_", cleaned)
        cleaned = "".join(ch for ch in cleaned if unicodedata.category(ch) not in ("Cf", "Cs", "Co"))
        cleaned = cleaned.strip(" ._")
        if _RESERVED.match(cleaned):
            cleaned = "_" + cleaned
    if not cleaned:
        cleaned = f"attachment-{index}{extension_for(content_type)}"
    if len(cleaned) > MAX_FILENAME_CHARS:
        stem, dot, ext = cleaned.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            cleaned = stem[: MAX_FILENAME_CHARS - len(ext) - 1].rstrip(" .") + "." + ext
        else:
            cleaned = cleaned[:MAX_FILENAME_CHARS]
    return cleaned


def unpack_tnef(data: bytes, max_bytes: int, defects: list[str]) -> list[InboundAttachment] | None:
    """The files inside a winmail.dat, or None when it cannot be read (keep it whole then)."""
    try:
        from tnefparse import TNEF
    except ImportError:
        defects.append("winmail.dat kept whole: tnefparse is not installed")
        return None
    try:
        tnef = TNEF(data, do_checksum=False)
        out: list[InboundAttachment] = []
        for i, att in enumerate(tnef.attachments, start=1):
            payload = att.data or b""
            if not isinstance(payload, bytes):
                continue
            raw_name = att.long_filename() or att.name
            if isinstance(raw_name, bytes):
                raw_name = raw_name.decode("utf-8", "replace")
            raw_name = (raw_name or "").rstrip("\x00")
            ctype = mimetypes.guess_type(raw_name)[0] or "application/octet-stream"
            if len(payload) > max_bytes:
                defects.append(f"attachment {raw_name!r} in winmail.dat dropped: {len(payload)} bytes")
                continue
            out.append(InboundAttachment(filename=sanitize_filename(raw_name, ctype, i),
                                         content_type=ctype, data=payload))
        return out
    except Exception as exc:  # noqa: BLE001 - a broken winmail.dat must not lose the mail
        defects.append(f"winmail.dat unreadable ({type(exc).__name__}); kept whole")
        return None
