"""API authentication (bearer tokens) and per-role access."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from core.auth import agent_for_token
from core.errors import Forbidden, Unauthorized

from core.people import ROLE_RANK  # noqa: E402  (one ranking for the API and the pages)


async def current_agent(request: Request) -> dict[str, Any]:
    """The agent behind the request's bearer token, or 401."""
    cached = request.scope.get("relaydesk_agent")
    if cached:
        return cached
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("send an API token as 'Authorization: Bearer rd_...'", code="token_missing")
    agent = await agent_for_token(token.strip())
    if agent is None:
        raise Unauthorized("the API token is unknown or revoked", code="token_invalid")
    request.scope["relaydesk_agent"] = agent  # type: ignore[typeddict-unknown-key]
    return agent


def require(role: str):
    """A guard: the agent's role must be at least `role`. Reads need readonly, writes agent."""

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        agent = await current_agent(connection)  # type: ignore[arg-type]
        if ROLE_RANK.get(agent["role"], -1) < ROLE_RANK[role]:
            raise Forbidden(f"this needs the {role} role; you are {agent['role']}")
        from web.visibility import check_path

        await check_path(connection, agent)  # a ticket of a team the agent may not see: 404

    return guard


async def check_ticket(request: Request, ticket_id: int) -> None:
    """404 unless the token's agent may see the ticket (core.visibility), for routes that name the
    ticket in their body rather than their path (the path's are checked by `require`)."""
    from web.visibility import viewer

    from core.visibility import check_ticket as check

    await check(await viewer(request, await current_agent(request)), ticket_id)


def actor(agent: dict[str, Any]) -> str:
    return f"agent:{agent['id']}"
