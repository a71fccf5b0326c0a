"""The plugin's jinja2 templates (plugins/amazon/templates), with the plugin's catalogs as `_`."""

from __future__ import annotations

from pathlib import Path

from web.plugin_api import PluginTemplates

_templates = PluginTemplates(Path(__file__).parent)
_ = _templates.translator  # the same catalogs as the plugin's other modules
render = _templates.render
