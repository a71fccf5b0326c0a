"""Start-up refuses a bad plugin set or bad settings, naming the file, the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import load_settings, settings_from_dict
from core.errors import ConfigError
from core.plugins import hookimpl, load_registry
from core.types import ChannelType


def config(**plugins):
    return {"relaydesk": {"database": "sqlite:///x.db"}, "plugins": plugins}


def test_unknown_plugin_names_file_key_and_fix():
    settings = settings_from_dict(config(enabled=["api_channel", "no_such_plugin"]), "plugins.toml")
    with pytest.raises(ConfigError) as info:
        load_registry(settings)
    assert info.value.file == "plugins.toml"
    assert info.value.key == "plugins.enabled"
    assert "no_such_plugin" in info.value.problem
    assert "api_channel" in info.value.fix


def test_missing_account_setting(monkeypatch):
    settings = settings_from_dict(config(enabled=["api_channel"], api_channel={"accounts": {"main": {}}}), "p.toml")
    with pytest.raises(ConfigError) as info:
        load_registry(settings)
    assert info.value.key == "plugins.api_channel.accounts.main.secret"
    assert "missing" in info.value.problem


def test_invalid_account_setting(monkeypatch):
    monkeypatch.setenv("S1", "x")
    section = {"accounts": {"main": {"secret": {"env": "S1"}, "timeout_seconds": "soon"}}}
    settings = settings_from_dict(config(enabled=["api_channel"], api_channel=section), "p.toml")
    with pytest.raises(ConfigError) as info:
        load_registry(settings)
    assert info.value.key == "plugins.api_channel.accounts.main.timeout_seconds"
    assert "Expected `float`" in info.value.problem


def test_unknown_account_setting(monkeypatch):
    monkeypatch.setenv("S1", "x")
    section = {"accounts": {"main": {"secret": {"env": "S1"}, "colour": "blue"}}}
    settings = settings_from_dict(config(enabled=["api_channel"], api_channel=section), "p.toml")
    with pytest.raises(ConfigError) as info:
        load_registry(settings)
    assert "colour" in str(info.value)


def test_secret_written_as_literal_is_refused():
    section = {"accounts": {"main": {"secret": "hunter2"}}}
    with pytest.raises(ConfigError) as info:
        settings_from_dict(config(enabled=["api_channel"], api_channel=section), "p.toml")
    assert info.value.key == ".plugins.api_channel.accounts.main.secret"
    assert '{ env = "SOME_VARIABLE" }' in info.value.fix


def test_secret_from_environment(monkeypatch):
    monkeypatch.setenv("MY_SECRET", "s3cret")
    section = {"accounts": {"main": {"secret": {"env": "MY_SECRET"}}}}
    registry = load_registry(settings_from_dict(config(enabled=["api_channel"], api_channel=section), "p.toml"))
    assert registry.account("api_channel", "main").settings.secret == "s3cret"


def test_missing_environment_variable(monkeypatch):
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    section = {"accounts": {"main": {"secret": {"env": "NOT_SET_ANYWHERE"}}}}
    with pytest.raises(ConfigError) as info:
        settings_from_dict(config(enabled=["api_channel"], api_channel=section), "p.toml")
    assert info.value.key == "plugins.api_channel.accounts.main.secret"
    assert "export NOT_SET_ANYWHERE" in info.value.fix


def test_implementation_of_unknown_hook_stops_start_up():
    class Typo:
        @hookimpl
        def send_mesage(self, channel_type, account, message):  # misspelt on purpose
            return None

    with pytest.raises(ConfigError) as info:
        load_registry(settings_from_dict(config(enabled=[]), "p.toml"), extra_plugins=[("typo", Typo())])
    assert "send_mesage" in info.value.problem
    assert "send_message" in info.value.fix


def test_two_channels_with_one_name_stop_start_up(monkeypatch):
    class Impostor:
        @hookimpl
        def register_channels(self, register):
            register(ChannelType(name="api", label="Another API", account_settings=dict))

    with pytest.raises(ConfigError) as info:
        load_registry(settings_from_dict(config(enabled=["api_channel"]), "p.toml"),
                      extra_plugins=[("impostor", Impostor())])
    assert "'api' is registered by both" in info.value.problem


def test_settings_for_a_plugin_without_settings_are_refused():
    with pytest.raises(ConfigError) as info:
        load_registry(settings_from_dict(config(enabled=["api_channel"], api_channel={"colour": "x"}), "p.toml"))
    assert info.value.key == "plugins.api_channel.colour"


def test_file_errors_name_the_file(tmp_path: Path):
    bad = tmp_path / "plugins.toml"
    bad.write_text("[relaydesk\n")
    with pytest.raises(ConfigError) as info:
        load_settings(bad)
    assert info.value.file == str(bad)
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path / "missing.toml")
    assert "relaydesk init" in info.value.fix


def test_unknown_relaydesk_key_and_bad_database():
    with pytest.raises(ConfigError) as info:
        settings_from_dict({"relaydesk": {"databse": "x"}}, "p.toml")
    assert info.value.key == "relaydesk.databse"
    with pytest.raises(ConfigError) as info:
        settings_from_dict({"relaydesk": {"database": "mysql://x"}}, "p.toml")
    assert info.value.key == "relaydesk.database"


def test_environment_overrides_database():
    settings = settings_from_dict({"relaydesk": {"database": "sqlite:///a.db"}}, "p.toml",
                                  {"RELAYDESK_DATABASE": "postgresql://u@h/db"})
    assert settings.database == "postgresql://u@h/db"
    assert settings.is_postgres


def test_repository_plugins_toml_is_a_working_embedded_default(monkeypatch):
    """The plugins.toml at the top of the repository loads as written: SQLite, jobs in-process,
    the API channel with its secret taken from the environment."""
    path = Path(__file__).resolve().parents[2] / "plugins.toml"
    monkeypatch.setenv("RELAYDESK_SECRET", "s" * 32)
    monkeypatch.setenv("RELAYDESK_API_CHANNEL_SECRET", "a" * 24)
    settings = load_settings(path)
    assert settings.database.startswith("sqlite:///")
    assert not settings.redis
    registry = load_registry(settings)
    assert settings.enabled == ["api_channel"]
    assert [a.name for a in registry.accounts.values()] == ["default"]


def test_repository_plugins_toml_without_its_secret_says_which_variable(monkeypatch):
    monkeypatch.delenv("RELAYDESK_SECRET", raising=False)
    path = Path(__file__).resolve().parents[2] / "plugins.toml"
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert "RELAYDESK_SECRET" in f"{info.value.problem} {info.value.fix}"


def test_unknown_time_zone_is_refused_at_load():
    with pytest.raises(ConfigError) as info:
        settings_from_dict({"relaydesk": {"database": "sqlite:///x.db", "timezone": "Europe/Berln"}}, "p.toml")
    assert info.value.key == "relaydesk.timezone"
    assert "Europe/Berln" in info.value.problem and "IANA" in info.value.fix
    assert settings_from_dict({"relaydesk": {"timezone": "Asia/Shanghai"}}, "p.toml").timezone == "Asia/Shanghai"
