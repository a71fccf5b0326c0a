"""CSRF protection bound to the session, and a same-origin check, for the cookie-authenticated pages.

litestar's own CSRF middleware checks a double-submit cookie: a form token must match a cookie.
Anyone who can plant a cookie in the browser (a sibling subdomain, plain HTTP on the way) can plant
a pair of their own, and it would pass. Here the token is a random value kept in the server-side
session itself: a request passes only with the token of the session its cookie names, so a
planted cookie/token pair belongs to another session and is refused.

State-changing requests (anything but GET, HEAD, OPTIONS) must also not come from another site:
an Origin header naming a different origin (or "null"), or Sec-Fetch-Site: cross-site, is a 403
before the token is even read. Token-authenticated routes (/api/, /hooks/...) and routes that opt
out with opt={"exclude_from_csrf": True} (public forms, platform callbacks) are not checked.

Templates get the token as before: `csrf_token()` (litestar's template callable reads the scope).
"""

from __future__ import annotations

import hmac
import re
import secrets
from typing import Any
from urllib.parse import urlsplit

from litestar import Request
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from core.errors import Forbidden

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
SESSION_KEY = "csrf"
HEADER = "x-csrftoken"
FIELD = "_csrf_token"
_DEFAULT_PORTS = {"http": 80, "https": 443}


class CsrfRefused(Forbidden):
    code = "csrf_failed"


def origin_of(url: str) -> str | None:
    """scheme://host[:port] in lower case, default ports left out; None when it is not a URL."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    suffix = f":{port}" if port and port != _DEFAULT_PORTS[parts.scheme] else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{suffix}"


class SessionCsrfMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)
    exclude_opt_key = "exclude_from_csrf"

    def __init__(self, public_url: str, exclude: list[str]) -> None:
        self.public_origin = origin_of(public_url)
        excluded = re.compile("|".join(exclude))
        # by the request's path (litestar 3 matches exclude_path_pattern against route paths only)
        self.should_bypass_for_scope = lambda scope: bool(excluded.search(scope.get("path", "")))

    def allowed_origins(self, request: Request[Any, Any, Any]) -> set[str]:
        own = origin_of(f"{request.url.scheme}://{request.headers.get('host', '')}")
        return {o for o in (self.public_origin, own) if o}

    def check_origin(self, request: Request[Any, Any, Any]) -> None:
        if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
            raise CsrfRefused("this request came from another site")
        origin = request.headers.get("origin")
        if origin is not None and origin_of(origin) not in self.allowed_origins(request):
            raise CsrfRefused(f"this request came from another site ({origin[:100]})")

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        request: Request[Any, Any, Any] = Request(scope, receive)
        session = scope.get("session")
        session = session if isinstance(session, dict) else {}
        seed = session.get(SESSION_KEY)
        state = ScopeState.from_scope(scope)
        if request.method in SAFE_METHODS:
            if not isinstance(seed, str) or not seed:
                seed = secrets.token_urlsafe(32)
                scope["session"] = {**session, SESSION_KEY: seed}  # stored by the session middleware
            state.csrf_token = seed
            await next_app(scope, receive, send)
            return
        self.check_origin(request)
        given = request.headers.get(HEADER)
        if not given and request.content_type[0] in ("application/x-www-form-urlencoded", "multipart/form-data"):
            value = (await request.form()).get(FIELD)
            given = value if isinstance(value, str) else None
        if not (isinstance(seed, str) and seed and given and hmac.compare_digest(given.encode(), seed.encode())):
            raise CsrfRefused("the form's security token does not belong to this session; reload the page")
        state.csrf_token = seed
        await next_app(scope, receive, send)
