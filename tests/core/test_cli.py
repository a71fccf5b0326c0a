"""The relaydesk command: init, migrate, plugins, and clear configuration errors."""

from __future__ import annotations

import re

from click.testing import CliRunner

import os

import pytest

from core.cli import main


@pytest.fixture(autouse=True)
def _restore_environment():
    """init loads relaydesk.env into os.environ; keep that from leaking into other tests."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def test_init_writes_config_secrets_database_and_admin(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["init", "--admin-email", "boss@example.com"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "plugins.toml").exists() and (tmp_path / "relaydesk.env").exists()
    assert (tmp_path / "relaydesk.env").stat().st_mode & 0o077 == 0  # secrets readable by the owner only
    assert "secret = { env = " in (tmp_path / "plugins.toml").read_text()
    assert re.search(r"API token: rd_\S+", result.output)
    again = CliRunner().invoke(main, ["init", "--admin-email", "boss@example.com"])
    assert again.exit_code == 0 and "already exists" in again.output
    migrated = CliRunner().invoke(main, ["migrate"])
    assert migrated.exit_code == 0 and "Applied 0 migration(s)" in migrated.output


def test_plugins_lists_plugins_hooks_and_accounts(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    CliRunner().invoke(main, ["init"])
    result = CliRunner(env={"COLUMNS": "200"}).invoke(main, ["plugins"])
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if "api_channel" in line)
    assert "parse_webhook" in line and "send_message" in line and "default" in line
    assert "core.defaults.sla" in result.output


def test_bad_config_exits_with_file_key_and_fix(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plugins.toml").write_text('[relaydesk]\ndatabase = "sqlite:///x.db"\n[plugins]\nenabled = ["shopfy"]\n')
    result = CliRunner(env={"COLUMNS": "300"}).invoke(main, ["plugins"])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "plugins.toml: plugins.enabled: unknown plugin 'shopfy'" in text and "Fix:" in text


def test_worker_needs_redis(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    CliRunner().invoke(main, ["init"])
    result = CliRunner().invoke(main, ["worker"])
    assert result.exit_code == 2 and "needs [relaydesk] redis" in result.output
