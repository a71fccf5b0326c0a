"""Schemathesis against the live API on each database: every operation of the OpenAPI schema, with
valid and invalid data, over real HTTP (uvicorn on a loopback port in the test's own event loop, so
the desk's database pool is shared). Zero server errors, zero responses that break the schema, zero
statuses the schema does not list.

The run is bounded: a fixed seed, a few examples per operation and a time budget per database.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import uvicorn

from tests.helpers import make_agent
from web.app import create_app

CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"
MAX_EXAMPLES = "10"
MAX_SECONDS = "30"


async def test_schemathesis_finds_no_server_error_and_no_schema_violation(desk, tmp_path: Path):
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
            "--checks", CHECKS, "--max-examples", MAX_EXAMPLES, "--max-time", MAX_SECONDS, "--seed", "16",
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
