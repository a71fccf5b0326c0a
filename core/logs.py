"""Log lines for operators: text for a terminal, JSON (one object per line) for a log pipeline.

`relaydesk serve` and `relaydesk worker` take `--log-format text|json` (or RELAYDESK_LOG_FORMAT).
Every line written while a web request is handled carries that request's id (the X-Request-ID a
proxy sent, or one made here), so the access line, an error and the proxy's own log can be matched.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import time
import traceback
from datetime import datetime, timezone
from typing import Any

import click

FORMAT_ENV = "RELAYDESK_LOG_FORMAT"
LEVEL_ENV = "RELAYDESK_LOG_LEVEL"
FORMATS = ("text", "json")

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("relaydesk_request_id", default=None)

# Attributes every LogRecord has; anything else on a record came from `extra=` and is worth keeping.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "color_message"}


class TextFormatter(logging.Formatter):
    converter = time.gmtime  # UTC, like the JSON lines

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        rid = request_id.get()
        if rid:
            first, _, rest = line.partition("\n")
            line = f"{first} [request {rid}]" + (f"\n{rest}" if rest else "")
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        rid = request_id.get()
        if rid:
            out["request_id"] = rid
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            client, method, path, http_version, status = record.args
            out.update(client=client, method=method, path=path, status=int(status))
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in out and not key.startswith("_"):
                out[key] = value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)
        if record.exc_info:
            out["error"] = "".join(traceback.format_exception_only(*record.exc_info[:2])).strip()
            out["traceback"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(out, ensure_ascii=False, default=str)


# `serve` and `worker` take it.
log_format_option = click.option("--log-format", type=click.Choice(FORMATS), default=None,
                                 help="text (default, or $RELAYDESK_LOG_FORMAT) or json: one object per line.")


class DependencyOutageFilter(logging.Filter):
    """asyncpg's pool logs a WARNING with a full traceback each time it fails to restore its
    connections — about once a second per process while PostgreSQL is down. The first such line
    goes through, then one a minute with the count left out, each as one line without traceback."""

    def __init__(self, every: float = 60.0) -> None:
        super().__init__()
        self.every = every
        self.last = float("-inf")
        self.left_out = 0

    def filter(self, record: logging.LogRecord) -> bool:
        from core.outage import unavailable_dependency

        exc = record.exc_info[1] if record.exc_info else None
        if exc is None or not unavailable_dependency(exc):
            return True
        now = time.monotonic()
        if now - self.last < self.every:
            self.left_out += 1
            return False
        note = f" ({self.left_out} similar line(s) left out)" if self.left_out else ""
        record.msg = f"{record.getMessage()}: {type(exc).__name__}: {exc}{note}"
        record.args = None
        record.exc_info = None
        record.exc_text = None
        self.last, self.left_out = now, 0
        return True


def chosen_format(value: str | None = None) -> str:
    fmt = (value or os.environ.get(FORMAT_ENV) or "text").lower()
    return fmt if fmt in FORMATS else "text"


def logging_config(fmt: str = "text", level: str | None = None) -> dict[str, Any]:
    """A dictConfig for this process (and for uvicorn's, which applies it in every web process)."""
    level = (level or os.environ.get(LEVEL_ENV) or "INFO").upper()
    formatter = "core.logs.JsonFormatter" if fmt == "json" else "core.logs.TextFormatter"
    quiet = "WARNING" if level in ("INFO", "WARNING") else level
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"relaydesk": {"()": formatter}},
        "filters": {"outage": {"()": "core.logs.DependencyOutageFilter"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "relaydesk",
                                "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            # uvicorn's own loggers come through our handler, not uvicorn's default ones
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": level, "propagate": True},
            # arq logs two lines per job at INFO; its warnings and failed jobs still come through
            "arq": {"handlers": [], "level": quiet, "propagate": True},
            "piccolo": {"handlers": [], "level": quiet, "propagate": True},
            # a line per outgoing HTTP request (deliveries, platform APIs) is noise at 3 a.m.
            "httpx": {"handlers": [], "level": quiet, "propagate": True},
            "httpcore": {"handlers": [], "level": quiet, "propagate": True},
            # a traceback a second while PostgreSQL is down: one line a minute instead
            "asyncpg.pool": {"handlers": [], "filters": ["outage"], "propagate": True},
        },
    }


def configure(fmt: str | None = None, level: str | None = None) -> str:
    """Configure this process's logging; the choice goes to the environment so child processes
    (uvicorn's web processes) and create_app see it. Returns the format used."""
    import logging.config

    chosen = chosen_format(fmt)
    os.environ[FORMAT_ENV] = chosen
    logging.config.dictConfig(logging_config(chosen, level))
    return chosen


def configured_by_cli() -> bool:
    """True in a process whose logging the CLI set up: the web app then leaves the root logger alone."""
    return bool(os.environ.get(FORMAT_ENV))
