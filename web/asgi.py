"""The ASGI entry point for uvicorn: reads plugins.toml from $RELAYDESK_CONFIG."""

import os

from core.cli import load_env_file
from core.config import DEFAULT_CONFIG_PATH, load_settings
from web.app import create_app
from web.request_id import RequestIdMiddleware
from web.startup_guard import StartupGuard

load_env_file(os.environ.get("RELAYDESK_CONFIG", DEFAULT_CONFIG_PATH))
# Outermost: every request (a 404 too) gets its id; a failed start-up is one line, not a traceback.
app = StartupGuard(RequestIdMiddleware(create_app(load_settings())))
