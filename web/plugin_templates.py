"""Jinja2 templates a plugin ships in plugins/<name>/templates, rendered with the plugin's own
catalogs (plugins/<name>/translations) as `_` and `ngettext`, autoescaped. Panels and fragments of
a plugin's inbox routes use it (docs/writing-a-plugin.md, "Panels with buttons")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from web import i18n


class PluginTemplates:
    def __init__(self, package_dir: Path) -> None:
        self.translator = i18n.translator(package_dir / "translations")
        self._folder = package_dir / "templates"
        self._env: Environment | None = None

    def environment(self) -> Environment:
        if self._env is None:  # built on first use: a plugin that renders nothing pays nothing
            env = Environment(loader=FileSystemLoader(self._folder),
                              autoescape=select_autoescape(default=True, default_for_string=True))
            env.globals["_"] = self.translator
            env.globals["ngettext"] = self.translator.ngettext
            self._env = env
        return self._env

    def render(self, name: str, **context: Any) -> str:
        return self.environment().get_template(name).render(**context)
