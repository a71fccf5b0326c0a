"""HTML mail bodies: sanitize for display (nh3) and render as readable plain text."""

from __future__ import annotations

import re
from html import unescape

from core.plugin_api import sanitize_html as core_sanitize_html


def sanitize_html(html: str) -> str:
    """The HTML as the desk stores it (core.sanitize: no scripts, handlers, javascript: or relative
    URLs; cid: images kept), so what a mail shows here and in the inbox is the same."""
    try:
        return core_sanitize_html(html) or ""
    except Exception:  # noqa: BLE001 - nh3 rejects some inputs (e.g. NUL bytes)
        try:
            return core_sanitize_html(html.replace("\x00", "")) or ""
        except Exception:  # noqa: BLE001
            return ""


_SKIP = {"script", "style", "head", "title", "template", "noscript", "object", "svg", "xml"}
_LINE = {"div", "tr", "li", "dt", "dd", "header", "footer", "section", "article", "address",
         "caption", "form", "center", "nav", "aside", "main", "figure", "figcaption", "o:p"}
_PARA = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "dl", "pre", "hr",
         "blockquote", "body", "html"}
_CELL = {"td", "th"}
# The tags start() and end() act on; any other tag (span, font, b...) changes nothing.
_STARTS = _PARA | _LINE | _CELL | {"br", "a", "img"}
_ENDS = _PARA | _LINE | {"a"}
# Used as _WS.sub(" ", text): collapses each run of blanks to one space. Lone spaces, by far the
# most common run, are not matched at all: substituting each of them cost more than the rest.
_WS = re.compile(r" [ \t\r\n\f\v\u00a0\u200b]+|[\t\r\n\f\v\u00a0\u200b][ \t\r\n\f\v\u00a0\u200b]*")


# One pass of a C-speed regex instead of html.parser: ten times faster on the huge,
# tag-soup spam bodies real mailboxes receive, and just as forgiving.
_TOKEN = re.compile(
    r"<!--.*?(?:-->|\Z)"  # comment (unterminated ones run to the end)
    r"|<(/?)([a-zA-Z][a-zA-Z0-9:_-]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>"  # tag
    r"|<[!?][^>]*>",  # doctype, processing instruction, conditional comment
    re.S,
)
_ATTR = re.compile(r"""([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""")


def _attrs(raw: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in _ATTR.finditer(raw):
        value = m.group(2)
        if value[:1] in "\"'":
            value = value[1:-1]
        out.setdefault(m.group(1).lower(), unescape(value))
    return out


class _Renderer:
    def __init__(self) -> None:
        self.lines: list[tuple[int, str]] = []  # (quote depth, text)
        self.cur: list[str] = []
        self.depth = 0
        self.pre = 0
        self.links: list[tuple[str | None, int]] = []

    # -- line assembly -------------------------------------------------------------
    def _flush(self, force: bool = False) -> None:
        if not self.cur:  # most block tags follow another one: nothing to assemble
            if force:
                self.lines.append((self.depth, ""))
            return
        text = "".join(self.cur)
        if not self.pre:
            text = _WS.sub(" ", text).strip()
        self.cur.clear()  # the same list: feed() holds on to it
        if text or force:
            self.lines.append((self.depth, text))

    def _para(self) -> None:
        self._flush()
        if self.lines and self.lines[-1][1]:
            self.lines.append((self.depth, ""))

    # -- tags ------------------------------------------------------------------------
    def start(self, tag: str, raw_attrs: str) -> None:
        if tag == "br":
            self._flush(force=True)
        elif tag in _PARA:
            self._para()
            if tag == "blockquote":
                self.depth += 1
            elif tag == "pre":
                self.pre += 1
            elif tag == "hr":
                self.lines.append((self.depth, "----"))
        elif tag in _LINE:
            self._flush()
            if tag == "li":
                self.cur.append("- ")
        elif tag in _CELL:
            self.cur.append(" ")
        elif tag == "a":
            href = _attrs(raw_attrs).get("href") or None
            self.links.append((href, len("".join(self.cur))))
        elif tag == "img":
            alt = (_attrs(raw_attrs).get("alt") or "").strip()
            if alt:
                self.cur.append(f"[{alt}]")

    def end(self, tag: str) -> None:
        if tag in _PARA:
            self._flush()
            if tag == "blockquote" and self.depth:
                self.depth -= 1
            elif tag == "pre" and self.pre:
                self.pre -= 1
            self._para()
        elif tag in _LINE:
            self._flush()
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            self._link_suffix(href, start)

    def _link_suffix(self, href: str | None, start: int) -> None:
        if not href:
            return
        href = href.strip()
        if not href.lower().startswith(("http://", "https://", "mailto:", "tel:")):
            return
        line = "".join(self.cur)
        shown = _WS.sub(" ", line[start:] if start <= len(line) else line).strip()
        bare = href.split(":", 1)[1] if href.lower().startswith(("mailto:", "tel:")) else href
        if not shown or bare.rstrip("/") in shown:
            return  # the text already shows the address
        self.cur.append(f" ({href})")

    def data(self, text: str) -> None:
        if text:
            self.cur.append(unescape(text) if "&" in text else text)

    def feed(self, html: str) -> None:
        pos = 0
        lower: str | None = None
        search = _TOKEN.search
        cur = self.cur
        while True:
            m = search(html, pos)
            if m is None:
                break
            start = m.start()
            if start > pos:  # the text before the token (data(), inlined: this loop is hot)
                text = html[pos:start]
                cur.append(unescape(text) if "&" in text else text)
            pos = m.end()
            closing, name, attrs = m.groups()
            if name is None:
                continue
            tag = name.lower()
            if closing:
                if tag in _ENDS:
                    self.end(tag)
            elif tag in _SKIP:
                if attrs.rstrip().endswith("/"):
                    continue
                # Script and style bodies may hold "<" freely: jump to the end tag.
                if lower is None:
                    lower = html.lower()
                close = lower.find("</" + tag, pos)
                if close < 0:
                    if tag in ("script", "style"):
                        return  # never render code as text
                    continue  # an unclosed <title> or <head> hides nothing
                gt = html.find(">", close)
                pos = len(html) if gt < 0 else gt + 1
            elif tag in _STARTS:
                self.start(tag, attrs)
                if tag in ("a", "blockquote", "pre") and attrs.rstrip().endswith("/"):
                    self.end(tag)
        self.data(html[pos:])

    def render(self) -> str:
        self._flush()
        out: list[str] = []
        blank = True
        for depth, text in self.lines:
            if not text:
                if blank:
                    continue  # collapse runs of blank lines
                blank = True
            else:
                blank = False
            out.append("> " * depth + text if text else ">" * depth)
        return "\n".join(out).strip()


def html_to_text(html: str) -> str:
    """Readable text of an HTML body; blockquotes become '> ' quoted lines."""
    if not html:
        return ""
    renderer = _Renderer()
    try:
        renderer.feed(html)
    except Exception:  # noqa: BLE001 - keep whatever was rendered before it choked
        pass
    try:
        return renderer.render()
    except Exception:  # noqa: BLE001
        return _WS.sub(" ", re.sub(r"<[^>]*>", " ", html)).strip()
