"""The plugin's jinja2 templates (plugins/assist/templates), with the plugin's catalogs as `_`."""

from __future__ import annotations

from pathlib import Path

from web.plugin_api import PluginTemplates

_templates = PluginTemplates(Path(__file__).parent)
_ = _templates.translator
render = _templates.render
