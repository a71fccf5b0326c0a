"""The project's exceptions. Each carries a stable `code` that the web layer maps to a response."""

from __future__ import annotations


class RelaydeskError(Exception):
    """Base of every error Relaydesk raises on purpose."""

    code = "error"
    status_code = 500

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class ConfigError(RelaydeskError):
    """Bad configuration. Names the file, the key and the fix so start-up can say what to change."""

    code = "config_error"

    def __init__(self, file: str, key: str, problem: str, fix: str) -> None:
        self.file, self.key, self.problem, self.fix = file, key, problem, fix
        super().__init__(f"{file}: {key}: {problem}. Fix: {fix}")


class NotFound(RelaydeskError):
    code = "not_found"
    status_code = 404


class InvalidRequest(RelaydeskError):
    """The caller sent something we cannot accept; the message says why."""

    code = "invalid_request"
    status_code = 400


class Conflict(RelaydeskError):
    code = "conflict"
    status_code = 409


class Unauthorized(RelaydeskError):
    code = "unauthorized"
    status_code = 401


class Forbidden(RelaydeskError):
    code = "forbidden"
    status_code = 403


class SignatureInvalid(Unauthorized):
    """A webhook whose signature does not verify. Nothing in it is read."""

    code = "signature_invalid"


class PayloadTooLarge(RelaydeskError):
    code = "payload_too_large"
    status_code = 413


class UnsupportedType(RelaydeskError):
    """A file of a type the channel does not send (core.reply_files)."""

    code = "unsupported_attachment_type"
    status_code = 415


class Unavailable(RelaydeskError):
    """A dependency (the database, Redis) is down: the caller should try again shortly. Answered
    503 with Retry-After; nothing the caller sent was kept, so a retry loses nothing."""

    code = "unavailable"
    status_code = 503

    def __init__(self, message: str, *, dependency: str, retry_after: int = 5) -> None:
        super().__init__(message)
        self.dependency = dependency
        self.retry_after = retry_after
        self.extra = {"dependency": dependency}


class ChannelError(RelaydeskError):
    """A channel plugin failed to deliver or fetch.

    `retryable` tells the delivery job whether to back off and try again (timeouts, rate limits,
    5xx) or to mark the message failed for good (a rejected recipient, a closed messaging window).
    `platform_code` keeps the platform's own error code so the agent sees what the platform said.
    """

    code = "channel_error"
    status_code = 502

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        platform_code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.platform_code = platform_code
        self.retry_after = retry_after


class ReplyCollision(Conflict):
    """Someone else answered the ticket after the replying agent last looked (the reply's
    `seen_up_to`): nothing was sent. `newer` lists the ids of those replies, oldest first."""

    code = "reply_collision"

    def __init__(self, message: str, newer: list[int]) -> None:
        super().__init__(message)
        self.newer = newer
        self.extra = {"newer_message_ids": newer}


class DraftRejected(RelaydeskError):
    """A reply that breaks the rules of the conversation's far end (check_draft hooks). `problems`
    lists core.types.DraftProblem; each says what to change."""

    code = "draft_rejected"
    status_code = 422

    def __init__(self, message: str, problems: list) -> None:
        super().__init__(message)
        self.problems = problems
        self.extra = {"problems": [{"code": p.code, "message": p.message} for p in problems]}


def N_(message: str) -> str:
    """Mark `message` for translation without translating it (pybabel extracts N_ by default).
    The core speaks English; the web layer translates (web/i18n.py translate_error)."""
    return message


class Invalid(ValueError):
    """A validator's refusal whose text the inbox can show in the agent's language.

    `template` is the English message with {named} placeholders, marked with N_ so pybabel
    extracts it into web/translations; `params` fill the placeholders and are data (field paths,
    names, lists of keys), never translated. ``str(exc)`` is the English text, which the JSON API
    shows. Raise it like ``raise Invalid(N_("{where}: must be a non-empty text"), where=where)``;
    literal braces in a template are doubled, as with str.format.
    """

    def __init__(self, template: str, **params: object) -> None:
        self.template = template
        self.params = params
        super().__init__(template.format(**params))
