"""Strict input at the edge, in one middleware every route passes through, before any handler reads
or queries anything:

- a path id (a parameter named id or *_id) outside the database's range names no row: 404
  (core.bounds);
- a control character in a query parameter or a path segment: 400 (NUL cannot even be stored in
  PostgreSQL text; the others have no place in a tag, an email or a cursor);
- a JSON body nested deeper than core.jsonsafe.MAX_DEPTH: 400, on every route, webhooks included
  (the parsers recurse per level);
- a JSON or form body whose text holds a control character other than tab, newline and carriage
  return: 400 (API and inbox; webhooks keep what the platform sent, their plugins decide). A
  multipart form (the reply with files) is checked by its handler with check_form_text.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, unquote_to_bytes

from litestar import Request
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from core import jsonsafe
from core.bounds import in_id_range
from core.errors import InvalidRequest, NotFound

BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
WEBHOOKS = "/hooks/"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_BODY_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# a \u escape of a control character that is not preceded by an odd number of backslashes
_JSON_CONTROL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u00(?:0[0-8bBcCeEfF]|1[0-9a-fA-F]|7[fF])")


def check_path(scope: Scope) -> None:
    for name, value in (scope.get("path_params") or {}).items():
        is_id = name == "id" or name.endswith("_id")  # row ids; other numbers (an index) are the handler's
        if is_id and isinstance(value, int) and not isinstance(value, bool) and not in_id_range(value):
            raise NotFound(f"{name} {value} does not exist")
        if isinstance(value, str) and _CONTROL.search(value):
            raise NotFound("no such page")


def check_query(scope: Scope) -> None:
    raw = scope.get("query_string") or b""
    if not raw:
        return
    for pair in raw.split(b"&"):
        key, _, value = pair.partition(b"=")
        for part in (key, value):
            text = unquote(part.replace(b"+", b" ").decode("latin-1"), encoding="utf-8", errors="replace")
            if _CONTROL.search(text):
                name = unquote(key.decode("latin-1"))[:40]
                raise InvalidRequest(f"query parameter {_printable(name)!r} holds a control character")


def check_body(body: bytes, content_type: str, *, text_rules: bool) -> None:
    if jsonsafe.looks_like_json(body):
        try:
            jsonsafe.check_depth(body)
        except jsonsafe.TooDeep as exc:
            raise InvalidRequest(str(exc)) from None
        if text_rules and (_JSON_CONTROL_ESCAPE.search(body) or _BODY_CONTROL.search(body)):
            raise InvalidRequest("the body holds a control character (only tab, newline and carriage return "
                                 "are taken in text)")
    elif text_rules and content_type.startswith("application/x-www-form-urlencoded"):
        if _BODY_CONTROL.search(unquote_to_bytes(body.replace(b"+", b" "))):
            raise InvalidRequest("the form holds a control character (only tab, newline and carriage return "
                                 "are taken in text)")


def check_form_text(form: Any) -> None:
    """The text fields of a multipart form (the reply with files), by the body rule above: the
    middleware does not parse multipart bodies, so the handler that reads one calls this."""
    items = form.multi_items() if hasattr(form, "multi_items") else form.items()
    for name, value in items:
        if isinstance(value, str) and _BODY_CONTROL.search(value.encode("utf-8", "surrogatepass")):
            raise InvalidRequest(f"the form field {_printable(str(name))[:40]!r} holds a control character "
                                 "(only tab, newline and carriage return are taken in text)")


def _printable(text: str) -> str:
    return _CONTROL.sub("?", text)


class StrictInputMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        path = scope.get("path", "")
        webhook = path.startswith(WEBHOOKS)
        check_path(scope)
        if not webhook:
            check_query(scope)
        if scope.get("method") in BODY_METHODS:
            request: Request[Any, Any, Any] = Request(scope, receive)
            body = await request.body()  # cached on the scope: the handler reads the same bytes
            if body:
                check_body(body, request.headers.get("content-type", "").lower(), text_rules=not webhook)
        await next_app(scope, receive, send)
