"""The audit log: who changed what. Written in the same transaction as the change."""

from __future__ import annotations

from typing import Any

from core import clock
from core.tables import AuditEntry


async def record(actor: str, action: str, entity_type: str, entity_id: int, changes: dict[str, Any] | None = None) -> None:
    await AuditEntry.insert(AuditEntry(
        actor=actor, action=action, entity_type=entity_type, entity_id=entity_id,
        changes=_jsonable(changes or {}), created_at=clock.now(),
    ))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
