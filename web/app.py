"""The litestar application factory."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from litestar import Litestar
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin

from core.config import Settings, load_settings
from core.desk import Desk
from core.logs import configured_by_cli
from web.api.agents import AgentController, TokenController
from web.api.admin import AdminController
from web.api.audit import AuditController
from web.api.reports import ReportsController
from web.api.spam import SpamController
from web.api.views import ViewController
from web.api.customers import CustomerController
from web.api.tickets import TicketController, reply_router
from web.errors import EXCEPTION_HANDLERS
from web.health import health, metrics, ready, root
from web.hooks import webhook
from web.inbox import setup as inbox_setup
from web.inbox.live import LiveChannelsPlugin
from web.security_headers import SecurityHeadersMiddleware
from web.stopping import close_live_streams_on_stop
from web.strict import StrictInputMiddleware


def create_app(settings: Settings | None = None, *, desk: Desk | None = None, run_jobs: bool | None = None,
               migrate: bool = False, extra_plugins: list[tuple[str, Any]] | None = None) -> Litestar:
    """Build the app. The desk starts with the app's lifespan and stops with it."""
    if desk is None:
        desk = Desk(settings or load_settings(), extra_plugins=extra_plugins)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        owns = not desk.started
        if owns:
            await desk.start(run_jobs=run_jobs, migrate=migrate)
        # under uvicorn, SIGTERM ends the live streams at once rather than after the grace period
        restore_signals = close_live_streams_on_stop(app.plugins.get(LiveChannelsPlugin))
        try:
            yield
        finally:
            restore_signals()
            if owns:
                await desk.stop()

    inbox = inbox_setup(desk)  # the agent inbox: pages, sessions, CSRF, templates, live updates
    app = Litestar(
        route_handlers=[root, health, ready, metrics, webhook, TicketController, CustomerController, AgentController,
                         TokenController, AdminController, AuditController, SpamController, ViewController,
                         ReportsController, reply_router(desk.settings),
                        *inbox.route_handlers, *desk.registry.routes],
        middleware=[StrictInputMiddleware(), inbox.session, inbox.csrf], template_config=inbox.template_config,
        stores=inbox.stores, plugins=inbox.plugins,
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        lifespan=[lifespan],
        request_max_body_size=desk.settings.max_webhook_bytes,
        openapi_config=OpenAPIConfig(
            title="Relaydesk API", version="1", path="/api/v1/schema",
            render_plugins=[JsonRenderPlugin(), SwaggerRenderPlugin()],
        ),
        debug=False,
        # under `relaydesk serve` the CLI has set up logging (text or JSON): litestar keeps its hands off
        **({"logging_config": None} if configured_by_cli() else {}),
    )
    app.state.desk = desk
    # outermost, so every response (404s, static files, errors) carries the browser defenses
    app.asgi_handler = SecurityHeadersMiddleware(app.asgi_handler)
    return app
