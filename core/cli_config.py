"""Which plugins.toml the `relaydesk` command reads, and what it says about a plugin's command
when that plugin is not enabled there.

`--config PATH` (or `-c PATH`) is accepted before any command and after any command, built-in or
a plugin's; without it $RELAYDESK_CONFIG, then ./plugins.toml. The exit codes a plugin's command
cannot even start with follow sysexits(3), as mail transfer agents and service managers read them.
"""

from __future__ import annotations

import os
from typing import Any

import click

EX_USAGE = 64
EX_CONFIG = 78  # sysexits(3): "configuration error"; an MTA keeps the mail and retries
DEFAULT_CONFIG_PATH = "plugins.toml"


def default_path() -> str:
    return os.environ.get("RELAYDESK_CONFIG") or DEFAULT_CONFIG_PATH


def chosen_path(ctx: click.Context) -> str:
    """The config the root command was given (either place), else $RELAYDESK_CONFIG, else the default."""
    root = ctx.find_root()
    given = root.params.get("config") or root.meta.get("relaydesk.config")
    return given or default_path()


def take_config(args: list[str]) -> tuple[str | None, list[str]]:
    """Pull `--config PATH` / `--config=PATH` out of a plugin command's arguments (the plugin's
    own options do not know it). Returns (the path or None, the other arguments)."""
    path: str | None = None
    rest: list[str] = []
    skip = False
    for i, arg in enumerate(args):
        if skip:
            skip = False
            continue
        if arg == "--":
            rest.extend(args[i:])
            break
        if arg == "--config" and i + 1 < len(args):
            path, skip = args[i + 1], True
        elif arg.startswith("--config="):
            path = arg.split("=", 1)[1]
        else:
            rest.append(arg)
    return path, rest


def commands_of_disabled(enabled: list[str]) -> dict[str, tuple[str, Any]]:
    """Command name -> (plugin, click command) for the installed plugins not among `enabled`."""
    from core.plugins import _load, available_plugins

    found: dict[str, tuple[str, Any]] = {}
    for plugin, loader in available_plugins().items():
        if plugin in enabled:
            continue
        try:
            module = _load(loader)
        except Exception:  # noqa: BLE001 - a plugin that cannot load adds no command
            continue
        register = getattr(module, "register_commands", None)
        if register is None:
            continue
        commands: list[Any] = []
        try:
            register(register=commands.append)
        except Exception:  # noqa: BLE001
            continue
        for command in commands:
            found.setdefault(getattr(command, "name", None), (plugin, command))
    return found


def standalone_commands(enabled: list[str]) -> dict[str, Any]:
    """The commands of disabled plugins that run anyway (core.plugin_api.standalone_command)."""
    from core.plugin_api import STANDALONE

    return {name: command for name, (_, command) in commands_of_disabled(enabled).items()
            if getattr(command, STANDALONE, False)}


def plugin_for_command(name: str, enabled: list[str]) -> str | None:
    """The installed plugin, not among `enabled`, that would add the command `name`; None when
    no such plugin is installed (then the name is simply unknown)."""
    found = commands_of_disabled(enabled).get(name)
    return found[0] if found else None


def exit_for_disabled_command(ctx: click.Context, name: str, path: str, enabled: list[str] | None,
                              problem: str | None) -> None:
    """Exit with EX_CONFIG and say what to change when `name` is a command of a plugin that the
    config does not enable (or a config that cannot be read); return when `name` is unknown."""
    plugin = plugin_for_command(name, enabled or [])
    if plugin is None:
        return
    if problem:
        why = f"{path} could not be read ({problem})"
    else:
        why = f'the {plugin} plugin is not enabled in {path}: add "{plugin}" to enabled = [...] under [plugins]'
    click.echo(f"relaydesk {name}: {why}", err=True)
    ctx.exit(EX_CONFIG)



def secret_references(config_path: str) -> list[tuple[str, str]]:
    """(key, variable) for every `{ env = "NAME" }` in the config, in file order (the loader
    resolves them all, enabled plugin or not); [] when the file cannot be read."""
    import tomllib

    try:
        with open(config_path, "rb") as handle:
            raw = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError):
        return []
    found: list[tuple[str, str]] = []

    def walk(value: Any, key: str) -> None:
        if isinstance(value, dict):
            if set(value) == {"env"} and isinstance(value["env"], str):
                found.append((key, value["env"]))
                return
            for name, item in value.items():
                walk(item, f"{key}.{name}" if key else name)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{key}[{i}]")

    walk(raw, "")
    return found


def add_secret_placeholders(config_path: str, env_file: str) -> list[str]:
    """Append `NAME=` to the env file for every secret the config references that neither the file
    nor the environment sets; return those names. The desk then starts and says which value is
    missing, instead of failing on a variable nobody was told to set."""
    from pathlib import Path

    path = Path(env_file)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    known = {line.split("=", 1)[0].strip() for line in text.splitlines() if "=" in line and not line.startswith("#")}
    lines: list[str] = []
    added: list[str] = []
    for key, name in secret_references(config_path):
        if name in known or name in added or name in os.environ:
            continue
        lines += [f"# {key}: fill in", f"{name}="]
        added.append(name)
    if lines:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(("" if not text or text.endswith("\n") else "\n") + "\n".join(lines) + "\n")
        path.chmod(0o600)
    return added
