"""The web half of the plugin surface (see core.plugin_api): route guards, the signed-in agent,
error bodies, strings in the agent's language and plugin templates. A plugin's routes import these
names from here, never from other web modules."""

from __future__ import annotations

from core.plugin_version import PLUGIN_API_VERSION
from web import i18n
from web.auth import ROLE_RANK, actor, current_agent, require
from web.errors import error_body
from web.plugin_templates import PluginTemplates
from web.sessions import page_guard, session_agent

translator = i18n.translator

__all__ = [
    "PLUGIN_API_VERSION", "ROLE_RANK", "PluginTemplates", "actor", "current_agent", "error_body", "i18n",
    "page_guard", "require", "session_agent", "translator",
]
