"""Run the real app under uvicorn for browser tests: `python -m tests.e2e.serve CONFIG PORT`.
Migrates first, like `relaydesk serve` after `relaydesk migrate`."""

from __future__ import annotations

import sys

import uvicorn

from core.config import load_settings
from web.app import create_app

if __name__ == "__main__":
    config, port = sys.argv[1], int(sys.argv[2])
    uvicorn.run(create_app(load_settings(config), migrate=True), host="127.0.0.1", port=port, log_level="warning")
