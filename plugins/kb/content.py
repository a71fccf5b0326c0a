"""Article bodies: Markdown to HTML, and every body sanitized with nh3 before it is stored.

Articles are written by staff but shown to the public and pasted into replies, and an import
folder can come from anywhere: the same allow-list applies to all of them. Relative links stay (an
article links to another article of the help center); scripts, event handlers, styles, frames,
forms and javascript:/data: URLs go.
"""

from __future__ import annotations

import re

import nh3

MAX_BODY = 500_000  # characters of HTML in one translation
MAX_TITLE = 300
_SCHEMES = {"http", "https", "mailto", "tel"}
_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details", "div", "dl", "dt",
    "em", "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li",
    "mark", "ol", "p", "pre", "s", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody",
    "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
_ATTRIBUTES = {
    "a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan", "scope"}, "ol": {"start"},
    "*": {"id", "lang", "dir"},
}
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")


def sanitize(html: str) -> str:
    return nh3.clean(html or "", tags=_TAGS, attributes=_ATTRIBUTES, url_schemes=_SCHEMES,
                     link_rel="noopener noreferrer", strip_comments=True)


def markdown_to_html(text: str) -> str:
    """CommonMark (with tables and strikethrough) to HTML; raw HTML inside is kept here and then
    goes through sanitize() like any body."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(text or "")


def plain_text(html: str) -> str:
    """The words of a body, for search terms and excerpts."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", html or "", flags=re.S | re.I)
    text = re.sub(r"<[^>]+>", " ", text)
    import html as html_module

    return re.sub(r"\s+", " ", html_module.unescape(text)).strip()


def normalize_language(code: str) -> str | None:
    """'zh', 'en', 'pt-BR', 'zh_Hans'... as a lower-case tag; None when it is not one."""
    value = (code or "").strip().replace("_", "-").lower()
    return value if LANGUAGE.fullmatch(value) else None


def slugify(text: str, fallback: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", (text or "").lower()).strip("-")[:80].strip("-")
    return slug or fallback
