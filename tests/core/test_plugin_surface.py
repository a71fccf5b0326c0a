"""The plugin surface (core.plugin_api, web.plugin_api): bundled plugins import only it, the core and
the web app import no plugin, and a plugin can require a version of it."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import core.plugin_api as core_api
import web.plugin_api as web_api
from core.cli import main
from core.config import settings_from_dict
from core.errors import ConfigError
from core.plugin_version import PLUGIN_API_VERSION, PluginApiVersionError, require_plugin_api
from core.plugins import load_registry

ROOT = Path(__file__).resolve().parents[2]
SURFACE = {"core.plugin_api", "web.plugin_api"}
# The demo seeds the order caches of the Shopify and Amazon plugins and the help center of the kb
# plugin it shows off; no other plugin names another.
CROSS_PLUGIN_ALLOWED = {("demo", "shopify"), ("demo", "amazon"), ("demo", "kb")}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            if node.module in ("core", "web"):  # `from core import db` names the module core.db
                found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
    return found


def test_bundled_plugins_import_only_the_plugin_surface():
    wrong = []
    for path in sorted((ROOT / "plugins").rglob("*.py")):
        plugin = path.relative_to(ROOT / "plugins").parts[0]
        for line, module in imported_modules(path):
            top = module.split(".")[0]
            if top in ("core", "web") and module not in SURFACE and module not in ("core", "web"):
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
            if top == "plugins" and module != "plugins":
                other = module.split(".")[1]
                if other != plugin and (plugin, other) not in CROSS_PLUGIN_ALLOWED:
                    wrong.append(f"{path.relative_to(ROOT)}:{line} imports another plugin, {module}")
    assert wrong == [], "plugins must import from core.plugin_api / web.plugin_api only:\n" + "\n".join(wrong)


def test_the_core_and_the_web_app_import_no_plugin():
    wrong = [f"{path.relative_to(ROOT)}:{line} imports {module}"
             for folder in ("core", "web") for path in sorted((ROOT / folder).rglob("*.py"))
             for line, module in imported_modules(path) if module.split(".")[0] == "plugins"]
    assert wrong == []


def test_every_surface_name_exists_and_is_listed():
    for api in (core_api, web_api):
        missing = [name for name in api.__all__ if not hasattr(api, name)]
        assert missing == []
        assert len(set(api.__all__)) == len(api.__all__)
    assert core_api.PLUGIN_API_VERSION == web_api.PLUGIN_API_VERSION == PLUGIN_API_VERSION


def test_require_plugin_api_accepts_this_major_up_to_this_minor():
    major, minor = (int(p) for p in PLUGIN_API_VERSION.split("."))
    require_plugin_api(f"{major}.0")
    require_plugin_api(PLUGIN_API_VERSION)
    with pytest.raises(PluginApiVersionError, match=f"needs Relaydesk plugin API {major}.{minor + 1}"):
        require_plugin_api(f"{major}.{minor + 1}", plugin="telegram")
    with pytest.raises(PluginApiVersionError):
        require_plugin_api(f"{major + 1}.0")
    with pytest.raises(ValueError, match="MAJOR.MINOR"):
        require_plugin_api("one")


def _install_fake_distribution(root: Path, dist: str, module: str, source: str, entry_name: str) -> None:
    """A real installed distribution (a .dist-info folder on sys.path) with a relaydesk entry point."""
    (root / f"{module}.py").write_text(source, encoding="utf-8")
    info = root / f"{dist}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[relaydesk]\n{entry_name} = {module}\n", encoding="utf-8")


def _config(enabled: list[str]) -> dict:
    return {"relaydesk": {"database": "sqlite:///:memory:"}, "plugins": {"enabled": enabled}}


def test_a_plugin_needing_a_newer_surface_stops_start_up_with_the_versions(tmp_path, monkeypatch):
    major = int(PLUGIN_API_VERSION.split(".")[0])
    _install_fake_distribution(
        tmp_path, "relaydesk-future", "kit_future_plugin",
        f"from core.plugin_api import require_plugin_api\nrequire_plugin_api('{major + 1}.0', plugin='future')\n",
        "future")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError) as raised:
        load_registry(settings_from_dict(_config(["future"]), "plugins.toml"))
    message = str(raised.value)
    assert f"needs Relaydesk plugin API {major + 1}.0, this desk offers {PLUGIN_API_VERSION}" in message
    assert "plugins.toml: plugins.enabled" in message and "upgrade Relaydesk" in message
    sys.modules.pop("kit_future_plugin", None)


def test_a_third_party_plugin_named_like_a_bundled_one_stops_start_up(tmp_path, monkeypatch):
    _install_fake_distribution(tmp_path, "my-shopify", "kit_my_shopify", "", "shopify")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError) as raised:  # even when the clashing name is not enabled
        load_registry(settings_from_dict(_config(["api_channel"]), "plugins.toml"))
    message = str(raised.value)
    assert "'my-shopify' registers a plugin named 'shopify'" in message
    assert "bundles a plugin of that name (plugins.shopify)" in message and "pip uninstall my-shopify" in message


def test_the_demo_command_comes_from_the_demo_plugin_without_a_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RELAYDESK_CONFIG", raising=False)
    assert "from plugins" not in (ROOT / "core" / "cli.py").read_text(encoding="utf-8")
    listing = CliRunner().invoke(main, ["--help"])
    assert listing.exit_code == 0 and " demo " in listing.output
    shown = CliRunner().invoke(main, ["demo", "--help"])
    assert shown.exit_code == 0 and "--dir" in shown.output


def test_the_stability_page_lists_every_surface_name():
    import relaydesk_testing
    import relaydesk_testing.conformance as conformance

    page = (ROOT / "docs" / "plugin-api.md").read_text(encoding="utf-8")
    missing = [name for api in (core_api, web_api, relaydesk_testing) for name in api.__all__
               if f"`{name}`" not in page and f"`{name}(" not in page]
    missing += [name for name in ("ChannelCase", "check_channel", "PolledChannelCase",
                                                  "check_polled_channel") if f"`{name}`" not in page]
    assert hasattr(conformance, "check_channel") and hasattr(conformance, "check_polled_channel")
    assert missing == [], f"docs/plugin-api.md does not mention {missing}"
