"""What the OpenAPI schema says about errors: the body every error has ({"error": {code, message}},
web/errors.py) and, per operation, each status it can answer.

Every API operation can answer 400 (a parameter the edge refuses, web/strict.py), 401 (no or a bad
token) and 403 (a role too low); `errors(...)` adds the statuses particular to an operation."""

from __future__ import annotations

import msgspec
from litestar.openapi.datastructures import ResponseSpec


class ErrorDetail(msgspec.Struct):
    code: str
    message: str


class ErrorBody(msgspec.Struct):
    """Some errors add fields beside code and message: `details` (which field failed validation),
    `problems` (what the channel objects to in a draft)."""

    error: ErrorDetail


DESCRIPTIONS = {
    400: "The request is malformed or a value is refused; the message says which and why.",
    401: "No API token, or one that is unknown or revoked.",
    403: "The token's agent lacks the role this needs.",
    404: "The resource does not exist (an id beyond the database's range included).",
    409: "The request conflicts with the current state (a duplicate name, a ticket claimed already...).",
    413: "The body is larger than [relaydesk] max_webhook_bytes (a reply: than its files allow), or a file "
         "is larger than the channel takes.",
    415: "A file of a type the ticket's channel does not send.",
    422: "The reply breaks the channel's rules; `problems` says what to change.",
}
ALWAYS = (400, 401, 403)


def errors(*codes: int) -> dict[int, ResponseSpec]:
    return {code: ResponseSpec(data_container=ErrorBody, description=DESCRIPTIONS[code], generate_examples=False)
            for code in sorted({*ALWAYS, *codes})}


def with_body(*codes: int) -> dict[int, ResponseSpec]:
    """For operations that take a JSON body (it may be too large)."""
    return errors(413, *codes)


__all__ = ["ErrorBody", "errors", "with_body"]
