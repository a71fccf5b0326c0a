"""The plugin surface: everything a Relaydesk plugin may import from the core, in one place.

A plugin imports from here (and from web.plugin_api for routes, error bodies and strings), never
from other core or web modules: those may change in any release, these names change only as
docs/plugin-api.md promises. The surface is versioned by PLUGIN_API_VERSION; a plugin that needs
a given version says so at the top of its module:

    from core.plugin_api import require_plugin_api
    require_plugin_api("1.0", plugin="telegram")

The modules re-exported whole (clock, db, attachments, audit, desk_mail, macros, outbound, privacy,
urlguard) promise
only the functions docs/plugin-api.md lists for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core import attachments, audit, clock, db, desk_mail, macros, outbound, privacy, urlguard
from core.attachments import PENDING_KEY
from core.auth import create_token, hash_password
from core.bounds import Id, Int32
from core.config import Settings, load_settings
from core.context import customer_context
from core.db import engine, register_tables
from core.desk import Desk
from core.errors import (
    ChannelError,
    ConfigError,
    Conflict,
    DraftRejected,
    Forbidden,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    RelaydeskError,
    SignatureInvalid,
    Unauthorized,
    Unavailable,
)
from core.events import Event, publish
from core.identity import is_own_key
from core.inbound import ingest
from core.migrate import migrate
from core.payloads import decode_part
from core.people import ROLE_RANK
from core.reports import rollups as report_rollups
from core.reports.forecast import black_friday
from core.plugin_version import PLUGIN_API_VERSION, PluginApiVersionError, require_plugin_api
from core.plugins import hookimpl
from core.polling import poll_account
from core.sanitize import sanitize_html
from core.search import MAX_QUERY as MAX_SEARCH_QUERY
from core.search import MAX_TERM as MAX_SEARCH_TERM
from core.search import query_terms as search_query_terms
from core.search import terms as search_terms
from core.sla import SlaTargets
from core.tables import OPEN_STATUSES, Agent, AgentShift, Customer, Identity, Macro, Message, Team, Ticket
from core.types import (
    Account,
    ChannelLimits,
    ChannelType,
    DraftProblem,
    InboundAttachment,
    InboundClaim,
    InboundMessage,
    JobSpec,
    OutboundMessage,
    SendResult,
    StatusUpdate,
    WebhookReply,
    WebhookRequest,
    WebhookResult,
    Withdrawal,
)
from core.webhooks import hub_challenge, sign_timestamped, verify_hmac_sha256

if TYPE_CHECKING:
    import click

STANDALONE = "relaydesk_standalone"


def standalone_command(command: "click.Command") -> "click.Command":
    """Mark a command from register_commands as runnable without its plugin enabled (it builds its
    own configuration, like `relaydesk demo`). Other plugin commands answer with a hint to enable
    the plugin when it is off."""
    setattr(command, STANDALONE, True)
    return command


def settings_path() -> str:
    """Inside a plugin's click command: the plugins.toml this run reads (--config, before or after
    the command; else $RELAYDESK_CONFIG; else ./plugins.toml)."""
    import click

    from core.cli_config import chosen_path

    ctx = click.get_current_context()
    return (ctx.find_root().obj or {}).get("settings_path") or chosen_path(ctx)


def desk_from_config(path: str | None = None) -> Desk:
    """Inside a plugin's click command: the (not yet started) desk of `path`, default
    settings_path(). A configuration error is printed and exits 2. `await desk.start()` before
    touching the database; `desk.registry.account(plugin, name)` finds an account."""
    from core.cli import _desk

    return _desk(path or settings_path())


def load_env_file(config_path: str) -> None:
    """Load `relaydesk.env` beside a plugins.toml (KEY=VALUE lines; variables already set win)."""
    from core.cli import load_env_file as load

    load(config_path)


def run_web(host: str, port: int) -> None:
    """Serve the desk of $RELAYDESK_CONFIG on host:port in this process (jobs in-process), as
    `relaydesk demo` does. Blocks until stopped."""
    import uvicorn

    from core.cli import UVICORN_OPTIONS

    uvicorn.run("web.asgi:app", host=host, port=port, log_level="info", lifespan="on", **UVICORN_OPTIONS)


__all__ = [
    "PENDING_KEY", "PLUGIN_API_VERSION", "OPEN_STATUSES",
    # versions
    "PluginApiVersionError", "require_plugin_api",
    # hooks and types
    "hookimpl", "Account", "ChannelLimits", "ChannelType", "DraftProblem", "InboundAttachment", "InboundClaim",
    "InboundMessage", "JobSpec", "OutboundMessage", "SendResult", "StatusUpdate", "WebhookReply",
    "WebhookRequest", "WebhookResult", "Withdrawal",
    # errors
    "RelaydeskError", "ChannelError", "ConfigError", "Conflict", "DraftRejected", "Forbidden", "InvalidRequest",
    "NotFound", "PayloadTooLarge", "SignatureInvalid", "Unauthorized", "Unavailable",
    # the desk and its data
    "Desk", "Settings", "load_settings", "migrate", "engine", "register_tables",
    "Agent", "AgentShift", "Customer", "Identity", "Macro", "Message", "Team", "Ticket", "ROLE_RANK", "Id", "Int32",
    "customer_context", "report_rollups", "black_friday",
    "ingest", "poll_account", "Event", "publish", "SlaTargets",
    "create_token", "hash_password",
    # helpers for parsing and signing
    "decode_part", "is_own_key", "sanitize_html", "hub_challenge", "sign_timestamped", "verify_hmac_sha256",
    # the ticket search's tokenizer, for a plugin's own full-text search (the same terms, Chinese too)
    "search_terms", "search_query_terms", "MAX_SEARCH_QUERY", "MAX_SEARCH_TERM",
    # modules (only the functions docs/plugin-api.md lists)
    "attachments", "audit", "clock", "db", "desk_mail", "macros", "outbound", "privacy", "urlguard",
    # CLI
    "standalone_command", "settings_path", "run_web", "desk_from_config", "load_env_file",
]
