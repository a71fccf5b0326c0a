"""Attachments live on disk, content-addressed by sha256; the table keeps their metadata."""

from __future__ import annotations

import hashlib
import re
import unicodedata
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
