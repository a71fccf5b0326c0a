"""Settings from plugins.toml and the environment.

Secrets are written as `{ env = "NAME" }` and resolved here; a literal secret is refused for keys
named like secrets so nobody commits a token by accident. Every problem raises ConfigError naming
the file, the key and the fix.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from core.errors import ConfigError

DEFAULT_CONFIG_PATH = "plugins.toml"
SECRET_KEY_PATTERN = re.compile(r"(secret|password|token|api_key)$")


@dataclass(slots=True)
class PluginConfig:
    name: str
    settings: dict[str, Any] = field(default_factory=dict)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(slots=True)
class Settings:
    path: str
    database: str = "sqlite:///relaydesk.db"
    redis: str | None = None
    timezone: str = "UTC"
    secret: str = ""
    data_dir: str = "data"
    public_url: str = "http://127.0.0.1:8000"
    max_webhook_bytes: int = 1_048_576
    # The files of one reply together (inbox upload or API): a desk-wide cap on top of each channel's
    # own ChannelLimits, so one request never holds more than this in memory (core.reply_files).
    max_reply_files_bytes: int = 25_000_000
    # Seconds a delivery job may hold an outbox row before the sweeper hands it to another run.
    delivery_lease_seconds: float = 60.0
    sweep_interval_seconds: float = 5.0
    poll_interval_seconds: float = 60.0
    # With Redis (jobs on workers): /ready answers 503 when no worker has beaten for this long.
    worker_heartbeat_timeout_seconds: float = 30.0
    # After SIGTERM/SIGINT a worker's running jobs get this long to finish before they are handed back.
    worker_stop_grace_seconds: float = 6.0
    # A job whose worker died (kill -9, a lost machine) is run by another worker this long after the
    # dead one last refreshed its claim (core.job_claims); a live worker refreshes it 3 times as often.
    job_handover_seconds: float = 10.0
    queue_name: str = "relaydesk"
    # Addresses or networks the outbound URL guard lets the desk call although they are not public
    # (loopback, private...): core.urlguard. Empty: only public addresses.
    outbound_allowlist: list[str] = field(default_factory=list)
    # Proxies whose X-Forwarded-For the desk believes (web.client_address). Empty: the peer is the client.
    trusted_proxies: list[str] = field(default_factory=list)
    # [relaydesk.retention]: per channel type, erase or anonymize solved tickets after N days (core.retention).
    retention: dict[str, Any] = field(default_factory=dict)
    enabled: list[str] = field(default_factory=list)
    plugins: dict[str, PluginConfig] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def is_postgres(self) -> bool:
        return self.database.startswith(("postgres://", "postgresql://"))


_RELAYDESK_KEYS: dict[str, type] = {
    "database": str,
    "redis": str,
    "timezone": str,
    "secret": str,
    "data_dir": str,
    "public_url": str,
    "max_webhook_bytes": int,
    "max_reply_files_bytes": int,
    "delivery_lease_seconds": float,
    "sweep_interval_seconds": float,
    "poll_interval_seconds": float,
    "worker_heartbeat_timeout_seconds": float,
    "worker_stop_grace_seconds": float,
    "job_handover_seconds": float,
    "queue_name": str,
    "outbound_allowlist": list,
    "trusted_proxies": list,
    "retention": dict,
}

# Environment variables that override [relaydesk] keys, so one plugins.toml serves several machines.
ENV_OVERRIDES = {
    "RELAYDESK_DATABASE": "database",
    "RELAYDESK_REDIS": "redis",
    "RELAYDESK_SECRET": "secret",
    "RELAYDESK_DATA_DIR": "data_dir",
    "RELAYDESK_PUBLIC_URL": "public_url",
    "RELAYDESK_QUEUE_NAME": "queue_name",
}


def resolve_secrets(value: Any, file: str, key: str) -> Any:
    """Replace every `{ env = "NAME" }` in a parsed TOML tree with the variable's value."""
    if isinstance(value, dict):
        if set(value) == {"env"}:
            name = value["env"]
            if name not in os.environ:
                raise ConfigError(
                    file, key, f"environment variable {name} is not set",
                    f"export {name}=... before starting, or remove the key",
                )
            return os.environ[name]
        return {k: resolve_secrets(v, file, f"{key}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_secrets(v, file, f"{key}[{i}]") for i, v in enumerate(value)]
    return value


def _refuse_literal_secrets(value: Any, file: str, key: str) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            if SECRET_KEY_PATTERN.search(k) and isinstance(v, str) and v:
                raise ConfigError(
                    file, f"{key}.{k}", "a secret is written as a literal",
                    f'write it as {k} = {{ env = "SOME_VARIABLE" }} and set the variable',
                )
            _refuse_literal_secrets(v, file, f"{key}.{k}")


def load_settings(path: str | os.PathLike[str] | None = None, *, environ: dict[str, str] | None = None) -> Settings:
    """Read plugins.toml (or `path`, or $RELAYDESK_CONFIG) into Settings."""
    env = os.environ if environ is None else environ
    file = str(path or env.get("RELAYDESK_CONFIG") or DEFAULT_CONFIG_PATH)
    try:
        text = Path(file).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(file, "(file)", "the file does not exist", "run `relaydesk init` to write one") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(file, "(syntax)", str(exc), "correct the TOML syntax at that line") from None
    return settings_from_dict(raw, file, env)


def settings_from_dict(raw: dict[str, Any], file: str = "<dict>", env: dict[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    unknown_top = set(raw) - {"relaydesk", "plugins"}
    if unknown_top:
        key = sorted(unknown_top)[0]
        raise ConfigError(file, key, "unknown section", "use [relaydesk] and [plugins.*] only")
    _refuse_literal_secrets(raw, file, "")
    core = dict(raw.get("relaydesk", {}))
    settings = Settings(path=file, raw=raw)
    for key, value in core.items():
        if key not in _RELAYDESK_KEYS:
            raise ConfigError(
                file, f"relaydesk.{key}", "unknown key",
                f"remove it; known keys are {', '.join(sorted(_RELAYDESK_KEYS))}",
            )
        value = resolve_secrets(value, file, f"relaydesk.{key}")
        expected = _RELAYDESK_KEYS[key]
        if expected is float and isinstance(value, int):
            value = float(value)
        if not isinstance(value, expected):
            raise ConfigError(file, f"relaydesk.{key}", f"expected {expected.__name__}, got {type(value).__name__}",
                              f"write relaydesk.{key} as a {expected.__name__}")
        if key in ("outbound_allowlist", "trusted_proxies"):
            _check_networks(value, file, f"relaydesk.{key}")
        if key == "retention":
            from core.retention import parse as parse_retention

            value = parse_retention(value, file)
        if key == "job_handover_seconds" and value < 1:
            raise ConfigError(file, f"relaydesk.{key}", f"{value} is too short for a worker to refresh its claims",
                              "use 1 or more seconds (the default is 10)")
        setattr(settings, key, value)
    for var, key in ENV_OVERRIDES.items():
        if env.get(var):
            setattr(settings, key, env[var])
    _check_timezone(settings.timezone, file)
    if not settings.database.startswith(("sqlite://", "postgres://", "postgresql://")):
        raise ConfigError(file, "relaydesk.database", f"unsupported database URL {settings.database!r}",
                          'use "sqlite:///path.db" or "postgresql://user@host:5432/name"')

    plugins = dict(raw.get("plugins", {}))
    enabled = plugins.pop("enabled", [])
    if not isinstance(enabled, list) or not all(isinstance(n, str) for n in enabled):
        raise ConfigError(file, "plugins.enabled", "expected a list of plugin names", 'write enabled = ["api_channel"]')
    if len(set(enabled)) != len(enabled):
        raise ConfigError(file, "plugins.enabled", "a plugin is listed twice", "list each plugin once")
    settings.enabled = list(enabled)
    for name, section in plugins.items():
        if not isinstance(section, dict):
            raise ConfigError(file, f"plugins.{name}", "expected a table", f"write it as [plugins.{name}]")
        section = resolve_secrets(section, file, f"plugins.{name}")
        accounts = section.pop("accounts", {})
        settings.plugins[name] = PluginConfig(name=name, settings=section, accounts=accounts)
    return settings


def _check_timezone(name: str, file: str) -> None:
    """The desk's time zone must be one the tz database knows: a typo would otherwise shift every
    business-hours calendar and SLA due time silently."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(file, "relaydesk.timezone", f"unknown time zone {name!r}",
                          'use an IANA name such as "UTC", "Europe/Berlin" or "Asia/Shanghai"') from None


def _check_networks(value: list[Any], file: str, key: str) -> None:
    from core.urlguard import parse_allowlist

    try:
        parse_allowlist(value)
    except ValueError as exc:
        raise ConfigError(file, key, str(exc), f'write {key} = ["127.0.0.1", "10.0.0.0/8"] (addresses or networks)') from None


def validate_struct(schema: type, data: dict[str, Any], file: str, key: str) -> Any:
    """Convert `data` to the msgspec Struct `schema`, turning errors into ConfigError at `key`."""
    try:
        return msgspec.convert(data, schema, strict=False)
    except msgspec.ValidationError as exc:
        text = str(exc)
        match = re.search(r"at `\$\.?([^`]*)`", text)
        sub = match.group(1) if match else ""
        missing = re.search(r"missing required field `([^`]+)`", text)
        if missing:
            sub = f"{sub}.{missing.group(1)}" if sub else missing.group(1)
        problem = text.split(" - at ")[0]
        full_key = f"{key}.{sub}" if sub else key
        fields = getattr(schema, "__struct_fields__", ())
        fix = f"set {full_key} correctly (keys here: {', '.join(fields)})" if fields else f"set {full_key} correctly"
        raise ConfigError(file, full_key, problem, fix) from None
