"""Store settings: several stores, secrets as env references, clear errors."""

from __future__ import annotations

import pytest

from core.config import settings_from_dict
from core.errors import ConfigError
from core.plugins import load_registry


def config(**account) -> dict:
    values = {"shop": "a.myshopify.com", "access_token": {"env": "TEST_SHOPIFY_TOKEN"},
              "webhook_secret": {"env": "TEST_SHOPIFY_SECRET"}, **account}
    return {"relaydesk": {"database": "sqlite:///x.db"},
            "plugins": {"enabled": ["shopify"], "shopify": {"no_tracking_update_days": 3, "accounts": {"a": values}}}}


def test_several_stores_with_pinned_versions():
    raw = config()
    raw["plugins"]["shopify"]["accounts"]["b"] = {**raw["plugins"]["shopify"]["accounts"]["a"], "shop": "b.myshopify.com",
                                                  "api_version": "2025-04"}
    registry = load_registry(settings_from_dict(raw, "p.toml"))
    a, b = registry.account("shopify", "a"), registry.account("shopify", "b")
    assert a.settings.api_version == "2025-01" and b.settings.api_version == "2025-04"
    assert a.settings.api_base == "https://a.myshopify.com" and a.settings.access_token == "shpat_test_token"
    assert registry.plugin_settings["shopify"].no_tracking_update_days == 3


@pytest.mark.parametrize("account, key, words", [
    ({"api_version": "2025-02"}, "plugins.shopify.accounts.a", "api_version"),
    ({"shop": "https://a.myshopify.com/admin"}, "plugins.shopify.accounts.a", "store's domain"),
    ({"colour": "blue"}, "plugins.shopify.accounts.a", "colour"),
])
def test_bad_settings_name_the_key(account, key, words):
    with pytest.raises(ConfigError) as info:
        load_registry(settings_from_dict(config(**account), "p.toml"))
    assert info.value.key.startswith(key) and words in str(info.value)


def test_a_literal_token_is_refused():
    with pytest.raises(ConfigError) as info:
        settings_from_dict(config(access_token="shpat_literal"), "p.toml")
    assert "access_token" in info.value.key
