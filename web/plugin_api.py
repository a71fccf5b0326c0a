"""The web half of the plugin surface (see core.plugin_api): route guards, the signed-in agent,
error bodies, strings in the agent's language and plugin templates. A plugin's routes import these
names from here, never from other web modules."""

from __future__ import annotations

from core.plugin_version import PLUGIN_API_VERSION
from web import i18n
from web.auth import ROLE_RANK, actor, check_ticket, current_agent, require
from web.api.openapi import errors as openapi_errors
from web.api.openapi import with_body as openapi_with_body
from web.client_address import client_address
from web.errors import error_body
from web.inbox import NODE_MODULES
from web.inbox.common import form_value, inbox_error
from web.inbox.common import page as inbox_page
from web.plugin_templates import PluginTemplates
from web.sessions import page_guard, session_agent

translator = i18n.translator

__all__ = [
    "PLUGIN_API_VERSION", "ROLE_RANK", "PluginTemplates", "actor", "check_ticket", "current_agent", "error_body", "i18n",
    "page_guard", "require", "session_agent", "translator", "openapi_errors", "openapi_with_body", "client_address",
    "NODE_MODULES", "form_value", "inbox_error", "inbox_page",
]
