"""The ASGI entry point for uvicorn: reads plugins.toml from $RELAYDESK_CONFIG."""

import os

from core.cli import load_env_file
from core.config import DEFAULT_CONFIG_PATH, load_settings
from web.app import create_app

load_env_file(os.environ.get("RELAYDESK_CONFIG", DEFAULT_CONFIG_PATH))
app = create_app(load_settings())
