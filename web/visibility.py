"""Team visibility at the web's edge (the rule itself: core/visibility.py).

`viewer` gives a request's Viewer, computed once per request and kept on its scope. `check_path`
runs in every route guard (web.sessions.page_guard, web.auth.require): a route whose path names a
ticket, message or attachment that the agent may not see answers 404 before its handler runs, so
every ticket route (the inbox's fragments, the API's, and plugins' routes behind the same guards)
is covered by one check instead of one per handler."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection

from core import visibility
from core.visibility import Viewer

_SCOPE_KEY = "relaydesk_viewer"


async def viewer(connection: ASGIConnection, agent: dict[str, Any] | None) -> Viewer:
    cached = connection.scope.get(_SCOPE_KEY)  # type: ignore[call-overload]
    if cached is not None and cached.agent_id == (agent or {}).get("id", 0):
        return cached
    found = await visibility.viewer_for(agent)
    connection.scope[_SCOPE_KEY] = found  # type: ignore[literal-required]
    return found


async def check_path(connection: ASGIConnection, agent: dict[str, Any]) -> None:
    params = connection.path_params
    checks = (("ticket_id", visibility.check_ticket), ("message_id", visibility.check_message),
              ("attachment_id", visibility.check_attachment))
    for name, check in checks:
        if isinstance(params.get(name), int):
            await check(await viewer(connection, agent), params[name])
