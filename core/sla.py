"""SLA targets and due times. Policies, calendars and the breach sweeper grow here (routing/SLA issue);
the foundation computes due times in calendar minutes from the sla_targets hook."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


@dataclass(slots=True, frozen=True)
class SlaTargets:
    first_response_minutes: int | None = None
    next_response_minutes: int | None = None
    resolution_minutes: int | None = None


def due(start: datetime, minutes: int | None) -> datetime | None:
    return None if minutes is None else start + timedelta(minutes=minutes)


def earliest(*times: datetime | None) -> datetime | None:
    """The ticket's sla_due_at: the earliest due time still running."""
    present = [t for t in times if t is not None]
    return min(present) if present else None


def targets_for(registry: Any, ticket: dict[str, Any]) -> SlaTargets:
    return registry.hook.sla_targets(ticket=ticket) or SlaTargets()
