"""`relaydesk plugins` shows every installed plugin, on or off; `relaydesk secrets` lists the enabled
plugins' secret settings and writes placeholders for them."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from core.cli import main

CONFIG = """
[relaydesk]
database = "sqlite:///x.db"

[plugins]
enabled = ["api_channel", "whatsapp"]

[plugins.api_channel.accounts.default]
secret = { env = "KIT_TEST_API_SECRET" }

[plugins.whatsapp.accounts.main]
phone_number_id = "123"
access_token = { env = "KIT_TEST_WA_TOKEN" }
app_secret = { env = "KIT_TEST_WA_SECRET" }

[plugins.shopify.accounts.store]
shop = "example.myshopify.com"
"""


@pytest.fixture(autouse=True)
def _restore_environment():
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def rows(output: str) -> dict[str, list[str]]:
    table = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if cells and cells[0]:
            table[cells[0]] = cells
    return table


def test_plugins_lists_installed_plugins_enabled_or_not(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    complete = CONFIG.replace('app_secret = { env = "KIT_TEST_WA_SECRET" }',
                              'app_secret = { env = "KIT_TEST_WA_SECRET" }\nverify_token = { env = "KIT_TEST_WA_SECRET" }')
    (tmp_path / "plugins.toml").write_text(complete)
    (tmp_path / "relaydesk.env").write_text("KIT_TEST_API_SECRET=a\nKIT_TEST_WA_TOKEN=b\nKIT_TEST_WA_SECRET=c\n")
    result = CliRunner(env={"COLUMNS": "250"}).invoke(main, ["plugins"])
    assert result.exit_code == 0, result.output
    table = rows(result.output)
    assert table["whatsapp"][1:4] == ["bundled", "enabled", "ok"] and "send_message" in table["whatsapp"][4]
    assert table["whatsapp"][5] == "WhatsApp" and table["whatsapp"][6] == "main"  # the channel's label
    assert table["shopify"][1:4] == ["bundled", "disabled", "configured, not loaded"]
    assert table["email"][1:4] == ["bundled", "disabled", "-"]


def test_plugins_still_lists_when_the_config_is_wrong(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plugins.toml").write_text(CONFIG)  # no relaydesk.env: the secrets are not set
    result = CliRunner(env={"COLUMNS": "250"}).invoke(main, ["plugins"])
    assert result.exit_code == 2
    assert rows(result.output)["whatsapp"][2:4] == ["enabled", "error (below)"]
    assert "KIT_TEST_API_SECRET is not set" in " ".join(result.output.split())


def test_secrets_writes_placeholders_for_every_enabled_plugins_secrets(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plugins.toml").write_text(CONFIG)
    (tmp_path / "relaydesk.env").write_text("KIT_TEST_API_SECRET=set-already\n")
    result = CliRunner(env={"COLUMNS": "250"}).invoke(main, ["secrets"])
    assert result.exit_code == 0, result.output
    env = (tmp_path / "relaydesk.env").read_text()
    assert "KIT_TEST_API_SECRET=set-already" in env and env.count("KIT_TEST_API_SECRET") == 1
    assert "\nKIT_TEST_WA_TOKEN=\n" in env and "\nKIT_TEST_WA_SECRET=\n" in env
    # verify_token is required and missing from plugins.toml: a placeholder and the line to add
    assert "\nRELAYDESK_WHATSAPP_MAIN_VERIFY_TOKEN=\n" in env
    assert 'add verify_token = { env = "RELAYDESK_WHATSAPP_MAIN_VERIFY_TOKEN" } under [plugins.whatsapp.accounts.main]' in env
    assert "shopify" not in env  # not enabled
    table = rows(result.output)
    assert table["api_channel"][3] == "set"
    again = CliRunner().invoke(main, ["secrets"])
    assert again.exit_code == 0 and (tmp_path / "relaydesk.env").read_text() == env  # nothing twice


def test_init_writes_placeholders_for_an_enabled_plugins_secrets(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plugins.toml").write_text(CONFIG)
    CliRunner().invoke(main, ["init"])  # stops at the missing values, after writing their placeholders
    env = (tmp_path / "relaydesk.env").read_text()
    for name in ("KIT_TEST_API_SECRET", "KIT_TEST_WA_TOKEN", "KIT_TEST_WA_SECRET", "RELAYDESK_WHATSAPP_MAIN_VERIFY_TOKEN"):
        assert f"\n{name}=\n" in env, name
