"""Meta-tests: every hook is documented and has a test named after it; the plugin set loads."""

from __future__ import annotations

import inspect
from pathlib import Path

from core import hookspecs
from core.config import settings_from_dict
from core.plugins import DEFAULT_PLUGINS, load_registry

TESTS = Path(__file__).resolve().parents[1]


def hook_names() -> list[str]:
    return sorted(name for name, fn in vars(hookspecs).items()
                  if callable(fn) and hasattr(fn, "relaydesk_spec"))


def test_every_hook_has_a_contract():
    for name in hook_names():
        doc = inspect.getdoc(getattr(hookspecs, name)) or ""
        assert len(doc) > 60, f"hook {name} needs a docstring that states its contract"
        if getattr(hookspecs, name).relaydesk_spec.get("firstresult"):
            assert "first non-None" in " ".join(doc.split()), f"firstresult hook {name} must say it stops at the first non-None"


def test_every_hook_has_a_test_named_after_it():
    source = "\n".join(p.read_text(encoding="utf-8") for p in TESTS.rglob("test_*.py"))
    missing = [name for name in hook_names() if f"def test_hook_{name}" not in source]
    assert not missing, f"hooks without a test_hook_<name>: {missing}"


def test_default_plugins_load_and_are_trylast():
    registry = load_registry(settings_from_dict({"relaydesk": {"database": "sqlite:///x.db"}}, "p.toml"))
    names = registry.plugin_names()
    for module in DEFAULT_PLUGINS:
        assert module in names
    impls = registry.pm.hook.sla_targets.get_hookimpls()
    assert all(i.trylast for i in impls if i.plugin_name in DEFAULT_PLUGINS)
