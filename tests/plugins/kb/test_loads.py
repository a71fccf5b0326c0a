"""The plugin loads, registers its settings, routes and migrations, and rejects bad settings."""

from __future__ import annotations

import pytest

from core.config import settings_from_dict
from core.errors import ConfigError
from core.plugins import load_registry
from plugins.kb.settings import KbSettings


def _config(**kb: object) -> dict:
    return {"relaydesk": {"database": "sqlite:///x.db"}, "plugins": {"enabled": ["kb"], "kb": kb}}


def test_loads_and_registers() -> None:
    registry = load_registry(settings_from_dict(_config(cache_seconds=5), "p.toml"))
    assert isinstance(registry.plugin_settings["kb"], KbSettings)
    assert registry.plugin_settings["kb"].cache_seconds == 5
    assert [name for name, _ in registry.migrations if name == "kb"] == ["kb"]
    assert len(registry.routes) >= 10


def test_bad_settings_fail_at_startup() -> None:
    with pytest.raises(ConfigError) as caught:
        load_registry(settings_from_dict(_config(cache_seconds=-1), "p.toml"))
    assert "cache_seconds" in str(caught.value)
    with pytest.raises(ConfigError):
        load_registry(settings_from_dict(_config(unknown_key=1), "p.toml"))
