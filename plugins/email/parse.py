"""Parse one raw RFC 5322 mail into what the desk needs; never raises.

`parse_email` is the entry point; `to_inbound` turns its result into the core's InboundMessage.
"""

from __future__ import annotations

import hashlib
import html as html_lib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from core.plugin_api import InboundAttachment, InboundMessage

from . import flags
from .attachments import sanitize_filename, unpack_tnef
from .charsets import decode_bytes
from .headers import clean_line, decode_header
from .html_text import html_to_text, sanitize_html
from .mime import Leaf, Structure, content_type_of, param_of, part_text, payload_bytes, walk
from .quotes import visible_text as fold_quotes
from .split import MESSAGE_TYPES, split_mail

DEFAULT_MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
MAX_REFERENCES = 100
# Raw header values kept for later use (threading audits, loop detection, debugging).
KEPT_HEADERS = ("message-id", "in-reply-to", "references", "reply-to", "return-path", "sender",
                "auto-submitted", "precedence", "list-id", "list-unsubscribe", "x-mailer",
                "user-agent", "delivered-to", "x-original-to", "content-type", "x-spam-status")
_FORWARD_SUBJECT = re.compile(r"^\s*(fwd?|fw|wg|tr|rv|enc|i|转发|轉寄|転送)\s*[:：]", re.I)
_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")


@dataclass(slots=True)
class ParsedEmail:
    message_id: str
    subject: str = ""
    from_name: str | None = None
    from_email: str = ""
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    date: datetime | None = None
    # The text body as the MIME structure gives it (attached messages follow as forward blocks).
    text: str = ""
    # What the desk shows: `text`, or when that is blank the HTML's text, or else the text
    # recovered from damaged parts (which are attachments, as they could not be read as sent).
    readable_text: str = ""
    # The HTML body as received: untrusted, never to be shown; `html` is the sanitized copy.
    unsafe_html: str | None = None
    visible_text: str = ""
    attachments: list[InboundAttachment] = field(default_factory=list)
    is_auto_reply: bool = False
    is_bounce: bool = False
    bounce_original_message_id: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    defects: list[str] = field(default_factory=list)
    _html: str | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def html(self) -> str | None:
        """The HTML body sanitized for display (nh3), made on first use: the desk itself never
        asks, as the core sanitizes the HTML it stores (to_inbound hands it unsafe_html)."""
        if not self.unsafe_html:
            return None
        if self._html is None:
            self._html = sanitize_html(self.unsafe_html)
        return self._html


def synthetic_message_id(raw: bytes) -> str:
    """Stable id for mail without one: the same bytes always thread the same way."""
    return f"<{hashlib.sha256(raw).hexdigest()}@relaydesk.invalid>"


# -- message-level parsing ----------------------------------------------------------------

def _header_map(msg: Message) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    try:
        items = msg.raw_items() if hasattr(msg, "raw_items") else msg.items()
        for name, value in items:
            out.setdefault(str(name).strip().lower(), []).append(str(value))
    except Exception:  # noqa: BLE001
        pass
    return out


class DeclaredCharsets:
    """The charsets a message declares for its parts, to read raw 8-bit header bytes with;
    collected on first use (only a header that is neither ASCII nor UTF-8 asks)."""

    __slots__ = ("_msg", "_found")

    def __init__(self, msg: Message) -> None:
        self._msg = msg
        self._found: list[str] | None = None

    def __iter__(self) -> Iterator[str]:
        if self._found is None:
            found: list[str] = []
            try:
                for part in self._msg.walk():
                    label = param_of(part, "charset")
                    if label and label.lower() not in found:
                        found.append(label.lower())
            except Exception:  # noqa: BLE001 - a broken tree declares what was read so far
                pass
            self._found = found
        return iter(self._found)


def _first(headers: dict[str, list[str]], name: str) -> str:
    values = headers.get(name)
    return values[0] if values else ""


def _addresses(raw_values: list[str], charsets: Iterable[str] = ()) -> list[tuple[str, str]]:
    """(display name, lower-cased address) pairs; tolerant of broken syntax."""
    out: list[tuple[str, str]] = []
    for raw in raw_values:
        raw = raw.replace("\r", "").replace("\n", " ")
        try:
            pairs = getaddresses([raw])
        except Exception:  # noqa: BLE001
            pairs = []
        read: list[tuple[str, str]] = []
        misread = False
        for name, addr in pairs:
            addr = decode_header(addr, charsets).strip().strip("<>").lower()
            # Local-only addresses count when bracketed ("Moderator <moderator>").
            if addr and " " not in addr and ("@" in addr or f"<{addr}>" in raw.lower()):
                local, _, domain = addr.rpartition("@")
                if "@" in addr and (not local or not domain):
                    misread = True  # "a@x.example b@y.example" reads as "@y.example"
                    continue
                read.append((clean_line(decode_header(name, charsets)), addr))
        if read and not misread:
            out.extend(read)
            continue
        # "John Doe john@example.com", bare addresses without commas, and other shapes
        # getaddresses misreads: the addresses in the text, the rest is the name.
        text = decode_header(raw, charsets)
        found = [m.group(0) for m in _EMAIL.finditer(text)]
        rest = text
        for addr in found:
            rest = rest.replace(addr, "")
        name = clean_line(rest.replace("<>", "").strip(" \"'<>,"))
        out.extend((name if len(found) == 1 else "", addr.lower()) for addr in found)
        if not found:
            out.extend(read)
    return out


def _msgids(value: str) -> list[str]:
    ids = re.findall(r"<[^<>\s]+>", value or "")
    if not ids and value and value.strip():
        # Bare ids without angle brackets: accept the tokens that look like ids.
        ids = [f"<{tok.strip(',;')}>" for tok in value.split() if "@" in tok]
    return ids


def _date(headers: dict[str, list[str]], defects: list[str]) -> datetime | None:
    value = clean_line(decode_header(_first(headers, "date")))
    source = "Date"
    if not value:
        # No Date: the newest Received line still says when the mail arrived.
        received = _first(headers, "received")
        value = received.rsplit(";", 1)[-1].strip() if ";" in received else ""
        source = "Received"
        if not value:
            return None
    try:
        parsed = parsedate_to_datetime(value)
    except Exception:  # noqa: BLE001
        defects.append(f"unparseable {source} date {value[:60]!r}")
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)  # "-0000" means UTC, origin unknown
    return parsed


# -- bodies ------------------------------------------------------------------------------

@dataclass(slots=True)
class _Bodies:
    text: str = ""
    readable: str = ""
    html: str | None = None
    attachments: list[InboundAttachment] = field(default_factory=list)
    raw_html: str = ""  # unsanitized, only to see which cid: images are referenced


def _leaf_text(leaf: Leaf, defects: list[str], html_cache: dict[int, str],
               rendered: list[tuple[str, str]]) -> str:
    try:
        if leaf.content_type == "text/html":
            source = html_cache.get(id(leaf.part))
            if source is None:
                source = html_cache[id(leaf.part)] = part_text(leaf.part, defects)
            text = html_to_text(source)
            rendered.append((source, text))
            return text
        if leaf.content_type.startswith("text/"):
            return part_text(leaf.part, defects)
    except Exception as exc:  # noqa: BLE001
        defects.append(f"text part unreadable ({type(exc).__name__})")
    return ""


def _bodies(msg: Message, structure: Structure, defects: list[str], max_bytes: int,
            depth: int, is_report: bool) -> _Bodies:
    out = _Bodies()
    html_cache: dict[int, str] = {}
    rendered: list[tuple[str, str]] = []  # (HTML source, its text)
    text_leaves = structure.text_body or []
    html_leaves = structure.html_body or []
    texts = (_leaf_text(leaf, defects, html_cache, rendered) for leaf in text_leaves)
    out.text = "\n".join(t for t in texts if t)

    if any(leaf.content_type == "text/html" for leaf in html_leaves):
        chunks: list[str] = []
        for leaf in html_leaves:
            try:
                if leaf.content_type == "text/html":
                    source = html_cache.get(id(leaf.part))
                    if source is None:
                        source = html_cache[id(leaf.part)] = part_text(leaf.part, defects)
                    chunks.append(source)
                elif leaf.content_type == "text/plain":
                    chunks.append(f"<pre>{html_lib.escape(part_text(leaf.part, defects))}</pre>")
                elif leaf.content_type.startswith("image/"):
                    cid = _content_id(leaf.part)
                    if cid and f"cid:{cid}" not in "".join(chunks):
                        chunks.append(f'<img src="cid:{html_lib.escape(cid)}">')
            except Exception as exc:  # noqa: BLE001
                defects.append(f"html part unreadable ({type(exc).__name__})")
        out.raw_html = "\n".join(chunks)
    out.readable = out.text
    if not out.text.strip() and out.raw_html:
        # Some mailers send an empty text version beside the HTML one: show the HTML's text.
        # Rendering the same single source again (to nothing, again) is the common case here.
        again = next((text for source, text in rendered if source == out.raw_html), None)
        out.readable = html_to_text(out.raw_html) if again is None else again
    if not out.readable.strip() and structure.recovered:
        recovered = (part_text(part, defects) for part in structure.recovered)
        out.readable = "\n\n".join(t.strip("\n") for t in recovered if t.strip())

    # Inline media shown in the bodies are attachments to us too (the desk stores the files).
    seen: set[int] = set()
    leaves = [leaf for leaf in text_leaves + html_leaves if not leaf.content_type.startswith("text/")]
    for leaf in leaves + structure.attachments:
        if depth:
            # An attached message keeps its files (and the messages attached to it) inside its
            # .eml: only its own text is shown.
            continue
        if id(leaf.part) in seen:
            continue
        seen.add(id(leaf.part))
        _attach(leaf, out, defects, max_bytes, depth, is_report)
    return out


def _content_id(part: Message) -> str | None:
    try:
        value = part.get("content-id")
    except Exception:  # noqa: BLE001
        return None
    if not value:
        return None
    cid = clean_line(decode_header(value)).strip("<> ")
    return cid or None


def _attach(leaf: Leaf, out: _Bodies, defects: list[str], max_bytes: int, depth: int,
            is_report: bool) -> None:
    part, ctype = leaf.part, leaf.content_type
    index = len(out.attachments) + 1
    try:
        if ctype in MESSAGE_TYPES:
            _attach_message(leaf, out, defects, max_bytes, depth, is_report)
            return
        data = payload_bytes(part, defects)
        name = leaf.filename
        if len(data) > max_bytes:
            defects.append(f"attachment {name or ctype!r} dropped: {len(data)} bytes > {max_bytes}")
            return
        if ctype in ("application/ms-tnef", "application/vnd.ms-tnef") or (name or "").lower() == "winmail.dat":
            inner = unpack_tnef(data, max_bytes, defects)
            if inner is not None:
                out.attachments.extend(inner)
                return
        cid = _content_id(part)
        referenced = bool(cid) and f"cid:{cid}" in out.raw_html
        inline = bool(cid) and (leaf.disposition != "attachment" or referenced)
        out.attachments.append(InboundAttachment(
            filename=sanitize_filename(name, ctype, index), content_type=ctype, data=data,
            content_id=cid, inline=inline))
    except Exception as exc:  # noqa: BLE001
        defects.append(f"attachment {index} unreadable ({type(exc).__name__})")


def _inner_message(part: Message, defects: list[str]) -> Message | None:
    payload = part.get_payload()
    if isinstance(payload, list):
        return payload[0] if payload and isinstance(payload[0], Message) else None
    # Base64 or quoted-printable: not allowed by RFC 2046, but sent anyway. Decode, then read
    # the message they hide.
    data = payload_bytes(part, defects)
    if not data.strip():
        return None
    inner = split_mail(data)
    inner.source = data
    return inner


def _attach_message(leaf: Leaf, out: _Bodies, defects: list[str], max_bytes: int, depth: int,
                    is_report: bool) -> None:
    """A message/rfc822 part: keep it as an .eml and show a forward's content in the text."""
    inner = _inner_message(leaf.part, defects)
    if inner is None:
        return
    data: bytes = inner.source  # the attached message's bytes as they came (set by split_mail's reader)
    inner_parsed = _parse_message(inner, data, max_bytes, depth + 1)
    if len(data) <= max_bytes:
        stem = leaf.filename or (inner_parsed.subject[:80] + ".eml" if inner_parsed.subject else None)
        out.attachments.append(InboundAttachment(
            filename=sanitize_filename(stem, "message/rfc822", len(out.attachments) + 1),
            content_type="message/rfc822", data=data))
    else:
        defects.append(f"attached message dropped: {len(data)} bytes > {max_bytes}")
    if is_report or not (inner_parsed.from_email or inner_parsed.subject or inner_parsed.readable_text.strip()):
        return  # a bounce's copy of our mail is evidence; one without sender, subject or text is none
    block = _forward_block(inner_parsed)
    out.text = f"{out.text}\n\n{block}" if out.text else block
    out.readable = f"{out.readable}\n\n{block}" if out.readable else block
    if out.raw_html:
        inner_html = inner_parsed.html or f"<pre>{html_lib.escape(inner_parsed.readable_text)}</pre>"
        head = html_lib.escape(block.split("\n\n", 1)[0]).replace("\n", "<br>")
        out.raw_html += f"<hr><p>{head}</p>{inner_html}"


def _forward_block(inner: ParsedEmail) -> str:
    who = f"{inner.from_name} <{inner.from_email}>" if inner.from_name else inner.from_email
    lines = ["---------- Forwarded message ---------", f"From: {who}"]
    if inner.date:
        lines.append(f"Date: {inner.date.strftime('%a, %d %b %Y %H:%M:%S %z')}")
    lines.append(f"Subject: {inner.subject}")
    if inner.to:
        lines.append(f"To: {', '.join(inner.to)}")
    return "\n".join(lines) + "\n\n" + inner.readable_text


# -- bounces -------------------------------------------------------------------------------

def _bounce_original_id(msg: Message, text: str, defects: list[str]) -> str | None:
    try:
        for part in msg.walk():
            ctype = content_type_of(part)
            if ctype == "message/rfc822":
                payload = part.get_payload()
                if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                    found = flags.first_msgid(decode_header(payload[0].get("message-id", "")))
                    if found:
                        return found
            elif ctype in ("text/rfc822-headers", "message/rfc822-headers", "message/delivery-status"):
                body, _ = decode_bytes(payload_bytes(part, defects), param_of(part, "charset"))
                body = re.sub(r"\r?\n[ \t]+", " ", body)
                found = flags.original_id_in_text(body, any_message_id=ctype != "message/delivery-status")
                if found:
                    return found
    except Exception as exc:  # noqa: BLE001
        defects.append(f"bounce report unreadable ({type(exc).__name__})")
    # Non-standard bounces quote the original headers in their text.
    return flags.original_id_in_text(text, any_message_id=True)


# -- assembly ---------------------------------------------------------------------------------

def _parse_message(msg: Message, raw: bytes, max_bytes: int, depth: int = 0) -> ParsedEmail:
    defects: list[str] = []
    headers = _header_map(msg)

    message_id = flags.first_msgid(decode_header(_first(headers, "message-id")))
    if not message_id:
        bare = clean_line(decode_header(_first(headers, "message-id")))
        message_id = f"<{bare.strip('<>')}>" if bare and " " not in bare else None
    if not message_id:
        defects.append("no Message-ID; synthesized from content")
        # Only the outer mail's id is ever used; hashing an attached message would be wasted.
        message_id = synthetic_message_id(raw) if depth == 0 else ""

    charsets = DeclaredCharsets(msg)
    subject = clean_line(decode_header(_first(headers, "subject"), charsets))
    sender = _addresses(headers.get("from") or headers.get("sender") or headers.get("return-path") or [], charsets)
    from_name, from_email = sender[0] if sender else ("", "")
    if not sender:
        defects.append("no readable sender address")
        # "From: Whomever": keep the name so the agent sees who it claims to be.
        from_name = clean_line(decode_header(_first(headers, "from"), charsets))[:200]

    in_reply_to_ids = _msgids(decode_header(_first(headers, "in-reply-to")))
    references = _msgids(" ".join(decode_header(v) for v in headers.get("references", [])))
    references = list(dict.fromkeys(references))[-MAX_REFERENCES:]

    parsed = ParsedEmail(
        message_id=message_id,
        subject=subject,
        from_name=from_name or None,
        from_email=from_email,
        in_reply_to=in_reply_to_ids[0] if in_reply_to_ids else None,
        references=references,
        to=[addr for _, addr in _addresses(headers.get("to", []), charsets)],
        cc=[addr for _, addr in _addresses(headers.get("cc", []), charsets)],
        date=_date(headers, defects),
        headers={name: clean_line(decode_header(_first(headers, name), charsets))[:2000]
                 for name in KEPT_HEADERS if name in headers},
        defects=defects,
    )

    ctype = content_type_of(msg)
    is_report = ctype == "multipart/report" and (param_of(msg, "report-type") or "").lower() == "delivery-status"
    structure = walk(msg)
    defects.extend(structure.defects)
    bodies = _bodies(msg, structure, defects, max_bytes, depth, is_report)
    parsed.text = bodies.text.strip("\n")
    parsed.readable_text = bodies.readable.strip("\n")
    parsed.unsafe_html = bodies.raw_html or None
    parsed.attachments = bodies.attachments
    if depth:
        return parsed  # an attached message: its forward block uses the above, nothing below
    parsed.visible_text = fold_quotes(parsed.readable_text, forwarded=bool(_FORWARD_SUBJECT.match(subject)))

    # A bounce by its structure (a delivery-status report) or a known bounce format; never by
    # the sender's address alone.
    null_sender = any(v.strip() == "<>" for v in headers.get("return-path", ()))
    parsed.is_bounce = is_report or flags.is_bounce_notice(from_email, null_sender, subject, parsed.readable_text)
    if parsed.is_bounce:
        parsed.bounce_original_message_id = _bounce_original_id(msg, parsed.readable_text, defects)
    parsed.is_auto_reply = parsed.is_bounce or flags.is_auto_reply(headers, subject)

    for part in msg.walk():
        for defect in getattr(part, "defects", ()):
            defects.append(defect if isinstance(defect, str) else type(defect).__name__)
    parsed.defects = list(dict.fromkeys(defects))
    return parsed


def parse_email(raw: bytes, *, max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES) -> ParsedEmail:
    """Parse a raw mail; a broken mail still yields what could be read, with `defects`."""
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raw = str(raw).encode("utf-8", "surrogateescape")
    raw = bytes(raw)
    defects: list[str] = []
    try:
        msg = split_mail(raw)
        parsed = _parse_message(msg, raw, max_attachment_bytes)
        parsed.defects[:0] = defects
        return parsed
    except Exception as exc:  # noqa: BLE001 - the contract: never raise, salvage the text
        text, _ = decode_bytes(raw)
        return ParsedEmail(
            message_id=synthetic_message_id(raw), text=text, readable_text=text, visible_text=text,
            defects=defects + [f"unparseable mail ({type(exc).__name__}: {exc})"[:300]],
        )


def to_inbound(parsed: ParsedEmail) -> InboundMessage:
    """The core's view of a parsed mail."""
    # Oldest first, the direct parent last (the order of a References header): the core threads
    # on any of them, and the outbound side rebuilds the References chain from this list.
    refs = [r for r in parsed.references if r != parsed.in_reply_to]
    if parsed.in_reply_to:
        refs.append(parsed.in_reply_to)
    metadata: dict[str, object] = {"to": list(parsed.to), "cc": list(parsed.cc)}
    if parsed.visible_text != parsed.readable_text:
        metadata["original_text"] = parsed.readable_text
    return InboundMessage(
        external_id=parsed.message_id,
        sender_handle=parsed.from_email,
        sender_email=parsed.from_email or None,
        sender_name=parsed.from_name,
        subject=parsed.subject,
        text=parsed.visible_text or parsed.readable_text,
        html=_html_for_core(parsed),
        references=list(dict.fromkeys(refs)),
        sent_at=parsed.date,
        attachments=list(parsed.attachments),
        is_auto_reply=parsed.is_auto_reply,
        metadata=metadata,
    )


def _html_for_core(parsed: ParsedEmail) -> str | None:
    """The HTML to hand the core, which sanitizes it with nh3 before storing (as for every
    channel): sanitizing here too would run nh3 twice on each HTML mail."""
    unsafe = parsed.unsafe_html
    if not unsafe:
        return None
    try:
        unsafe.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates (a UTF-7 or escape-codec body can decode to them) make nh3 raise,
        # which would fail the store: they become U+FFFD.
        return unsafe.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return unsafe
