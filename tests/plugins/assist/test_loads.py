"""The assist plugin loads, registers its settings and command, and refuses bad settings."""

from __future__ import annotations

import pytest

from core.config import settings_from_dict
from core.errors import ConfigError
from core.plugins import load_registry
from plugins.assist.settings import AssistSettings


def _config(**assist: object) -> dict:
    return {"relaydesk": {"database": "sqlite:///x.db"}, "plugins": {"enabled": ["assist"], "assist": assist}}


def test_loads_and_registers() -> None:
    registry = load_registry(settings_from_dict(_config(wismo_answer={"email": "send"}), "p.toml"))
    settings = registry.plugin_settings["assist"]
    assert isinstance(settings, AssistSettings)
    assert settings.wismo_mode("email") == "send" and settings.wismo_mode("whatsapp") == "draft"
    assert any(getattr(c, "name", None) == "assist" for c in registry.commands)


@pytest.mark.parametrize("bad", [{"wismo_answer": {"email": "always"}}, {"wismo_answer_default": "yes"},
                                 {"wismo_threshold": 0}, {"wismo_threshold": 1.5}, {"unknown_key": 1}])
def test_bad_settings_fail_at_startup(bad: dict) -> None:
    with pytest.raises(ConfigError):
        load_registry(settings_from_dict(_config(**bad), "p.toml"))
