"""What `relaydesk plugins` and `relaydesk secrets` read: every installed plugin, whether
plugins.toml enables it, and the secret settings the enabled ones declare. Works from the raw file,
before its secrets resolve, so it can say what is missing."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from typing import Any

import msgspec
import pluggy

from core import hookspecs
from core.config import SECRET_KEY_PATTERN


@dataclass
class Installed:
    name: str
    source: str  # "bundled", "core default" or "<distribution> <version>"
    enabled: bool
    configured: bool  # plugins.toml has a [plugins.<name>] section


@dataclass
class SecretSetting:
    plugin: str
    key: str  # the dotted key in plugins.toml
    variable: str  # the environment variable it reads (or should)
    referenced: bool  # plugins.toml already has `{ env = "..." }` for it
    required: bool


@dataclass
class Inventory:
    raw: dict[str, Any]
    plugins: list[Installed] = field(default_factory=list)


def read_raw(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def inventory(path: str) -> Inventory:
    from core.plugins import DEFAULT_PLUGINS, available_plugins

    raw = read_raw(path)
    section = raw.get("plugins") or {}
    enabled = section.get("enabled") or []
    found = Inventory(raw)
    for name in DEFAULT_PLUGINS:
        found.plugins.append(Installed(name, "core default", True, False))
    for name, loader in sorted(available_plugins().items()):
        if isinstance(loader, str):
            source = "bundled"
        else:
            dist = getattr(loader, "dist", None)
            source = f"{dist.name} {dist.version}" if dist else loader.value
        found.plugins.append(Installed(name, source, name in enabled, isinstance(section.get(name), dict)))
    return found


def _is_secret(name: str) -> bool:
    return bool(SECRET_KEY_PATTERN.search(name))


def _variable(plugin: str, account: str | None, key: str) -> str:
    parts = ["RELAYDESK", plugin, *([account] if account else []), key]
    return "_".join(p.upper().replace("-", "_").replace(".", "_") for p in parts)


def _secret_fields(struct: type) -> list[tuple[str, bool]]:
    """(field, required) for every field of a settings Struct named like a secret."""
    out = []
    for info in msgspec.structs.fields(struct):
        if _is_secret(info.encode_name):
            out.append((info.encode_name, info.required))
    return out


def secret_settings(path: str) -> list[SecretSetting]:
    """Every secret setting of every enabled plugin (plugin-wide and per account), with the variable
    plugins.toml points it at, or a suggested RELAYDESK_<PLUGIN>_<ACCOUNT>_<KEY> when it does not."""
    from core.plugins import _collect, _load, available_plugins

    raw = read_raw(path)
    plugins = raw.get("plugins") or {}
    available = available_plugins()
    pm = pluggy.PluginManager("relaydesk")
    pm.add_hookspecs(hookspecs)
    for name in plugins.get("enabled") or []:
        if name in available:
            pm.register(_load(available[name]), name=name)
    channels: dict[str, list[Any]] = {}
    for plugin, channel in _collect(pm, "register_channels"):
        channels.setdefault(plugin, []).append(channel)
    found: list[SecretSetting] = []

    def add(plugin: str, account: str | None, values: dict[str, Any], struct: type, prefix: str) -> None:
        for key, required in _secret_fields(struct):
            value = values.get(key)
            if isinstance(value, dict) and isinstance(value.get("env"), str):
                found.append(SecretSetting(plugin, f"{prefix}.{key}", value["env"], True, required))
            elif value is None:
                found.append(SecretSetting(plugin, f"{prefix}.{key}", _variable(plugin, account, key), False, required))

    for plugin, (name, struct) in _collect(pm, "register_settings"):
        section = plugins.get(name) or {}
        add(name, None, {k: v for k, v in section.items() if k != "accounts"}, struct, f"plugins.{name}")
    for plugin, types in channels.items():
        accounts = (plugins.get(plugin) or {}).get("accounts") or {}
        for account, values in accounts.items():
            if not isinstance(values, dict):
                continue
            wanted = values.get("type")
            channel = next((c for c in types if c.name == wanted), types[0])
            add(plugin, account, values, channel.account_settings, f"plugins.{plugin}.accounts.{account}")
    return found


def write_placeholders(env_file: str, settings: list[SecretSetting]) -> list[str]:
    """Append `NAME=` to the env file for every secret variable neither it nor the environment
    sets (required ones, and optional ones plugins.toml already references); returns the names."""
    from pathlib import Path

    path = Path(env_file)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    known = {line.split("=", 1)[0].strip() for line in text.splitlines() if "=" in line and not line.startswith("#")}
    lines: list[str] = []
    added: list[str] = []
    for item in settings:
        if item.variable in known or item.variable in added or item.variable in os.environ:
            continue
        if not (item.required or item.referenced):
            continue
        note = "fill in" if item.referenced else f'fill in, and add {item.key.rsplit(".", 1)[1]} = {{ env = "{item.variable}" }} under [{item.key.rsplit(".", 1)[0]}]'
        lines += [f"# {item.key}: {note}", f"{item.variable}="]
        added.append(item.variable)
    if lines:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(("" if not text or text.endswith("\n") else "\n") + "\n".join(lines) + "\n")
        path.chmod(0o600)
    return added
