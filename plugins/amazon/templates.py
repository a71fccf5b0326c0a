"""The plugin's jinja2 templates (plugins/amazon/templates), with the plugin's catalogs as `_`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from web import i18n

_ = i18n.translator(Path(__file__).parent / "translations")  # the same catalogs as plugins.amazon.catalog


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True))
    env.globals["_"] = _
    env.globals["ngettext"] = _.ngettext
    return env


def render(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)
