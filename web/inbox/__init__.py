"""The agent inbox: server-rendered pages (jinja2 + htmx) on sessions with CSRF protection.

`setup(desk)` returns what the app factory adds: the route handlers, the session and CSRF configs,
the template config, the stores and the channels plugin for live updates.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Router, get
from litestar.response import File
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from core import reply_files
from core.errors import NotFound, RelaydeskError
from web import i18n, sessions
from web.inbox import (account, admin, agents, audit, bulk, customer_data, forgot, images, live, password, planning,
                       policies, queues, reply_templates, reports, spam, ticket, views)
from web.inbox.common import inbox_error

WEB = Path(__file__).resolve().parent.parent
TEMPLATES = WEB / "templates"
STATIC = WEB / "static"
NODE_MODULES = WEB / "node_modules"
# Only these files of node_modules are served, nothing else under it.
VENDOR_FILES = {
    "htmx.min.js": NODE_MODULES / "htmx.org" / "dist" / "htmx.min.js",
    "chart.umd.min.js": NODE_MODULES / "chart.js" / "dist" / "chart.umd.min.js",  # the reports' charts
}


@dataclass
class InboxSetup:
    route_handlers: list[Any]
    session: Any
    csrf: Any  # middleware: CSRF tokens bound to the session (web.csrf)
    template_config: TemplateConfig
    stores: dict[str, Any]
    plugins: list[Any]


_DICT_ATTRIBUTES = frozenset(dir(dict))


class PageEnvironment(Environment):
    """jinja2's environment with a shorter way to a dict's keys. The pages read rows (dicts) by
    `row.name`, which jinja2 tries as an attribute first: an AttributeError raised and caught for
    every field of every row, thousands per page. For a plain dict and a name that is none of
    dict's own attributes that attempt always fails, so the key is looked up at once: the same
    result, without the exception."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except LookupError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


def environment() -> Environment:
    # Templates are read once per process (no stat of every template and include on every page);
    # RELAYDESK_TEMPLATE_RELOAD=1 reloads edited templates while developing.
    env = PageEnvironment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                          trim_blocks=True, lstrip_blocks=True,
                          auto_reload=os.environ.get("RELAYDESK_TEMPLATE_RELOAD") == "1")
    i18n.install(env)
    return env


def channel_labels(env: Environment, desk: Any) -> Environment:
    """`{{ type|channel_label }}`: the label a channel registered ("WhatsApp", "API"), not its type."""
    labels = {name: channel.label or name for name, channel in desk.registry.channels.items()}
    env.filters["channel_label"] = lambda channel_type: labels.get(channel_type, channel_type)
    return env


def setup(desk: Any) -> InboxSetup:
    settings = desk.settings
    for name, path in VENDOR_FILES.items():
        if not path.is_file():
            raise RuntimeError(f"{path} is missing: run `npm ci --prefix web` (front-end packages of the inbox)")
    channels = live.channels_plugin(settings)
    if not settings.redis:
        desk.live = live.ChannelsLiveBus(channels, live.live_channel(settings.queue_name), desk.live)
    handlers = [*account.ROUTES, *queues.ROUTES, *ticket.ROUTES, *live.ROUTES, *admin.ROUTES, *policies.ROUTES,
                *images.ROUTES, *password.ROUTES, *forgot.ROUTES, *agents.ROUTES, *audit.ROUTES, *customer_data.ROUTES,
                *spam.ROUTES, *bulk.ROUTES, *reply_templates.ROUTES, *views.ROUTES, *reports.ROUTES, *planning.ROUTES]
    # The reply carries files: its own body limit, the desk's cap on a reply's files plus room for
    # the text and the multipart framing (every other page keeps max_webhook_bytes).
    replies = Router(path="/", route_handlers=[ticket.reply], request_max_body_size=reply_files.body_limit(settings))
    pages = Router(path="/", route_handlers=[*handlers, replies],
                   exception_handlers={RelaydeskError: inbox_error, Exception: inbox_error})  # type: ignore[dict-item]
    static = create_static_files_router(path="/static", directories=[STATIC], include_in_schema=False)
    return InboxSetup(
        route_handlers=[pages, static, vendor, favicon], session=sessions.session_config(settings).middleware,
        csrf=sessions.csrf_middleware(settings),
        template_config=TemplateConfig(engine=JinjaTemplateEngine.from_environment(channel_labels(environment(), desk))),
        stores={sessions.SESSION_STORE: sessions.session_store(settings)}, plugins=[channels],
    )


@get("/favicon.ico", include_in_schema=False)
async def favicon() -> File:
    """Browsers ask for /favicon.ico on pages without a <link rel=icon> (the JSON API, errors): our own icon."""
    return File(path=STATIC / "favicon.svg", media_type="image/svg+xml", content_disposition_type="inline",
                headers={"cache-control": "public, max-age=86400"})


@get("/static/vendor/{name:str}", include_in_schema=False)
async def vendor(name: str) -> File:
    """The front-end packages npm installed, served from node_modules: only the listed files."""
    path = VENDOR_FILES.get(name)
    if path is None:
        raise NotFound("no such file")
    return File(path=path, media_type="text/javascript", content_disposition_type="inline",
                headers={"cache-control": "public, max-age=3600"})
