"""Turn bytes of unknown or mislabelled charset into text, never raising.

Order of attempts: the declared charset (mapped to its usual superset), then UTF-8, then the
other charsets the message declares (headers only), then a statistical guess (charset-normalizer)
for text long enough to guess from, among the encodings real mail is written in, then Windows-1252
(Latin-1 for its five unassigned bytes). The guess only ever picks a non-Latin script: between
Western and Central European readings of a few accented letters it is no better than a coin, and
Western text is by far the more common.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from functools import lru_cache

# Senders label mail with the narrow standard name but write with the vendor superset.
_SUPERSETS: dict[str, str] = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "cp936": "gb18030",
    "x-gbk": "gb18030",
    "euc-cn": "gb18030",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "big5-hkscs": "big5hkscs",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "iso-2022-jp": "iso2022_jp_ext",
    "iso-2022-jp-2": "iso2022_jp_2",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "euc-jp": "euc_jis_2004",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "iso8859-1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "ansi_x3.4-1968": "cp1252",
    "iso-8859-9": "cp1254",
    "tis-620": "cp874",
    "iso-8859-11": "cp874",
    "unicode-1-1-utf-7": "utf-7",
    "utf8": "utf-8",
    "unknown-8bit": "utf-8",
    "x-unknown": "utf-8",
    "unknown": "utf-8",
    "default": "utf-8",
}

_UTF8 = "utf-8"
_WESTERN = "cp1252"
# Labels that say nothing about 8-bit bytes: a mail that declares them has no 8-bit charset.
_ASCII_LABELS = {"us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "us"}
# What the guess may choose from: the encodings mail is really written in (charset-normalizer
# otherwise weighs every codec Python has: HP Roman-8, Mac code pages, EBCDIC...).
MAIL_ENCODINGS = ["cp1252", "cp1250", "gb18030", "big5", "cp932", "euc_jp", "cp949", "cp1251", "koi8_r",
                  "cp1253", "cp1255", "cp1256", "cp874", "cp1254", "cp1257"]
# A guess of one of these means "Latin script": Windows-1252 reads it.
_LATIN_GUESSES = {"cp1252", "cp1250", "cp1254", "cp1257", "latin_1", "iso8859_15", "iso8859_2",
                  "iso8859_9", "iso8859_13", "iso8859_4", "iso8859_3", "mac_roman", "hp_roman8"}
# Fewer 8-bit bytes than this give a statistical guess nothing to go on.
GUESS_MIN_BYTES = 10
_HIGH = bytes(range(0x80, 0x100))
_SINGLE_BYTE = {"cp1252", "cp1250", "cp1254", "iso8859-15", "iso8859-2", "cp1257"}

# Labels whose real-world mail needs more than one codec to read fully.
_ALTERNATIVES: dict[str, tuple[str, ...]] = {
    # Microsoft writes NEC/IBM extensions inside ISO-2022-JP; JIS X 0213 covers many of them.
    "iso2022_jp_ext": ("iso2022_jp_ext", "iso2022_jp_2004", "iso2022_jp_2"),
    "euc_jis_2004": ("euc_jis_2004", "euc_jp"),
    "big5hkscs": ("big5hkscs", "cp950"),
}


@lru_cache(maxsize=256)
def codec_for(label: str | None) -> str | None:
    """Python codec name for a MIME charset label, or None when unknown."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    # Some mailers append junk after the label ("utf-8; format=flowed" seen unquoted).
    name = re.split(r"[\s;,]", name, maxsplit=1)[0]
    name = _SUPERSETS.get(name, name)
    if name.startswith("windows-") and name[8:].isdigit():
        name = "cp" + name[8:]
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    # Never let a label pick a non-text codec ("base64", "zlib"... are codecs too).
    if not getattr(info, "_is_text_encoding", True):
        return None
    return _SUPERSETS.get(info.name, info.name)


_UNPRINTABLE = bytes(range(0x00, 0x09)) + bytes(range(0x0E, 0x1A))  # not \t\n\v\f\r, SUB, ESC, FS..US
_BINARY_SHARE = 0.3
_WIDE_UNICODE = ["utf_16", "utf_16_le", "utf_16_be", "utf_32", "utf_32_le", "utf_32_be"]


def _strict(data: bytes, codec: str) -> str | None:
    for name in _ALTERNATIVES.get(codec, (codec,)):
        try:
            return data.decode(name)
        except Exception:  # noqa: BLE001 - exotic codecs can raise anything
            continue
    return None


def _detect(data: bytes) -> str | None:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # detection is a nicety: the latin-1 fallback still reads the bytes
        return None
    sample = data[:32768]  # a sample decides as well as the whole
    # Bytes that decode to unprintable C0 controls in every ASCII-compatible charset: when
    # they are a large share, only UTF-16/32 can be text, and asking about just those is
    # ~100x cheaper on binary labelled as text (the mess check would reject the rest anyway).
    binary = len(sample) - len(sample.translate(None, _UNPRINTABLE)) > len(sample) * _BINARY_SHARE
    try:
        best = from_bytes(sample, cp_isolation=_WIDE_UNICODE if binary else MAIL_ENCODINGS).best()
    except Exception:  # noqa: BLE001 - detection must never break parsing
        return None
    return best.encoding if best is not None else None


def _guess(data: bytes) -> str | None:
    """A non-Latin encoding the bytes are statistically written in, or None (too few 8-bit bytes
    to tell, or a Latin script, which Windows-1252 then reads)."""
    sample = data[:32768]
    binary = len(sample) - len(sample.translate(None, _UNPRINTABLE)) > len(sample) * _BINARY_SHARE
    if not binary and len(data) - len(data.translate(None, _HIGH)) < GUESS_MIN_BYTES:
        return None  # (control bytes everywhere: UTF-16/32 text is still worth asking about)
    guess = _detect(data)
    if guess is None or guess.replace("-", "_").lower() in _LATIN_GUESSES:
        return None
    return guess


def _western(data: bytes) -> str:
    """Windows-1252, with Latin-1 for the five bytes it leaves unassigned: never fails."""
    try:
        return data.decode(_WESTERN)
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _declared(data: bytes, charsets: Iterable[str]) -> str | None:
    """The bytes read strictly in the first of the message's own charsets that fits."""
    for label in charsets:
        if not label or label.strip().strip("\"'").lower() in _ASCII_LABELS:
            continue
        codec = codec_for(label)
        if codec is None or codec == _UTF8:
            continue
        text = _strict(data, codec)
        if text is not None:
            return text
    return None


_WIDE_UNITS = {"utf-16-le": 2, "utf-16-be": 2, "utf-16": 2, "utf-32-le": 4, "utf-32-be": 4, "utf-32": 4}


def _mostly_utf8(data: bytes) -> str | None:
    """UTF-8 with a few broken bytes, read with U+FFFD for them; None when the broken bytes
    outnumber the valid non-ASCII characters (then the label is wrong, not the bytes)."""
    text = data.decode(_UTF8, errors="replace")
    broken = text.count("\ufffd") - data.decode(_UTF8, errors="ignore").count("\ufffd")
    valid = sum(1 for ch in text if ch > "\x7f") - broken
    return text if valid >= broken else None


def decode_bytes(data: bytes, declared: str | None = None) -> tuple[str, str | None]:
    """Decode `data`; return (text, defect) where defect explains a fallback, else None."""
    if not data:
        return "", None
    codec = codec_for(declared)
    if codec is None and b"\x1b$" in data:
        codec = "iso2022_jp_ext"  # unlabelled JIS mail is still common in Japan
    if codec in _SINGLE_BYTE:
        if data.isascii():
            # These codecs agree with ASCII on its 128 bytes, and the ASCII decoder is many
            # times faster than a charmap one on big bodies.
            return data.decode("ascii"), None
        # Valid multi-byte UTF-8 almost never happens by chance in Latin text: a mail that
        # says "iso-8859-1" but decodes as UTF-8 is UTF-8 (webmail forms do this a lot).
        try:
            return data.decode(_UTF8), f"charset {declared!r} mislabelled, read as utf-8"
        except UnicodeDecodeError:
            pass
    if codec is not None:
        if codec in _WIDE_UNITS and len(data) % _WIDE_UNITS[codec]:
            # A dangling byte after the last whole code unit is a cut, not a wrong label.
            data = data[:len(data) - len(data) % _WIDE_UNITS[codec]]
        text = _strict(data, codec)
        if text is not None:
            return text, None
        if codec == _UTF8:
            text = _mostly_utf8(data)
            if text is not None:
                return text, "charset 'utf-8' had invalid bytes"
    if data.isascii() and not codec:
        return data.decode("ascii"), (f"unknown charset {declared!r}" if declared and codec is None else None)
    try:
        text = data.decode(_UTF8)
        why = f"charset {declared!r} mislabelled, read as utf-8" if declared else None
        return text, why
    except UnicodeDecodeError:
        pass
    guess = _guess(data)
    if guess:
        try:
            return data.decode(guess), f"charset {declared!r} undecodable, detected {guess}"
        except Exception:  # noqa: BLE001
            pass
    # A declared charset that almost fits beats a blind Windows-1252 read.
    if codec is not None:
        try:
            return data.decode(codec, errors="replace"), f"charset {declared!r} had invalid bytes"
        except Exception:  # noqa: BLE001
            pass
    return _western(data), f"charset {declared!r} undecodable, read as windows-1252"


def decode_header_bytes(data: bytes, declared: str | None = None, charsets: Iterable[str] = ()) -> str:
    """Text of raw header bytes: the encoded-word's `declared` charset, UTF-8, then `charsets`
    (those the message declares for its bodies), a guess when there is enough to guess from,
    and Windows-1252 last."""
    codec = codec_for(declared)
    if codec is None and b"\x1b" in data:
        codec = "iso2022_jp_ext"  # raw ISO-2022-JP: 7-bit, but it is no ASCII
    if codec is not None:
        text = _strict(data, codec)
        if text is not None:
            return text
    try:
        return data.decode(_UTF8)
    except UnicodeDecodeError:
        pass
    text = _declared(data, charsets)
    if text is not None:
        return text
    guess = _guess(data)
    if guess:
        try:
            return data.decode(guess)
        except Exception:  # noqa: BLE001
            pass
    if codec is not None:
        try:
            return data.decode(codec, errors="replace")
        except Exception:  # noqa: BLE001
            pass
    return _western(data)
