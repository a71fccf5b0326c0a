"""Decode raw header values: RFC 2047 encoded-words, raw 8-bit bytes, broken encodings."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable

from .charsets import decode_header_bytes

# Lenient: tolerates spaces inside Q text and a missing charset language suffix handling.
_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?(.*?)\?=", re.S)
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_QHEX = re.compile(rb"=([0-9A-Fa-f]{2})")
_B64_JUNK = re.compile(rb"[^A-Za-z0-9+/]")


def _word_bytes(kind: str, text: str) -> bytes:
    data = text.encode("ascii", "surrogateescape")
    if kind in "bB":
        data = _B64_JUNK.sub(b"", data)
        data += b"=" * (-len(data) % 4)
        try:
            return base64.b64decode(data)
        except (binascii.Error, ValueError):
            # One dangling character: drop it and keep what decodes.
            try:
                return base64.b64decode(data[: len(data) // 4 * 4 - 4] or b"")
            except (binascii.Error, ValueError):
                return b""
    return _QHEX.sub(lambda m: bytes([int(m.group(1), 16)]), data.replace(b"_", b" "))


def _raw_text(segment: str, charsets: Iterable[str]) -> str:
    """A non-encoded stretch; 8-bit bytes arrive surrogate-escaped from the parser."""
    try:
        data = segment.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return segment.encode("utf-8", "replace").decode("utf-8")
    if data.isascii() and "\x1b" not in segment:
        return segment
    return decode_header_bytes(data, None, charsets)


def decode_header(value: object, charsets: Iterable[str] = ()) -> str:
    """Readable text of a raw header value; never raises. `charsets`: those the message
    declares for its bodies, to read raw 8-bit header bytes with (see decode_header_bytes)."""
    if value is None:
        return ""
    try:
        raw = value if isinstance(value, str) else str(value)
        raw = _FOLD.sub("", raw)
        if "=?" not in raw:
            return _raw_text(raw, charsets).strip()
        out: list[str] = []
        pos = 0
        run_charset: str | None = None
        run_bytes = b""

        def flush() -> None:
            nonlocal run_bytes, run_charset
            if run_bytes:
                out.append(decode_header_bytes(run_bytes, run_charset, charsets))
            run_bytes, run_charset = b"", None

        for m in _WORD.finditer(raw):
            gap = raw[pos : m.start()]
            if gap and not gap.isspace():
                flush()
                out.append(_raw_text(gap, charsets))
            elif gap and run_charset is None and not out:
                out.append(gap)
            charset = m.group(1).split("*", 1)[0]
            data = _word_bytes(m.group(2), m.group(3))
            # Adjacent words in one charset are joined before decoding: mailers split
            # multibyte characters across words.
            if run_charset is not None and charset.lower() != run_charset.lower():
                flush()
            run_charset = charset
            run_bytes += data
            pos = m.end()
        flush()
        out.append(_raw_text(raw[pos:], charsets))
        return "".join(out).strip()
    except Exception:  # noqa: BLE001 - a header is never worth losing the mail
        return str(value).encode("utf-8", "replace").decode("utf-8", "replace").strip()


_CTL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_line(text: str) -> str:
    """One-line header text: no control characters, single spaces."""
    return " ".join(_CTL.sub(" ", text).split())
