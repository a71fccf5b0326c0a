"""`relaydesk demo`: registered through register_commands and marked standalone, because it writes
its own plugins.toml (the demo plugin is enabled there, not in the desk's)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import click

from core.plugin_api import load_env_file, run_web, standalone_command


@click.command(name="demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--dir", "directory", default="relaydesk-demo", show_default=True, help="Where the demo keeps its files.")
def demo(host: str, port: int, directory: str) -> None:
    """Start an embedded desk (SQLite, jobs in-process) with sample customers and live traffic."""
    from plugins.demo.setup import prepare_demo

    config, token = asyncio.run(prepare_demo(Path(directory), port))
    click.echo(f"Demo desk at http://{host}:{port}  API token: {token}")
    click.echo(f"Try: curl -H 'Authorization: Bearer {token}' http://{host}:{port}/api/v1/tickets")
    os.environ["RELAYDESK_CONFIG"] = str(config)
    load_env_file(str(config))
    run_web(host, port)


standalone_command(demo)
