"""A web process that cannot start says why in one line and exits at once.

`relaydesk serve` checks the database, Redis, the data folder and the port before it starts
uvicorn, but a web process can still fail in its own start-up (Redis gone a second later, a plugin's
startup hook). Litestar reports that as a traceback; this ASGI wrapper turns it into the same one
line the CLI prints. Under `serve --workers N` the process also writes the line to the file the
parent named in RELAYDESK_STARTUP_FAILURE_FILE and exits at once with uvicorn's start-up failure
code, so the parent stops its other processes and exits too instead of waiting on a dying child.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from core.preflight import debug_enabled, one_line

FAILURE_FILE_ENV = "RELAYDESK_STARTUP_FAILURE_FILE"
STARTUP_FAILURE = 3  # uvicorn's exit code for "failed before serving": its supervisor stops then


def _leaf(exc: BaseException) -> BaseException:
    """The first real error inside the exception groups task groups wrap it in."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


class StartupGuard:
    def __init__(self, app: Any) -> None:
        self.app = app

    def __getattr__(self, name: str) -> Any:  # app.state, app.plugins... stay reachable
        return getattr(self.app, name)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        held: list[dict[str, Any]] = []

        async def hold_failure(message: dict[str, Any]) -> None:
            if message.get("type") == "lifespan.startup.failed" and not debug_enabled():
                held.append(message)  # sent once the exception itself is known
                return
            await send(message)

        try:
            await self.app(scope, receive, hold_failure)
        except BaseException as exc:
            if not held:
                raise
            line = f"relaydesk serve: cannot start: {one_line(_leaf(exc))}"
            await send({"type": "lifespan.startup.failed", "message": line})
            failure_file = os.environ.get(FAILURE_FILE_ENV)
            if failure_file:
                with open(failure_file, "a", encoding="utf-8") as out:
                    out.write(line + "\n")
                logging.shutdown()
                os._exit(STARTUP_FAILURE)
            raise
