"""Browser defenses sent with every response: a strict Content-Security-Policy, no framing, no
sniffing, no referrer to other sites.

Scripts come only from our origin (`script-src 'self'`: no inline script, no inline handler, no eval;
htmx runs with allowEval=false, see templates/base.html). Live updates use a same-origin SharedWorker
(`worker-src 'self'`). Images are ours or data: URIs; a remote image in a customer's mail is not loaded
by the browser. The one exception is the Swagger UI page under the OpenAPI path, a vendor page that
needs its CDN and an inline bootstrap script; it shows the schema and no customer data.
"""

from __future__ import annotations

from typing import Any

POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "worker-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
SWAGGER_CDN = "https://cdn.jsdelivr.net"
SWAGGER_POLICY = "; ".join([
    "default-src 'self'",
    f"script-src 'self' 'unsafe-inline' {SWAGGER_CDN}",
    f"style-src 'self' 'unsafe-inline' {SWAGGER_CDN}",
    f"img-src 'self' data: {SWAGGER_CDN}",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
])


def headers_for(path: str, openapi_path: str) -> list[tuple[bytes, bytes]]:
    swagger = path.startswith(openapi_path) and path.rstrip("/").endswith("/swagger")
    return [
        (b"content-security-policy", (SWAGGER_POLICY if swagger else POLICY).encode()),
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
    ]


class SecurityHeadersMiddleware:
    """A plain ASGI middleware so every response gets the headers, error pages and static files too.
    A header the handler set itself is kept."""

    def __init__(self, app: Any, openapi_path: str = "/api/v1/schema") -> None:
        self.app = app
        self.openapi_path = openapi_path

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = headers_for(scope.get("path", ""), self.openapi_path)

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message = {**message, "headers": [*message.get("headers", []),
                                                   *(h for h in extra if h[0] not in present)]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
