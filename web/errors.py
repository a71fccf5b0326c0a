"""The one place that turns exceptions into HTTP responses: JSON with a stable code."""

from __future__ import annotations

import logging

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from core.errors import RelaydeskError, Unavailable
from core.metrics import UNAVAILABLE
from core.outage import OutageLog, unavailable_dependency

log = logging.getLogger("relaydesk.web")
RETRY_AFTER_SECONDS = 5
# An outage is logged when this process first refuses a request for it, then once a minute with
# the count of refusals, never once per request.
_OUTAGES = {name: OutageLog(log, f"the {name}") for name in ("database", "redis")}

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


def as_unavailable(exc: Exception) -> Unavailable | None:
    """The one place that decides an error means "a dependency is down, try again" (a lost or
    refused connection of asyncpg, a locked or unreachable SQLite file, a Redis that does not
    answer): counted, logged once per outage, answered 503 with Retry-After."""
    if isinstance(exc, Unavailable):
        found: Unavailable | None = exc
    else:
        dependency = unavailable_dependency(exc)
        found = Unavailable(f"the {dependency} is unavailable; try again shortly", dependency=dependency,
                            retry_after=RETRY_AFTER_SECONDS) if dependency else None
    if found is not None:
        UNAVAILABLE.labels(dependency=found.dependency).inc()
        outage = _OUTAGES.get(found.dependency)
        if outage is not None:
            outage.failed(exc, "answering 503")
    return found


def unavailable_response(exc: Unavailable) -> Response:
    return Response(error_body(exc.code, exc.message, exc.extra), status_code=503,
                    headers={"retry-after": str(exc.retry_after)})


def relaydesk_error(request: Request, exc: RelaydeskError) -> Response:
    if isinstance(exc, Unavailable):
        return unavailable_response(as_unavailable(exc) or exc)
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
    unavailable = as_unavailable(exc)
    if unavailable is not None:
        return unavailable_response(unavailable)
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    return Response(error_body("internal_error", "something went wrong on our side; it has been logged"), status_code=500)


EXCEPTION_HANDLERS = {RelaydeskError: relaydesk_error, HTTPException: http_error, Exception: internal_error}
