"""Who works the desk: adding agents, roles, deactivating, passwords and the links that set them.

One place for what the CLI (`relaydesk agents ...`), the API and the admin pages do to agents, so a
deactivation means the same everywhere: the agent can no longer sign in, their sessions and API
tokens stop working at once (both are checked against `active` on every request), and their open
tickets go back through routing (or back to the unassigned queue where no routing covers them).

Password links (an invitation or a reset) are signed with the desk secret, expire, and are bound
to the agent's current password hash and session generation, so a link works once: setting the
password changes both.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from core import audit, clock
from core.auth import hash_password
from core.errors import N_, Conflict, Invalid, InvalidRequest, NotFound, RelaydeskError
from core.tables import Agent, Ticket

if TYPE_CHECKING:
    from core.desk import Desk

ROLES = ("admin", "supervisor", "agent", "readonly")
# Each role can do what the ones below it can. A supervisor runs the team (queues, teams, routing,
# SLA, rules, reply templates); only an admin manages agents, API tokens and system settings.
ROLE_RANK = {"readonly": 0, "agent": 1, "supervisor": 2, "admin": 3}
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # argon2 takes any length; this only bounds the work per attempt
INVITE_SECONDS = 7 * 24 * 3600
RESET_SECONDS = 2 * 3600
_SALT = "relaydesk-password-link"


def _refuse(kind: type[RelaydeskError], template: str, **params: object) -> NoReturn:
    """Raise `kind` with a text the inbox can show translated (web.i18n.translate_error)."""
    reason = Invalid(template, **params)
    raise kind(str(reason)) from reason


class LinkError(Exception):
    """A password link that is damaged, forged, expired or already used; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        _refuse(InvalidRequest, N_("The password must have at least {count} characters."), count=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        _refuse(InvalidRequest, N_("The password must have at most {count} characters."), count=MAX_PASSWORD_LENGTH)


def check_role(role: str) -> None:
    if role not in ROLES:
        _refuse(InvalidRequest, N_("The role must be one of {roles}."), roles=", ".join(ROLES))


async def by_email(email: str) -> dict[str, Any]:
    row = await Agent.select().where(Agent.email == email.strip().lower()).first()
    if row is None:
        _refuse(NotFound, N_("No agent has the email {email}."), email=email)
    return row


async def add(email: str, name: str, role: str = "agent", password: str | None = None, *,
              actor: str = "cli", locale: str = "en") -> dict[str, Any]:
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        _refuse(InvalidRequest, N_("{email} is not an email address."), email=email[:80])
    check_role(role)
    if password is not None:
        check_password(password)
    if await Agent.exists().where(Agent.email == email):
        _refuse(Conflict, N_("An agent with the email {email} already exists."), email=email)
    rows = await Agent.insert(Agent(name=name.strip() or email, email=email, role=role, locale=locale[:16],
                                    password_hash=hash_password(password) if password else None,
                                    created_at=clock.now())).returning(Agent.id)
    await audit.record(actor, "create", "agent", rows[0]["id"], {"email": email, "role": role})
    return await Agent.select().where(Agent.id == rows[0]["id"]).first()


async def set_role(agent_id: int, role: str, *, actor: str = "cli") -> None:
    check_role(role)
    if role != "admin" and await _is_last_admin(agent_id):
        _refuse(Conflict, N_("This is the desk's last active admin: make another agent admin first."))
    await Agent.update({Agent.role: role}).where(Agent.id == agent_id)
    await audit.record(actor, "set_role", "agent", agent_id, {"role": role})


async def _is_last_admin(agent_id: int) -> bool:
    admins = await Agent.select(Agent.id).where((Agent.role == "admin") & (Agent.active == True))  # noqa: E712
    return [r["id"] for r in admins] == [agent_id]


async def deactivate(desk: "Desk", agent_id: int, *, actor: str = "cli") -> int:
    """Returns how many open tickets went back through routing or to the unassigned queue."""
    from core import routing
    from core.events import Event, publish

    if await _is_last_admin(agent_id):
        _refuse(Conflict, N_("This is the desk's last active admin: make another agent admin first."))
    await Agent.update({Agent.active: False, Agent.availability: "offline",
                        Agent.session_generation: Agent.session_generation + 1}).where(Agent.id == agent_id)
    routing.invalidate()
    moved = await routing.reassign_from(desk, agent_id, reason="was deactivated")
    # Tickets no routing strategy covers are not left with someone who cannot answer them.
    left = await Ticket.select(Ticket.id).where((Ticket.assignee == agent_id) & Ticket.status.is_in(["new", "open"]))
    if left:
        ids = [r["id"] for r in left]
        await Ticket.update({Ticket.assignee: None, Ticket.updated_at: clock.now(),
                             Ticket.route_reason: f"unassigned: agent {agent_id} was deactivated"}).where(
            Ticket.id.is_in(ids) & (Ticket.assignee == agent_id))
        await publish(desk, [Event("assigned", i, actor="system:people", data={"assignee": None}) for i in ids])
    await audit.record(actor, "deactivate", "agent", agent_id, {"tickets_moved": moved + len(left)})
    return moved + len(left)


async def activate(agent_id: int, *, actor: str = "cli") -> None:
    await Agent.update({Agent.active: True}).where(Agent.id == agent_id)
    await audit.record(actor, "activate", "agent", agent_id, {})


async def set_password(agent_id: int, password: str, *, actor: str = "cli") -> None:
    """Set a new password; every other session of the agent ends (a stolen session does not survive
    the reset meant to shut it out)."""
    check_password(password)
    await Agent.update({Agent.password_hash: hash_password(password),
                        Agent.session_generation: Agent.session_generation + 1}).where(Agent.id == agent_id)
    await audit.record(actor, "set_password", "agent", agent_id, {})


# --- signed password links ------------------------------------------------------------------------


@dataclass(frozen=True)
class PasswordLink:
    agent_id: int
    purpose: str  # "invite" or "reset"


def _serializer(secret: str) -> URLSafeTimedSerializer:
    if not secret:
        _refuse(Conflict, N_("The desk has no secret, so it cannot sign links: set secret in [relaydesk]."))
    return URLSafeTimedSerializer(secret, salt=_SALT)


def _fingerprint(agent: dict[str, Any]) -> str:
    """Changes when the password is set or sessions are ended, which spends every earlier link."""
    raw = f"{agent['password_hash'] or ''}|{agent['session_generation']}|{agent['active']}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def make_link_token(secret: str, agent: dict[str, Any], purpose: str) -> str:
    return _serializer(secret).dumps({"a": agent["id"], "p": purpose, "f": _fingerprint(agent)})


def link_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/password/{token}"


async def read_link_token(secret: str, token: str) -> tuple[PasswordLink, dict[str, Any]]:
    """The link's agent, or LinkError("damaged" | "expired" | "used")."""
    if len(token) > 512:
        raise LinkError("damaged")
    serializer = _serializer(secret)
    try:
        data = serializer.loads(token, max_age=INVITE_SECONDS)
    except SignatureExpired:
        raise LinkError("expired") from None
    except BadSignature:
        raise LinkError("damaged") from None
    if not isinstance(data, dict) or not isinstance(data.get("a"), int) or data.get("p") not in ("invite", "reset"):
        raise LinkError("damaged")
    if data["p"] == "reset":
        try:
            serializer.loads(token, max_age=RESET_SECONDS)
        except SignatureExpired:
            raise LinkError("expired") from None
    agent = await Agent.select().where(Agent.id == data["a"]).first()
    if agent is None or not agent["active"]:
        raise LinkError("used")
    if _fingerprint(agent) != data.get("f"):
        raise LinkError("used")
    return PasswordLink(agent["id"], data["p"]), agent
