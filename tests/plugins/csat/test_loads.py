"""The plugin loads, registers its settings, job, routes and migrations, and rejects bad settings."""

from __future__ import annotations

import pytest

from core.config import settings_from_dict
from core.errors import ConfigError
from core.plugins import load_registry
from plugins.csat.settings import CsatSettings


def _config(**csat: object) -> dict:
    return {"relaydesk": {"database": "sqlite:///x.db"}, "plugins": {"enabled": ["csat"], "csat": csat}}


def test_loads_and_registers() -> None:
    registry = load_registry(settings_from_dict(_config(survey="nps", channels={"amazon": True}), "p.toml"))
    settings = registry.plugin_settings["csat"]
    assert isinstance(settings, CsatSettings) and settings.survey == "nps"
    assert "csat.send" in registry.jobs
    assert ("csat", registry.migrations[0][1]) == registry.migrations[0]
    assert len(registry.routes) == 3


def test_bad_settings_fail_at_startup() -> None:
    with pytest.raises(ConfigError) as caught:
        load_registry(settings_from_dict(_config(survey="stars"), "p.toml"))
    assert "survey must be one of" in str(caught.value)
    with pytest.raises(ConfigError):
        load_registry(settings_from_dict(_config(unknown_key=1), "p.toml"))
