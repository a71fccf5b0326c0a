"""The one place that turns exceptions into HTTP responses: JSON with a stable code."""

from __future__ import annotations

import logging

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from core.errors import RelaydeskError

log = logging.getLogger("relaydesk.web")

_HTTP_CODES = {
    400: "invalid_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
    429: "rate_limited", 503: "unavailable",
}


def error_body(code: str, message: str, extra: dict | None = None) -> dict:
    body = {"error": {"code": code, "message": message}}
    if extra:
        body["error"].update(extra)
    return body


def relaydesk_error(request: Request, exc: RelaydeskError) -> Response:
    if exc.status_code >= 500:
        log.error("%s on %s: %s", exc.code, request.url.path, exc.message)
    return Response(error_body(exc.code, exc.message, getattr(exc, "extra", None)), status_code=exc.status_code)


def http_error(request: Request, exc: HTTPException) -> Response:
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    if exc.status_code >= 500:  # litestar's own 500s (a broken dependency, say) are bugs too
        log.error("%s on %s: %s", exc.status_code, request.url.path, exc.detail, exc_info=exc)
    extra = None
    if isinstance(exc, ValidationException) and exc.extra:
        extra = {"details": exc.extra}
    return Response(error_body(code, exc.detail, extra), status_code=exc.status_code, headers=exc.headers)


def internal_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    return Response(error_body("internal_error", "something went wrong on our side; it has been logged"), status_code=500)


EXCEPTION_HANDLERS = {RelaydeskError: relaydesk_error, HTTPException: http_error, Exception: internal_error}
