"""Schemathesis against the kb plugin's API on each database (the same bounded run as
tests/web/test_api_schemathesis.py, limited to /api/v1/plugins/kb): no server error, no response
that breaks the schema, no status the schema does not list."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path
from typing import Any, Callable

import uvicorn

from tests.helpers import make_agent
from tests.plugins.kb.conftest import kb_desk
from tests.web.test_api_schemathesis import CHECKS
from web.app import create_app


async def test_kb_api_under_schemathesis(make_desk: Callable[..., Any], tmp_path: Path) -> None:
    desk = await kb_desk(make_desk)
    _, token = await make_agent("admin", email="schemathesis@example.com")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(desk=desk), lifespan="on", log_level="warning",
                                           proxy_headers=False, access_log=False))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            await asyncio.sleep(0.05)
        st = Path(sys.executable).with_name("schemathesis")
        proc = await asyncio.create_subprocess_exec(
            str(st), "run", f"http://127.0.0.1:{port}/api/v1/schema/openapi.json",
            "--include-path-regex", "^/api/v1/plugins/kb/",
            "--checks", CHECKS, "--max-examples", "15", "--max-time", "40", "--seed", "22",
            "--workers", "1", "--phases", "examples,coverage,fuzzing", "--no-shrink",
            "--suppress-health-check", "all", "--request-timeout", "10",
            "-H", f"Authorization: Bearer {token}", "--warnings", "off",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=tmp_path,
            env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": ""},
        )
        output, _ = await proc.communicate()
    finally:
        server.should_exit = True
        await serving
    text = output.decode(errors="replace")
    assert proc.returncode == 0, text[-20000:]
