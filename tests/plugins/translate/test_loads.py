"""The plugin loads, registers its settings, job, routes and migrations, and rejects bad settings."""

from __future__ import annotations

import pytest

from core.config import settings_from_dict
from core.errors import ConfigError
from core.plugins import load_registry
from plugins.translate.settings import TranslateSettings


def _config(**translate: object) -> dict:
    return {"relaydesk": {"database": "sqlite:///x.db"}, "plugins": {"enabled": ["translate"], "translate": translate}}


def test_loads_and_registers() -> None:
    registry = load_registry(settings_from_dict(_config(provider="google", daily_char_cap=1000), "p.toml"))
    settings = registry.plugin_settings["translate"]
    assert isinstance(settings, TranslateSettings) and settings.url == "https://translation.googleapis.com"
    assert "translate.message" in registry.jobs
    assert registry.migrations[0][0] == "translate"
    assert len(registry.routes) == 1


def test_bad_settings_fail_at_startup(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError) as caught:
        load_registry(settings_from_dict(_config(provider="babelfish"), "p.toml"))
    assert "provider must be one of" in str(caught.value)
    with pytest.raises(ConfigError):  # a literal key is refused: secrets are env references
        settings_from_dict(_config(api_key="literal"), "p.toml")
