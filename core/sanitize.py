"""HTML from outside is sanitized on the way in (nh3) and escaped on the way out (jinja2)."""

from __future__ import annotations

import nh3

_ALLOWED_URL_SCHEMES = {"http", "https", "mailto", "tel", "cid"}


def sanitize_html(html: str | None) -> str | None:
    if not html:
        return None
    # url_relative="deny": relative and protocol-relative URLs (//host/...) are dropped; in the inbox
    # they would point at the desk itself, or at a host without saying how to reach it.
    return nh3.clean(html, url_schemes=_ALLOWED_URL_SCHEMES, link_rel="noopener noreferrer nofollow",
                     url_relative="deny")
