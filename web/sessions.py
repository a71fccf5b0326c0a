"""Agents' browser sessions: server-side sessions, CSRF, sign-in with argon2, throttled failures and
sign-out everywhere.

Sessions live in the database (web.session_store), in both deployments: every web process sees
them, and neither a Redis restart nor a web process restart signs anyone out. A session holds the
agent id and the agent's session generation at sign-in; "sign out everywhere" bumps the generation,
which ends every other session at its next request. Failed sign-ins are counted per account and per
client address in the database, so the limits hold across processes; the address is the peer's
unless it is a trusted proxy (web.client_address).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

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
from core.people import ROLE_RANK  # noqa: E402  (one ranking for the API and the pages)
# Token and signature authenticated routes: no cookies, so no CSRF and no session.
NO_SESSION = ["^/api/", "^/hooks/", "^/health", "^/ready", "^/metrics", "^/static/"]


class SignInRequired(RelaydeskError):
    status_code = 401
    code = "sign_in_required"


class NotAllowed(RelaydeskError):
    status_code = 403
    code = "forbidden"


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


def csrf_middleware(settings: Settings) -> Any:
    """CSRF tokens kept in the session (web.csrf), and the same-origin check for state changes."""
    from web.csrf import SessionCsrfMiddleware

    return SessionCsrfMiddleware(settings.public_url, NO_SESSION)


# --- who is signed in ---------------------------------------------------------------------------

AGENT_COLUMNS = (Agent.id, Agent.name, Agent.email, Agent.role, Agent.active, Agent.locale, Agent.timezone,
                 Agent.availability, Agent.session_generation)
AGENT_COLUMN_NAMES = ", ".join(column._meta.db_column_name for column in AGENT_COLUMNS)


async def session_agent(connection: ASGIConnection) -> dict[str, Any] | None:
    """The signed-in agent, or None when the session is missing, stale or signed out everywhere."""
    if "relaydesk_session_agent" in connection.scope:
        return connection.scope["relaydesk_session_agent"]  # type: ignore[typeddict-item]
    session = connection.scope.get("session") or {}
    agent = None
    if isinstance(session, dict) and session.get("agent_id"):
        # a plain statement: this runs on every request, and piccolo's builder cost more than the query
        rows = await db.fetch(f"SELECT {AGENT_COLUMN_NAMES} FROM agents WHERE id = {{}}", session["agent_id"])
        row = rows[0] if rows else None
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
        from web.visibility import check_path

        await check_path(connection, agent)  # a ticket of a team the agent may not see: 404

    return guard


def can(agent: dict[str, Any] | None, role: str) -> bool:
    return bool(agent) and ROLE_RANK.get(agent["role"], -1) >= ROLE_RANK[role]  # type: ignore[index]


# --- sign in --------------------------------------------------------------------------------------


class Throttled(RelaydeskError):
    status_code = 429
    code = "rate_limited"


# Failures counted per account whatever the address, so guesses spread over many addresses still
# lock the account; and per address, so one address cannot try many accounts. The address limit is
# higher: an office behind one NAT shares it.
MAX_ADDRESS_FAILURES = 20


def throttle_keys(email: str, ip: str) -> list[tuple[str, int]]:
    return [(f"account:{email}"[:300], MAX_FAILURES), (f"address:{ip}"[:300], MAX_ADDRESS_FAILURES)]


async def sign_in(email: str, password: str, ip: str) -> dict[str, Any] | None:
    """Check a password; raises Throttled while the account or the address is locked out, returns the
    agent or None. Every failure counts, whether or not the account exists, and an unknown account
    costs the same argon2 work as a known one (core.auth.verify_password)."""
    email = (email or "").strip().lower()
    keys = throttle_keys(email, ip)
    now = clock.now()
    rows = {r["key"]: r for r in await LoginThrottle.select().where(LoginThrottle.key.is_in([k for k, _ in keys]))}
    if any(r["locked_until"] and r["locked_until"] > now for r in rows.values()):
        raise Throttled(i18n.gettext_("Too many failed sign-ins. Try again in 15 minutes."))
    agent = await Agent.select(Agent.id, Agent.password_hash, Agent.active, Agent.session_generation).where(
        Agent.email == email).first()
    known = bool(agent and agent["active"])
    if verify_password(agent["password_hash"] if known else None, password) and known:
        # the account's count starts again; the address's does not (one good account must not
        # reset an address that is guessing at others)
        await LoginThrottle.delete().where(LoginThrottle.key == keys[0][0])
        return agent
    async with db.transaction():
        for key, limit in keys:
            await _count_failure(key, limit, now)
    return None


# "Forgot your password?" requests: a few per account and a few more per address per window, so the
# form can neither flood an agent's mailbox nor serve as a cheap way to mail strangers.
MAX_RESET_REQUESTS = 3
MAX_RESET_REQUESTS_PER_ADDRESS = 10


async def reset_request_allowed(email: str, ip: str) -> bool:
    """Count a password-reset request; False once the account or the address has asked too often."""
    keys = [(f"reset:{email}"[:300], MAX_RESET_REQUESTS), (f"reset-address:{ip}"[:300], MAX_RESET_REQUESTS_PER_ADDRESS)]
    now = clock.now()
    rows = await LoginThrottle.select().where(LoginThrottle.key.is_in([k for k, _ in keys]))
    if any(r["locked_until"] and r["locked_until"] > now for r in rows):
        return False
    async with db.transaction():
        for key, limit in keys:
            await _count_failure(key, limit, now)
    return True


async def _count_failure(key: str, limit: int, now: Any) -> None:
    row = await LoginThrottle.select().where(LoginThrottle.key == key).first()
    if row is None or row["window_started_at"] < now - FAILURE_WINDOW:
        await db.fetch("INSERT INTO login_throttle (key, failures, window_started_at) VALUES ({}, 1, {}) "
                       "ON CONFLICT (key) DO UPDATE SET failures = 1, window_started_at = {}, "
                       "locked_until = NULL", key, now, now)
        return
    failures = row["failures"] + 1
    values: dict[Any, Any] = {LoginThrottle.failures: failures}
    if failures >= limit:
        values[LoginThrottle.locked_until] = now + LOCKOUT
    await LoginThrottle.update(values).where(LoginThrottle.key == key)


async def sign_out_everywhere(agent_id: int) -> None:
    await Agent.update({Agent.session_generation: Agent.session_generation + 1}).where(Agent.id == agent_id)
