"""Agents' browser sessions: server-side sessions, CSRF, sign-in with argon2, throttled failures and
sign-out everywhere.

Sessions live in the database (web.session_store), in both deployments: every web process sees
them, and neither a Redis restart nor a web process restart signs anyone out. A session holds the
agent id and the agent's session generation at sign-in; "sign out everywhere" bumps the generation, which ends every other session
at its next request. Failed sign-ins are counted per (account, IP) in the database, so the limit
holds across processes.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.stores.base import Store

from core import clock, db
from core.auth import verify_password
from core.config import Settings
from core.errors import RelaydeskError
from core.tables import Agent, LoginThrottle
from web import i18n

SESSION_STORE = "relaydesk_sessions"
SESSION_MAX_AGE = 12 * 3600
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
ROLE_RANK = {"readonly": 0, "agent": 1, "admin": 2}
# Token and signature authenticated routes: no cookies, so no CSRF and no session.
NO_SESSION = ["^/api/", "^/hooks/", "^/health", "^/ready", "^/metrics", "^/static/"]


class SignInRequired(RelaydeskError):
    status_code = 401
    code = "sign_in_required"


class NotAllowed(RelaydeskError):
    status_code = 403
    code = "forbidden"


def session_secret(settings: Settings) -> str:
    # CSRF tokens are HMACs under this secret; without a configured one each start draws a new
    # secret, which only means open forms need a reload after a restart.
    return settings.secret or _process_secret()


_SECRET = secrets.token_hex(32)


def _process_secret() -> str:
    return _SECRET


def session_store(settings: Settings) -> Store:
    from web.session_store import DatabaseSessionStore

    return DatabaseSessionStore()


# Set on the request scope by sign-in: the session is stored under a fresh id and the old one is dropped.
ROTATE_SESSION = "relaydesk_rotate_session"


class RotatingSessionBackend(ServerSideSessionBackend):
    """Issues a fresh session id when the request asked for one (sign-in), so an id planted in a
    browser before sign-in (session fixation) never becomes a signed-in session."""

    def get_session_id(self, connection: ASGIConnection) -> str:
        fresh = connection.scope.get(ROTATE_SESSION)  # type: ignore[call-overload]
        if fresh is True:
            fresh = connection.scope[ROTATE_SESSION] = self.generate_session_id()  # type: ignore[literal-required]
        return fresh or super().get_session_id(connection)

    async def store_in_message(self, scope_session: Any, message: Any, connection: ASGIConnection) -> None:
        old = connection.cookies.get(self.config.key)
        if connection.scope.get(ROTATE_SESSION) and old:  # type: ignore[call-overload]
            await self.delete(old, store=self.config.get_store_from_app(connection.scope["app"]))
        await super().store_in_message(scope_session, message, connection)


class RotatingSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend


def rotate_session(connection: ASGIConnection) -> None:
    """Store this request's session under a new id (call before set_session at sign-in)."""
    connection.scope[ROTATE_SESSION] = True  # type: ignore[literal-required]


def session_config(settings: Settings) -> ServerSideSessionConfig:
    secure = settings.public_url.startswith("https://")
    return RotatingSessionConfig(store=SESSION_STORE, key="relaydesk_session", max_age=SESSION_MAX_AGE,
                                   httponly=True, samesite="lax", secure=secure, exclude=NO_SESSION,
                                   renew_on_access=True)


def csrf_config(settings: Settings) -> CSRFConfig:
    return CSRFConfig(secret=session_secret(settings), cookie_name="relaydesk_csrf", header_name="x-csrftoken",
                      cookie_secure=settings.public_url.startswith("https://"), cookie_samesite="lax",
                      exclude=NO_SESSION)


# --- who is signed in ---------------------------------------------------------------------------

AGENT_COLUMNS = (Agent.id, Agent.name, Agent.email, Agent.role, Agent.active, Agent.locale, Agent.timezone,
                 Agent.availability, Agent.session_generation)


async def session_agent(connection: ASGIConnection) -> dict[str, Any] | None:
    """The signed-in agent, or None when the session is missing, stale or signed out everywhere."""
    if "relaydesk_session_agent" in connection.scope:
        return connection.scope["relaydesk_session_agent"]  # type: ignore[typeddict-item]
    session = connection.scope.get("session") or {}
    agent = None
    if isinstance(session, dict) and session.get("agent_id"):
        row = await Agent.select(*AGENT_COLUMNS).where(Agent.id == session["agent_id"]).first()
        if row and row["active"] and row["session_generation"] == session.get("generation"):
            agent = row
    connection.scope["relaydesk_session_agent"] = agent  # type: ignore[typeddict-unknown-key]
    if agent:
        i18n.current_language.set(agent["locale"] if agent["locale"] in i18n.LANGUAGES else "en")
        i18n.current_timezone.set(agent["timezone"] or "UTC")
    return agent


def page_guard(role: str):
    """A guard for inbox pages: signed in, and at least `role`."""

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        agent = await session_agent(connection)
        if agent is None:
            raise SignInRequired("please sign in")
        if ROLE_RANK.get(agent["role"], -1) < ROLE_RANK[role]:
            raise NotAllowed(i18n.gettext_("You do not have permission to do this."))

    return guard


def can(agent: dict[str, Any] | None, role: str) -> bool:
    return bool(agent) and ROLE_RANK.get(agent["role"], -1) >= ROLE_RANK[role]  # type: ignore[index]


# --- sign in --------------------------------------------------------------------------------------


class Throttled(RelaydeskError):
    status_code = 429
    code = "rate_limited"


async def sign_in(email: str, password: str, ip: str) -> dict[str, Any] | None:
    """Check a password; raises Throttled while this account+IP is locked out, returns the agent or
    None. Every failure counts, whether or not the account exists."""
    email = (email or "").strip().lower()
    key = f"{email}|{ip}"[:300]
    now = clock.now()
    row = await LoginThrottle.select().where(LoginThrottle.key == key).first()
    if row and row["locked_until"] and row["locked_until"] > now:
        raise Throttled(i18n.gettext_("Too many failed sign-ins. Try again in 15 minutes."))
    agent = await Agent.select(Agent.id, Agent.password_hash, Agent.active, Agent.session_generation).where(
        Agent.email == email).first()
    if agent and agent["active"] and verify_password(agent["password_hash"], password):
        if row:
            await LoginThrottle.delete().where(LoginThrottle.key == key)
        return agent
    async with db.transaction():
        row = await LoginThrottle.select().where(LoginThrottle.key == key).first()
        if row is None or row["window_started_at"] < now - FAILURE_WINDOW:
            if row is None:
                await db.fetch("INSERT INTO login_throttle (key, failures, window_started_at) VALUES ({}, 1, {}) "
                               "ON CONFLICT (key) DO UPDATE SET failures = 1, window_started_at = {}, "
                               "locked_until = NULL", key, now, now)
            else:
                await LoginThrottle.update({LoginThrottle.failures: 1, LoginThrottle.window_started_at: now,
                                            LoginThrottle.locked_until: None}).where(LoginThrottle.key == key)
        else:
            failures = row["failures"] + 1
            values: dict[Any, Any] = {LoginThrottle.failures: failures}
            if failures >= MAX_FAILURES:
                values[LoginThrottle.locked_until] = now + LOCKOUT
            await LoginThrottle.update(values).where(LoginThrottle.key == key)
    return None


async def sign_out_everywhere(agent_id: int) -> None:
    await Agent.update({Agent.session_generation: Agent.session_generation + 1}).where(Agent.id == agent_id)
