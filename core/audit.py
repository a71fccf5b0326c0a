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


async def entries(*, actor: str | None = None, action: str | None = None, entity_type: str | None = None,
                  entity_id: int | None = None, since: Any = None, until: Any = None, before_id: int | None = None,
                  limit: int = 50) -> tuple[list[dict[str, Any]], bool]:
    """Newest first, filtered; keyset pages by id (`before_id`). Returns (rows, whether there are more)."""
    query = AuditEntry.select()
    clauses = []
    if actor:
        clauses.append(AuditEntry.actor == actor)
    if action:
        clauses.append(AuditEntry.action == action)
    if entity_type:
        clauses.append(AuditEntry.entity_type == entity_type)
    if entity_id is not None:
        clauses.append(AuditEntry.entity_id == entity_id)
    if since is not None:
        clauses.append(AuditEntry.created_at >= since)
    if until is not None:
        clauses.append(AuditEntry.created_at < until)
    if before_id is not None:
        clauses.append(AuditEntry.id < before_id)
    for clause in clauses:
        query = query.where(clause)
    rows = await query.order_by(AuditEntry.id, ascending=False).limit(limit + 1)
    for row in rows:
        if isinstance(row["changes"], str):
            import json

            row["changes"] = json.loads(row["changes"] or "{}")
    return rows[:limit], len(rows) > limit


async def actions() -> list[str]:
    """The actions recorded so far, for the audit page's filter."""
    rows = await AuditEntry.select(AuditEntry.action).distinct().order_by(AuditEntry.action)
    return [r["action"] for r in rows]
