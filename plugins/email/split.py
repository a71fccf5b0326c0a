"""Split a raw mail into its MIME tree: header blocks, bodies and boundaries; never raises.

The tree is made of the stdlib's compat32 `Message` objects, so the rest of the plugin reads
parameters and headers through the usual API. The splitting itself is ours, because broken mail
needs one consistent reading and the stdlib's feedparser gives several (it ends an inner part at
any enclosing boundary, treats a header line without a colon as the start of the body, and keeps
the first of two Content-Type fields). The reading here is strict and predictable:

- A part ends at the next "--boundary" of its own multipart at the start of a line (RFC 2046: the
  same string in mid-line is text, unless no line starts with it: then the first one ends the
  part, as a writer that forgot a line break meant); enclosing boundaries mean nothing inside an open inner
  multipart (RFC 2046 forbids them there).
- A part whose boundary never comes back is *damaged*: its raw bytes become a text attachment, and
  the rest of the mail is its. A base64 body with characters outside the alphabet is damaged too.
- A multipart whose boundary never appears is one undivided text part.
- A header block ends at a blank line, and a line of only white space is blank too. A line that is
  no field (no colon, or a name with spaces) is skipped when more fields follow, or when a blank
  line still comes (a broken header line); otherwise the body starts with it: the sender left out
  the blank line (a MIME part's headers followed directly by its text and then the next delimiter
  line, or by the end of the mail), or a mail starts with no header at all. Of repeated
  Content-Type fields the last counts; white space after a field name is ignored.
- White-space-only lines before the first field of a mail are skipped (some gateways prepend one).

Parts carry two extra attributes: `source` (the raw bytes of an attached message) and `decoded`
(a base64 body decoded while its end was looked for), plus `damaged` and `unsplit` flags.
"""

from __future__ import annotations

import re
from email.message import Message

import pybase64

MAX_DEPTH = 40  # deeper nesting is an attack or a loop, not a mail
_WS = b" \t\r\x0c"  # white space that may lead a header line (a newline ends the block)
_B64_VALID = re.compile(rb"[A-Za-z0-9+/]*={0,3}")
_B64_NOISE = re.compile(rb"[ \t\r\n]+")
_B64_PIECES = re.compile(rb"([A-Za-z0-9+/]*)(=*)")
_B64_ALPHABET = re.compile(rb"[^A-Za-z0-9+/=\- \t\r\n]")
# A line that starts with a field name: printable ASCII but the colon, then optional blanks
# (RFC 5322 obs-fields allow them), then the colon.
_FIELD_LINE = re.compile(rb"[ \t]*[!-9;-~]+[ \t]*:")
_BOUNDARY_FALLBACK = re.compile(r'boundary\s*=\s*(?:"([^"]+)"|([^\s";]+))', re.I)
MESSAGE_TYPES = ("message/rfc822", "message/global")


def split_mail(raw: bytes) -> Message:
    """The MIME tree of a raw mail."""
    reader = _Reader(raw)
    start = 0
    if raw.startswith(b"From "):
        # An mbox envelope line ("From sender date", as an MTA pipe may prepend): no header field.
        start = raw.find(b"\n") + 1 or len(raw)
    start = reader.skip_blank_lead(start)
    root, _pos, _found = reader.entity(start, None, False, 0, top=True)
    if root is None:  # the header block ran to the end of the data
        root = _message(reader.last_fields)
        root._payload = ""
    return root


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.size = len(data)
        self.last_fields: list[tuple[str, str]] = []

    # -- header blocks -------------------------------------------------------------------

    def skip_blank_lead(self, pos: int) -> int:
        """Past white-space-only lines (at least one blank each) that come before a header field."""
        data, size = self.data, self.size
        start = pos
        while pos < size and data[pos] in b" \t":
            eol = data.find(b"\n", pos)
            if eol < 0 or data[pos:eol].strip(b" \t\r\x0c"):
                return start
            pos = eol + 1
        return pos if pos > start and _FIELD_LINE.match(data, pos) else start

    def _next_field(self, pos: int, marker: bytes | None) -> tuple[str, int]:
        """What ends a run of lines that are no fields, from `pos`: ("field", where the next
        header field starts), ("blank", where a blank line starts), or ("end", where the delimiter
        line of `marker` starts, or the end of the data)."""
        data, size = self.data, self.size
        while pos < size:
            eol = data.find(b"\n", pos)
            line = data[pos:eol if eol >= 0 else size]
            if not line.strip(_WS):
                return "blank", pos
            if _is_delimiter_line(line, marker):
                return "end", pos
            if _FIELD_LINE.match(line) and line.lstrip(b" \t")[:1] != b":":
                return "field", pos
            if eol < 0:
                return "end", size
            pos = eol + 1
        return "end", size

    def headers(self, pos: int, boundary: bytes | None = None,
                top: bool = False) -> tuple[list[tuple[str, str]], int, bool]:
        """(fields, where the body starts, whether the block ended before the data did).
        `boundary` is the enclosing multipart's: its delimiter line ends the block. `top`: the
        header of the mail itself."""
        data, size = self.data, self.size
        fields: list[tuple[str, str]] = []
        marker = b"--" + boundary if boundary is not None else None
        while True:
            line = pos
            while pos < size and data[pos] in _WS:
                pos += 1
            if pos >= size:
                return fields, size, False
            if data[pos] == 10:  # "\n": the blank line
                return fields, pos + 1, True
            eol = data.find(b"\n", pos)
            colon = data.find(b":", pos, eol if eol >= 0 else size)
            if colon < 0 or (colon > pos and not _is_field_name(data[pos:colon])):
                # No field. Skipped when more fields follow, or when a blank line still comes
                # (a broken header line); else the body starts here: the sender left out the
                # blank line. A mail (not a part) that starts with no field has no header at all.
                # The lines up to the stop are no fields either: skipping them all at once keeps
                # a long run of them linear.
                stop, at = self._next_field(eol + 1, marker) if eol >= 0 else ("end", size)
                if (stop == "end" and fields) or (top and not fields and stop != "field"):
                    return fields, line, True
                pos = at
                continue
            name = data[pos:colon].strip()
            if not name:
                # ": value" - the colon came before any name; the name is what follows it.
                pos = colon + 1
                continue
            end = self._field_end(colon + 1)
            value = data[colon + 1:end].lstrip(b" \t").rstrip(b"\r\n")
            fields.append((name.decode("ascii", "surrogateescape"),
                           value.decode("ascii", "surrogateescape")))
            pos = end

    def _field_end(self, pos: int) -> int:
        """Just past the last line of a field value (continuation lines start with a blank)."""
        data, size = self.data, self.size
        while True:
            eol = data.find(b"\n", pos)
            if eol < 0:
                return size
            pos = eol + 1
            if pos >= size or data[pos] not in b" \t":
                return pos
            # A continuation line of only white space is the blank line that ends the block.
            blank = pos
            while blank < size and data[blank] in _WS:
                blank += 1
            if blank >= size or data[blank] == 10:
                return pos

    # -- entities ------------------------------------------------------------------------

    def entity(self, pos: int, boundary: bytes | None, in_digest: bool,
               depth: int, top: bool = False) -> tuple[Message | None, int, bool]:
        """Read one entity (headers and body) starting at `pos`.

        Returns (the entity or None if its header block hit the end of the data, the position
        after it, whether it ended at `boundary` - False means the data ran out first and every
        enclosing multipart ends with it).
        """
        fields, pos, ok = self.headers(pos, boundary, top)
        if not ok:
            self.last_fields = fields
            return None, self.size, False
        msg = _message(fields)
        if in_digest:
            msg.set_default_type("message/rfc822")
        ctype = _content_type(msg)
        cte = str(msg.get("content-transfer-encoding", "")).strip().lower()

        if ctype.startswith("multipart/") and depth < MAX_DEPTH:
            own = _boundary(msg)
            if own is not None:
                marker = b"--" + own
                first = self.delimiter(marker, pos)
                if first >= 0:
                    msg.preamble = self.data[pos:first].decode("ascii", "surrogateescape") or None
                    return self._multipart(msg, first + len(marker), own, boundary,
                                           ctype == "multipart/digest", depth)
                msg.unsplit = True  # the boundary never appears: one undivided part
            # A multipart without a boundary parameter is read as one opaque part.
        elif ctype in MESSAGE_TYPES and cte not in ("base64", "quoted-printable") and depth < MAX_DEPTH:
            inner, end, found = self.entity(pos, boundary, False, depth + 1)
            if inner is None:
                # No header block ends before the data does: no message, only damaged text.
                msg.damaged = True
                msg.defects.append("attached message without a header block")
                msg._payload = self._unclosed_text(pos, boundary).decode("ascii", "surrogateescape")
                return msg, self.size, False
            msg._payload = [inner]
            inner.source = self.data[pos:self._content_end(pos, end, found, boundary)]
            return msg, end, found

        return self._leaf(msg, pos, boundary, cte)

    def _multipart(self, msg: Message, pos: int, own: bytes, boundary: bytes | None,
                   is_digest: bool, depth: int) -> tuple[Message, int, bool]:
        parts: list[Message] = []
        msg._payload = parts
        pos = self._after_delimiter(pos)
        while True:
            child, pos, found = self.entity(pos, own, is_digest, depth + 1)
            if child is not None:
                parts.append(child)
            if not found:
                return msg, self.size, False  # the data ran out inside this multipart
            closed, pos = self._is_close(pos)
            if closed:
                break
        # Closed: what follows up to the enclosing boundary is epilogue.
        if boundary is None:
            msg.epilogue = self.data[pos:].decode("ascii", "surrogateescape") or None
            return msg, self.size, False
        marker = b"--" + boundary
        at = self.delimiter(marker, pos)
        if at < 0:
            return msg, self.size, False
        return msg, at + len(marker), True

    def _leaf(self, msg: Message, pos: int, boundary: bytes | None,
              cte: str) -> tuple[Message, int, bool]:
        data = self.data
        if boundary is None:
            end, after, found = self.size, self.size, False
        else:
            marker = b"--" + boundary
            at = self.delimiter(marker, pos)
            if at < 0:
                # The boundary never returns: the part is damaged and the mail ends with it.
                # A cut base64 file still decodes to its first bytes (an image shows in part).
                msg.damaged = True
                msg.defects.append("part not closed by its boundary")
                msg._payload = data[pos:].decode("ascii", "surrogateescape")
                if cte == "base64":
                    decoded = decode_base64(data[pos:])
                    if decoded is not None:
                        msg.decoded = decoded
                return msg, self.size, False
            end, after, found = self._line_start_end(pos, at), at + len(marker), True
        body = data[pos:end]
        if cte == "base64":
            decoded = decode_base64(body)
            if decoded is None:
                msg.damaged = True
                msg.defects.append("base64 body with characters outside the alphabet")
            else:
                msg.decoded = decoded
        msg._payload = body.decode("ascii", "surrogateescape")
        return msg, after, found

    # -- boundaries ----------------------------------------------------------------------

    def delimiter(self, marker: bytes, pos: int) -> int:
        """Where the next `marker` at the start of a line is, from `pos` (which counts as a line
        start: a body begins on one). RFC 2046: only there is it a delimiter; in mid-line the
        same string is text. When no line starts with it, the first one in mid-line still ends
        the part (a writer that forgot the line break), else -1."""
        data = self.data
        first = at = data.find(marker, pos)
        while at > pos and data[at - 1] != 10:
            at = data.find(marker, at + 1)
        return at if at >= 0 else first

    def _line_start_end(self, pos: int, at: int) -> int:
        """Where a body ends when its delimiter starts at `at`: a delimiter at the start of a
        line takes the line break before it (RFC 2046); one in mid-line ends the body there."""
        data = self.data
        if at > pos and data[at - 1] == 10:
            at -= 1
            if at > pos and data[at - 1] == 13:
                at -= 1
        return at

    def _content_end(self, pos: int, end: int, found: bool, boundary: bytes | None) -> int:
        if not found or boundary is None:
            return end
        return self._line_start_end(pos, end - len(boundary) - 2)

    def _unclosed_text(self, pos: int, boundary: bytes | None) -> bytes:
        """The rest of the data, less a last delimiter line of `boundary` at its end."""
        text = self.data[pos:]
        if boundary is not None:
            at = text.rfind(b"--" + boundary)
            if at >= 0:
                text = text[:at]
                text = text[:-1] if text.endswith(b"\n") else text
                text = text[:-1] if text.endswith(b"\r") else text
        return text

    def _after_delimiter(self, pos: int) -> int:
        """Skip the rest of a delimiter line: blanks and one line break."""
        data, size = self.data, self.size
        while pos < size:
            ch = data[pos]
            if ch in b"\r \t":
                pos += 1
            elif ch == 10:
                return pos + 1
            else:
                return pos
        return pos

    def _is_close(self, pos: int) -> tuple[bool, int]:
        """After a delimiter: "--" closes the multipart; a line break or blanks lead to the next
        part's headers; anything else is read as part of those headers."""
        data = self.data
        head = data[pos:pos + 2]
        if head == b"--":
            return True, pos + 2
        if head == b"\r\n":
            return False, pos + 2
        if head[:1] == b"\n":
            return False, pos + 1
        if head[:1] and head[0] in b" \t\r\x0c":
            return False, self._after_delimiter(pos + 1)
        return False, pos


# -- helpers ----------------------------------------------------------------------------------

def _is_field_name(name: bytes) -> bool:
    """ASCII without blanks inside (trailing blanks allowed): "Subject", "X-Mailer ", not
    "Dear customer" (a body line with a colon in it). Cheaper than a regex on every field."""
    name = name.rstrip(b" \t")
    return name.isascii() and b" " not in name and b"\t" not in name


def _is_delimiter_line(line: bytes, marker: bytes | None) -> bool:
    """The whole line is `marker`, perhaps closing ("--"), perhaps with trailing blanks."""
    return marker is not None and line.startswith(marker) \
        and line[len(marker):].rstrip(b" \t\r") in (b"", b"--")


def _message(fields: list[tuple[str, str]]) -> Message:
    msg = Message()
    kept: list[tuple[str, str]] = []
    for name, value in fields:
        if name.lower() == "content-type":
            # Of repeated Content-Type fields the last counts (the earlier stay as X- fields).
            kept = [(f"X-Replaced-{n}" if n.lower() == "content-type" else n, v) for n, v in kept]
        kept.append((name, value))
    msg._headers = kept  # compat32 keeps (name, raw value) pairs; we fill them directly
    return msg


def _content_type(msg: Message) -> str:
    try:
        return msg.get_content_type().lower()
    except Exception:  # noqa: BLE001
        return "application/octet-stream"


def _boundary(msg: Message) -> bytes | None:
    try:
        value = msg.get_boundary()
    except Exception:  # noqa: BLE001
        value = None
    if value is None:
        # "multipart/mixed boundary=x" (no semicolon) and other shapes get_param cannot read.
        found = _BOUNDARY_FALLBACK.search(str(msg.get("content-type", "")))
        value = (found.group(1) or found.group(2)) if found else None
    if not value:
        return None
    # A quoted boundary folded across lines: unfolding drops the line break (RFC 5322 2.2.3).
    value = value.replace("\r", "").replace("\n", "")
    return value.encode("ascii", "surrogateescape") if value else None


def decode_base64(body: bytes) -> bytes | None:
    """Decode a base64 body; None when it holds characters outside the alphabet.

    Padding ends a group wherever it stands (several base64 runs may follow each other). An
    unpadded incomplete group is decoded when the body has no padding at all (encoders that
    leave it out); after padded runs it is noise, and dropped.
    """
    compact = _B64_NOISE.sub(b"", body)
    if _B64_VALID.fullmatch(compact):
        data = compact.rstrip(b"=")
        if len(data) == len(compact) and len(data) % 4 == 1:
            data = data[:-1]  # a lone trailing character carries no whole byte
        return _b64_run(data, True)
    if _B64_ALPHABET.search(compact) or b"--" in compact:
        return None
    compact = compact.replace(b"-", b"")
    out = []
    for run, pad in _B64_PIECES.findall(compact):
        if run or pad:
            out.append(_b64_run(run, bool(pad)))
    return b"".join(out)


def _b64_run(run: bytes, padded: bool) -> bytes:
    whole = len(run) - len(run) % 4
    out = pybase64.b64decode(run[:whole]) if whole else b""
    rest = run[whole:]
    if not rest or not padded:
        return out
    # A padded partial group: one or two bytes (a lone character still yields its top bits).
    value = 0
    for ch in rest:
        value = (value << 6) | _B64_VALUE[ch]
    value <<= 6 * (4 - len(rest))
    tail = value.to_bytes(3, "big")
    return out + tail[: 1 if len(rest) < 3 else 2]


_B64_VALUE = {ch: i for i, ch in enumerate(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}
