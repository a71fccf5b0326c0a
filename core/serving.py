"""Run the web processes under uvicorn, and exit non-zero when they cannot start.

With `--workers N` uvicorn's parent process starts N children; one that fails its start-up writes its
one-line reason to a file named here (web.startup_guard) and exits with uvicorn's start-up failure
code, on which uvicorn stops the others. The parent then prints that line and exits 1, so a service
manager sees the failure instead of a parent that lingers or exits 0.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import click

from core.logs import logging_config
from core.preflight import EXIT_UNAVAILABLE
from web.startup_guard import FAILURE_FILE_ENV


def run_uvicorn(config_path: str, *, host: str, port: int, workers: int, access_log: bool, log_format: str,
                **uvicorn_options: Any) -> None:
    """uvicorn.run for `relaydesk serve`; `uvicorn_options` go to uvicorn as they are."""
    import uvicorn

    os.environ["RELAYDESK_CONFIG"] = str(Path(config_path).resolve())
    fd, failure_file = tempfile.mkstemp(prefix="relaydesk-start-", suffix=".txt")
    os.close(fd)
    os.environ[FAILURE_FILE_ENV] = failure_file
    try:
        uvicorn.run("web.asgi:app", host=host, port=port, workers=workers, log_level="info", lifespan="on",
                    access_log=access_log, timeout_keep_alive=30, timeout_worker_healthcheck=60,
                    log_config=logging_config(log_format), **uvicorn_options)
        reason = Path(failure_file).read_text(encoding="utf-8").strip()
    finally:
        os.unlink(failure_file)
    if reason:
        click.echo(reason.splitlines()[0], err=True)
        sys.exit(EXIT_UNAVAILABLE)
