"""Assignment decisions. Strategies are plugins implementing the `route` hook; the core only
applies the first decision and records why it was made."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(slots=True, frozen=True)
class RouteDecision:
    agent_id: int | None
    team_id: int | None
    reason: str


def decide(registry: Any, ticket: dict[str, Any], desk: Any) -> RouteDecision:
    return registry.hook.route(ticket=ticket, desk=desk) or RouteDecision(None, None, "no routing plugin decided")
