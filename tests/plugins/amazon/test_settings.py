"""Bad Amazon settings stop start-up with the file, the key and the fix."""

from __future__ import annotations

import pytest

from core.config import settings_from_dict
from core.errors import ConfigError
from core.plugins import load_registry
from tests.plugins.amazon.conftest import account_settings


def load(plugin: dict, account: dict | None = None):
    config = {"relaydesk": {"database": "sqlite:///x.db"},
              "plugins": {"enabled": ["amazon"], "amazon": {**plugin, "accounts": {"eu": account or account_settings("http://x")}}}}
    return load_registry(settings_from_dict(config, "plugins.toml"))


@pytest.mark.parametrize("plugin, account_change, key, words", [
    ({"draft_rules_off": ["links"]}, {}, "plugins.amazon", "unknown rule"),
    ({"first_response_hours": 0}, {}, "plugins.amazon", "must be positive"),
    ({}, {"region": "mars"}, "plugins.amazon.accounts.eu", "region must be one of"),
    ({}, {"marketplaces": {"amazon.de": {"marketplace_id": "A1PA6795UKMFR9", "seller_address": "not-an-address"}}},
     "plugins.amazon.accounts.eu", "not an email address"),
    ({}, {"marketplaces": {"ebay.de": {"marketplace_id": "A1PA6795UKMFR9", "seller_address": "a@b.example"}}},
     "plugins.amazon.accounts.eu", "not a marketplace domain"),
    ({}, {"marketplaces": {}}, "plugins.amazon.accounts.eu", "at least one marketplace"),
])
def test_bad_settings_name_the_key(monkeypatch, plugin, account_change, key, words):
    monkeypatch.setenv("TEST_LWA_CLIENT_SECRET", "s")
    monkeypatch.setenv("TEST_LWA_REFRESH_TOKEN", "r")
    with pytest.raises(ConfigError) as caught:
        load(plugin, {**account_settings("http://x"), **account_change})
    assert caught.value.file == "plugins.toml" and caught.value.key.startswith(key)
    assert words in str(caught.value)


def test_good_settings_load(monkeypatch):
    monkeypatch.setenv("TEST_LWA_CLIENT_SECRET", "s")
    monkeypatch.setenv("TEST_LWA_REFRESH_TOKEN", "r")
    registry = load({"resolution_hours": 48})
    account = registry.account("amazon", "eu")
    assert account.settings.lwa_client_secret == "s" and account.settings.api_base == "http://x"
    assert registry.plugin_settings["amazon"].resolution_hours == 48
    assert account.settings.marketplace_domain("A1PA6795UKMFR9") == "amazon.de"
