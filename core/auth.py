"""Agents' passwords (argon2) and API tokens (random, stored only as a sha256 digest)."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core import clock
from core.tables import Agent, ApiToken

_hasher = PasswordHasher()
TOKEN_PREFIX = "rd_"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


_checks = 0
_dummy_hash: str | None = None


def password_checks() -> int:
    """argon2 verifications run by this process (a metric: every sign-in attempt costs exactly one)."""
    return _checks


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Check `password`; without a stored hash (unknown account, no password set) a dummy hash is
    verified instead, so an unknown e-mail costs the same time as a known one and the answer's
    timing does not tell which accounts exist."""
    global _checks, _dummy_hash
    from core.metrics import PASSWORD_CHECKS

    _checks += 1
    PASSWORD_CHECKS.inc()
    real = bool(stored_hash)
    if not real:
        if _dummy_hash is None:
            _dummy_hash = _hasher.hash(secrets.token_urlsafe(16))
        stored_hash = _dummy_hash
    try:
        return _hasher.verify(stored_hash, password) and real
    except (VerificationError, InvalidHashError):
        return False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_token(agent_id: int, name: str) -> str:
    """Create a token and return it; only its digest is stored, so it is shown once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    await ApiToken.insert(ApiToken(agent=agent_id, name=name, token_hash=_digest(token), prefix=token[:10],
                                   created_at=clock.now()))
    return token


async def agent_for_token(token: str) -> dict[str, Any] | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = await ApiToken.select(ApiToken.id, ApiToken.agent).where(
        (ApiToken.token_hash == _digest(token)) & ApiToken.revoked_at.is_null()
    ).first()
    if row is None:
        return None
    agent = await Agent.select(Agent.id, Agent.name, Agent.email, Agent.role, Agent.active, Agent.timezone).where(
        Agent.id == row["agent"]).first()
    if agent is None or not agent["active"]:
        return None
    return agent


async def revoke_token(token_id: int, agent_id: int) -> bool:
    rows = await ApiToken.update({ApiToken.revoked_at: clock.now()}).where(
        (ApiToken.id == token_id) & (ApiToken.agent == agent_id) & ApiToken.revoked_at.is_null()
    ).returning(ApiToken.id)
    return bool(rows)
