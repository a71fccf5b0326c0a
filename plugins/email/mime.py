"""Walk a parsed MIME tree: pick the text and HTML bodies and the attachments.

The body/attachment split follows the JMAP algorithm (RFC 8621 section 4.1.4), which is what
mail clients converge on: text or HTML parts not marked as attachments are bodies; the first
displayable version of each alternative wins; inline media between text parts stay inline.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass, field
from email.message import Message

from .charsets import decode_bytes, decode_header_bytes
from .headers import clean_line, decode_header
from .split import decode_base64

MAX_DEPTH = 40  # deeper nesting is an attack or a loop, not a mail


@dataclass(slots=True)
class Leaf:
    part: Message
    content_type: str
    disposition: str | None
    filename: str | None


@dataclass(slots=True)
class Structure:
    text_body: list[Leaf] | None = field(default_factory=list)
    html_body: list[Leaf] | None = field(default_factory=list)
    attachments: list[Leaf] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    recovered: list[Message] = field(default_factory=list)  # damaged parts, kept as attachments


def _inline_media(content_type: str) -> bool:
    return content_type.startswith(("image/", "audio/", "video/"))


def content_type_of(part: Message) -> str:
    try:
        return part.get_content_type().lower()
    except Exception:  # noqa: BLE001
        return "application/octet-stream"


def param_of(part: Message, name: str, header: str = "content-type") -> str | None:
    try:
        value = part.get_param(name, header=header)
    except Exception:  # noqa: BLE001
        return None
    if value is None:
        return None
    if isinstance(value, tuple):
        # RFC 2231 "charset''percent-encoded": the stdlib leaves the bytes as Latin-1 text.
        charset, _lang, text = value
        try:
            return decode_header_bytes(text.encode("latin-1", "replace"), charset)
        except Exception:  # noqa: BLE001
            return str(text)
    return str(value)


def filename_of(part: Message) -> str | None:
    raw = param_of(part, "filename", "content-disposition") if "content-disposition" in part else None
    raw = raw or (param_of(part, "name") if "name" in str(part.get("content-type", "")).lower() else None)
    if raw is None:
        return None
    # Many mailers put RFC 2047 words (or raw UTF-8) in parameters; decode them too.
    return clean_line(decode_header(raw)) or None


def disposition_of(part: Message) -> str | None:
    try:
        value = part.get("content-disposition")
    except Exception:  # noqa: BLE001
        return None
    if not value:
        return None
    return str(value).split(";", 1)[0].strip().lower() or None


def _leaf(part: Message, content_type: str) -> Leaf:
    return Leaf(part, content_type, disposition_of(part), filename_of(part))


def walk(msg: Message) -> Structure:
    out = Structure()
    text_body: list[Leaf] = []
    html_body: list[Leaf] = []
    try:
        if msg.is_multipart():
            subtype = content_type_of(msg).split("/", 1)[-1]
            _walk(_subparts(msg), subtype, subtype == "alternative", html_body, text_body, out, 1)
        else:
            _walk([msg], "message", False, html_body, text_body, out, 1)
    except RecursionError:
        out.defects.append("MIME structure too deep; stopped walking")
    out.text_body, out.html_body = text_body, html_body
    return out


def _subparts(part: Message) -> list[Message]:
    payload = part.get_payload()
    return [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []


def _walk(parts: list[Message], multipart_type: str, in_alternative: bool,
          html_body: list[Leaf] | None, text_body: list[Leaf] | None, out: Structure,
          depth: int) -> None:
    # text_body/html_body are None inside an alternative once the other version was chosen;
    # that choice is local to this subtree, as in the RFC's algorithm.
    if depth > MAX_DEPTH:
        out.defects.append("MIME structure too deep; inner parts ignored")
        return
    text_len = len(text_body) if text_body is not None else -1
    html_len = len(html_body) if html_body is not None else -1
    for i, part in enumerate(parts):
        ctype = content_type_of(part)
        damaged = getattr(part, "damaged", False)
        if damaged and depth == 1 and multipart_type == "message" and ctype == "text/plain":
            damaged = False  # a message that is one unclosed text: still its text
        if damaged or (ctype.startswith("multipart/") and not part.is_multipart()):
            # What could not be read as declared (an unclosed or undecodable part, a multipart
            # whose boundary never came) is kept whole as a text attachment.
            if getattr(part, "decoded", None) is not None and not ctype.startswith("multipart/"):
                out.defects.append(f"{ctype} part cut short; kept as far as it goes")
                out.attachments.append(Leaf(part, ctype, "attachment", filename_of(part)))
            else:
                out.defects.append(f"{ctype} part kept as a text attachment")
                out.attachments.append(Leaf(part, "text/plain", "attachment", filename_of(part)))
                out.recovered.append(part)
            continue
        if ctype.startswith("multipart/"):
            sub = ctype.split("/", 1)[1]
            _walk(_subparts(part), sub, in_alternative or sub == "alternative", html_body, text_body,
                  out, depth + 1)
            continue
        leaf = _leaf(part, ctype)
        is_inline = (
            leaf.disposition != "attachment"
            and (ctype in ("text/plain", "text/html") or _inline_media(ctype))
            and (i == 0 or (multipart_type != "related" and (_inline_media(ctype) or not leaf.filename)))
        )
        if not is_inline:
            out.attachments.append(leaf)
            continue
        if multipart_type == "alternative":
            if ctype == "text/plain":
                if text_body is not None:
                    text_body.append(leaf)
            elif ctype == "text/html":
                if html_body is not None:
                    html_body.append(leaf)
            else:
                out.attachments.append(leaf)
            continue
        if in_alternative:
            if ctype == "text/plain":
                html_body = None
            elif ctype == "text/html":
                text_body = None
        if text_body is not None:
            text_body.append(leaf)
        if html_body is not None:
            html_body.append(leaf)
        if (text_body is None or html_body is None) and _inline_media(ctype):
            out.attachments.append(leaf)
    if multipart_type == "alternative" and text_body is not None and html_body is not None:
        # Only one version was found: it serves as both.
        if text_len == len(text_body) and html_len != len(html_body):
            text_body.extend(html_body[html_len:])
        if html_len == len(html_body) and text_len != len(text_body):
            html_body.extend(text_body[text_len:])


def payload_bytes(part: Message, defects: list[str]) -> bytes:
    """The transfer-decoded bytes of a leaf part; whatever could be read.

    Decoded here rather than by get_payload(decode=True): the stdlib ignores an encoding
    label with trailing blanks ("quoted-printable   ") and gives up on bad base64 padding.
    """
    decoded = getattr(part, "decoded", None)  # base64 the splitter already decoded
    if decoded is not None:
        return decoded
    # The raw payload: get_payload() would already turn 8-bit bytes into U+FFFD.
    payload = getattr(part, "_payload", None)
    if payload is None:
        payload = part.get_payload()
    if isinstance(payload, list) or payload is None:
        return b""
    if isinstance(payload, bytes):
        data = payload
    else:
        try:
            data = payload.encode("ascii", "surrogateescape")
        except UnicodeEncodeError:
            data = payload.encode("utf-8", "surrogateescape")
    if getattr(part, "damaged", False):
        return data  # what could not be decoded is kept as it came
    cte = str(part.get("content-transfer-encoding", "")).strip().lower()
    try:
        if cte == "base64":  # parts from split_mail come decoded; this serves any other
            decoded = decode_base64(data)
            return decoded if decoded is not None else data
        if cte == "quoted-printable":
            return binascii.a2b_qp(data)
        if cte in ("x-uuencode", "uuencode", "x-uue", "uue"):
            decoded = part.get_payload(decode=True)
            return decoded if isinstance(decoded, bytes) else data
    except Exception as exc:  # noqa: BLE001
        defects.append(f"undecodable {cte} body ({type(exc).__name__})")
    return data


def part_text(part: Message, defects: list[str]) -> str:
    """Decoded text of a text/* leaf, charset repaired when mislabelled."""
    data = payload_bytes(part, defects)
    ctype_header = str(part.get("content-type", "")).lower()
    charset = param_of(part, "charset") if "charset" in ctype_header else None
    text, problem = decode_bytes(data, charset)
    if problem:
        defects.append(problem)
    if "\r" in text:  # one fast scan; the two replaces scan twice even when there is nothing
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "flowed" in ctype_header and (param_of(part, "format") or "").lower() == "flowed":
        text = unflow(text, (param_of(part, "delsp") or "").lower() == "yes")
    return text


def unflow(text: str, delsp: bool) -> str:
    """Join RFC 3676 format=flowed soft line breaks (lines ending in a space)."""
    out: list[str] = []
    buf = ""
    for line in text.split("\n"):
        if line.startswith(" "):
            line = line[1:]  # space-stuffing
        if line == "-- " or not line.endswith(" "):
            out.append(buf + line)
            buf = ""
        else:
            buf += line[:-1] if delsp else line
    if buf:
        out.append(buf)
    return "\n".join(out)
