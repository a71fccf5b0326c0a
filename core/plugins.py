"""The plugin manager: built-in plugins, entry points in the group "relaydesk", and exactly the ones
plugins.toml enables. Everything that can be wrong with a plugin set stops start-up here, with a
ConfigError that names the file, the key and the fix.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

import pluggy

from core import hookspecs
from core.config import Settings, validate_struct
from core.errors import ConfigError
from core.plugin_version import PLUGIN_API_VERSION, PluginApiVersionError
from core.types import Account, ChannelType, JobSpec

log = logging.getLogger("relaydesk.plugins")

hookimpl = pluggy.HookimplMarker("relaydesk")

# Always loaded, marked trylast so any installed plugin can override them.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "core.defaults.sla",
    # before core.defaults.routing: among trylast impls pluggy asks the earlier-registered first
    "core.defaults.routing_strategies",
    "core.defaults.routing",
    "core.defaults.rules",
)

# Plugins shipped in this repository, loaded only when plugins.toml enables them.
BUNDLED_PLUGINS: dict[str, str] = {
    "api_channel": "plugins.api_channel",
    "demo": "plugins.demo",
    "email": "plugins.email",
    "shopify": "plugins.shopify",
    "facebook": "plugins.facebook",
    "whatsapp": "plugins.whatsapp",
    "amazon": "plugins.amazon",
    "ebay": "plugins.ebay",
    "translate": "plugins.translate",
    "csat": "plugins.csat",
    "kb": "plugins.kb",
    "webchat": "plugins.webchat",
    "assist": "plugins.assist",
}

ENTRY_POINT_GROUP = "relaydesk"


@dataclass
class Registry:
    """What the enabled plugins declared, validated against the settings."""

    settings: Settings
    pm: pluggy.PluginManager
    channels: dict[str, ChannelType] = field(default_factory=dict)
    accounts: dict[tuple[str, str], Account] = field(default_factory=dict)
    plugin_settings: dict[str, Any] = field(default_factory=dict)
    jobs: dict[str, JobSpec] = field(default_factory=dict)
    routes: list[Any] = field(default_factory=list)
    migrations: list[tuple[str, str]] = field(default_factory=list)
    commands: list[Any] = field(default_factory=list)

    @property
    def hook(self) -> Any:
        return self.pm.hook

    def account(self, plugin: str, name: str) -> Account | None:
        return self.accounts.get((plugin, name))

    def account_by_id(self, account_id: int) -> Account | None:
        for account in self.accounts.values():
            if account.id == account_id:
                return account
        return None

    def plugin_names(self) -> list[str]:
        return [name for name, _ in self.pm.list_name_plugin()]


def available_plugins() -> dict[str, Any]:
    """Name -> loader for every plugin that could be enabled (bundled, then entry points)."""
    found: dict[str, Any] = {name: module for name, module in BUNDLED_PLUGINS.items()
                             if importlib.util.find_spec(module) is not None}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, ep)
    return found


def name_clashes() -> list[tuple[str, str, str]]:
    """(name, bundled module, the entry point's value) for every installed third-party plugin
    named like a bundled one: the desk cannot tell which one `enabled` means."""
    clashes = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        bundled = BUNDLED_PLUGINS.get(ep.name)
        if bundled and ep.value.split(":")[0] != bundled:
            clashes.append((ep.name, bundled, ep.value))
    return clashes


def _check_clashes(file: str) -> None:
    for name, bundled, value in name_clashes():
        dist = getattr(getattr(_entry_point(name, value), "dist", None), "name", None) or value
        raise ConfigError(
            file, "plugins.enabled", f"the installed package {dist!r} registers a plugin named {name!r} "
            f"({value}), and Relaydesk bundles a plugin of that name ({bundled})",
            f"rename the entry point in {dist}'s pyproject.toml ([project.entry-points.relaydesk]) "
            f"or uninstall it (pip uninstall {dist})",
        )


def _entry_point(name: str, value: str) -> Any:
    return next((ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name and ep.value == value), None)


def _load(loader: Any) -> Any:
    if isinstance(loader, str):
        return importlib.import_module(loader)
    return loader.load()


def _load_checked(name: str, loader: Any, file: str) -> Any:
    """Import a plugin; a plugin that requires a newer plugin surface stops start-up here."""
    try:
        return _load(loader)
    except PluginApiVersionError as exc:
        raise ConfigError(
            file, "plugins.enabled", f"plugin {name!r} needs Relaydesk plugin API {exc.needed}, "
            f"this desk offers {PLUGIN_API_VERSION}",
            f"upgrade Relaydesk (pip install -U relaydesk), install a version of {name!r} made for "
            f"plugin API {PLUGIN_API_VERSION.split('.')[0]}.x, or remove {name!r} from enabled",
        ) from exc


def _check_hooks(pm: pluggy.PluginManager, file: str) -> None:
    """Like pm.check_pending(), but says which plugin and which hook, and what to do."""
    known = sorted(n for n in dir(hookspecs) if not n.startswith("_") and callable(getattr(hookspecs, n))
                   and hasattr(getattr(hookspecs, n), "relaydesk_spec"))
    for name in dir(pm.hook):
        if name.startswith("_"):
            continue
        caller = getattr(pm.hook, name)
        if caller.has_spec():
            continue
        for impl in caller.get_hookimpls():
            if not impl.opts.get("optionalhook"):
                raise ConfigError(
                    file, f"plugins.enabled ({impl.plugin_name})", f"implements unknown hook {name!r}",
                    f"rename it to one of {', '.join(known)} or remove the @hookimpl marker",
                )


def build_plugin_manager(settings: Settings, *, extra_plugins: list[tuple[str, Any]] | None = None) -> pluggy.PluginManager:
    pm = pluggy.PluginManager("relaydesk")
    pm.add_hookspecs(hookspecs)
    for module_name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(module_name), name=module_name)
    _check_clashes(settings.path)
    available = available_plugins()
    for name in settings.enabled:
        if name not in available:
            raise ConfigError(
                settings.path, "plugins.enabled", f"unknown plugin {name!r}",
                f"install it (pip install ...) or choose from: {', '.join(sorted(available))}",
            )
        pm.register(_load_checked(name, available[name], settings.path), name=name)
    for name, plugin in extra_plugins or []:
        pm.register(plugin, name=name)
    _check_hooks(pm, settings.path)
    if os.environ.get("RELAYDESK_TRACE_HOOKS"):
        pm.trace.root.setwriter(lambda msg: log.info(msg.rstrip()))
        pm.enable_tracing()
    return pm


def _collect(pm: pluggy.PluginManager, hook_name: str) -> list[tuple[str, Any]]:
    """Call a register_* hook once per implementation so each registration is attributed to its plugin."""
    out: list[tuple[str, Any]] = []
    for impl in getattr(pm.hook, hook_name).get_hookimpls():
        def register(*args: Any, _plugin: str = impl.plugin_name) -> None:
            out.append((_plugin, args if len(args) > 1 else args[0]))
        impl.function(register=register)
    return out


def load_registry(settings: Settings, *, extra_plugins: list[tuple[str, Any]] | None = None) -> Registry:
    """Build the plugin manager and validate channels, accounts and settings. Raises ConfigError."""
    pm = build_plugin_manager(settings, extra_plugins=extra_plugins)
    registry = Registry(settings=settings, pm=pm)
    file = settings.path

    for plugin, channel in _collect(pm, "register_channels"):
        if channel.name in registry.channels:
            other = registry.channels[channel.name].plugin
            raise ConfigError(
                file, "plugins.enabled", f"channel type {channel.name!r} is registered by both {other!r} and {plugin!r}",
                f"enable only one of {other!r} and {plugin!r}",
            )
        channel.plugin = plugin
        registry.channels[channel.name] = channel

    schemas = {name: schema for _, (name, schema) in _collect(pm, "register_settings")}
    enabled = set(settings.enabled) | {n for n, _ in extra_plugins or []}
    for name in enabled:
        config = settings.plugins.get(name)
        values = config.settings if config else {}
        if name in schemas:
            registry.plugin_settings[name] = validate_struct(schemas[name], values, file, f"plugins.{name}")
        elif values:
            key = sorted(values)[0]
            raise ConfigError(file, f"plugins.{name}.{key}", "this plugin takes no settings here",
                              f"remove it, or put account settings under [plugins.{name}.accounts.<name>]")

    for name in enabled:
        config = settings.plugins.get(name)
        if not config:
            continue
        types = [c for c in registry.channels.values() if c.plugin == name]
        for account_name, values in config.accounts.items():
            key = f"plugins.{name}.accounts.{account_name}"
            if not isinstance(values, dict):
                raise ConfigError(file, key, "expected a table", f"write it as [{key}]")
            values = dict(values)
            wanted = values.pop("type", None)
            if not types:
                raise ConfigError(file, key, f"plugin {name!r} has no channels, so it takes no accounts", "remove the accounts")
            if wanted is None and len(types) > 1:
                raise ConfigError(file, f"{key}.type", "this plugin offers several channel types",
                                  f"set type to one of {', '.join(t.name for t in types)}")
            channel = types[0] if wanted is None else next((t for t in types if t.name == wanted), None)
            if channel is None:
                raise ConfigError(file, f"{key}.type", f"unknown channel type {wanted!r}",
                                  f"use one of {', '.join(t.name for t in types)}")
            parsed = validate_struct(channel.account_settings, values, file, key)
            registry.accounts[(name, account_name)] = Account(
                id=0, name=account_name, plugin=name, channel_type=channel.name, settings=parsed
            )

    for plugin, spec in _collect(pm, "register_jobs"):
        if spec.name in registry.jobs:
            raise ConfigError(file, "plugins.enabled", f"job {spec.name!r} is registered twice (by {plugin!r})",
                              "give the job a name prefixed with the plugin's name")
        registry.jobs[spec.name] = spec
    registry.routes = [handler for _, handler in _collect(pm, "register_routes")]
    registry.migrations = [pair for _, pair in _collect(pm, "register_migrations")]
    registry.commands = [command for _, command in _collect(pm, "register_commands")]
    return registry
