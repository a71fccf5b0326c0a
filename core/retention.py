"""Keeping solved tickets only as long as the seller wants: per channel type, after N days a job
either erases them or anonymizes them (core.privacy). Configured in plugins.toml:

    [relaydesk.retention]
    email = { days = 365, action = "anonymize" }
    whatsapp = { days = 90, action = "erase" }

A ticket counts from when it was solved or closed (whichever is later); open, pending and on-hold
tickets are never touched. The job runs hourly and works in batches, so a first run on an old desk
spreads over several hours instead of locking the database.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from core import clock
from core.errors import ConfigError

log = logging.getLogger("relaydesk.retention")

ACTIONS = ("anonymize", "erase")
BATCH = 200
BATCHES_PER_RUN = 10


@dataclass(frozen=True, slots=True)
class RetentionRule:
    channel_type: str
    days: int
    action: str


def parse(value: dict[str, Any], file: str) -> dict[str, RetentionRule]:
    rules = {}
    for channel_type, rule in value.items():
        key = f"relaydesk.retention.{channel_type}"
        if not isinstance(rule, dict) or set(rule) - {"days", "action"}:
            raise ConfigError(file, key, "expected { days = N, action = \"anonymize\" | \"erase\" }",
                              f'write {channel_type} = {{ days = 365, action = "anonymize" }}')
        days, action = rule.get("days"), rule.get("action", "anonymize")
        if not isinstance(days, int) or isinstance(days, bool) or days < 1:
            raise ConfigError(file, f"{key}.days", f"expected a whole number of days >= 1, got {days!r}",
                              "write days = 365 (or another number of days)")
        if action not in ACTIONS:
            raise ConfigError(file, f"{key}.action", f"unknown action {action!r}", 'use "anonymize" or "erase"')
        rules[channel_type] = RetentionRule(channel_type, days, action)
    return rules


async def due_tickets(rule: RetentionRule, limit: int = BATCH) -> list[int]:
    """Solved or closed tickets of the rule's channel type whose time is up (anonymized ones are done)."""
    from core import db
    from core.privacy import ANONYMIZED_TAG

    cutoff = clock.now() - timedelta(days=rule.days)
    done = ("AND NOT EXISTS (SELECT 1 FROM ticket_tags g WHERE g.ticket = t.id AND g.tag = {}) "
            if rule.action == "anonymize" else "")
    args: list[Any] = [rule.channel_type, cutoff, cutoff]
    if done:
        args.append(ANONYMIZED_TAG)
    rows = await db.fetch(
        "SELECT t.id FROM tickets t WHERE t.channel_type = {} AND t.status IN ('solved', 'closed') "
        "AND COALESCE(t.closed_at, t.solved_at, t.updated_at) < {} AND t.updated_at < {} "
        f"{done}ORDER BY t.id LIMIT {int(limit)}", *args)
    return [r["id"] for r in rows]


async def apply(desk: Any, rule: RetentionRule, batches: int = BATCHES_PER_RUN) -> int:
    """Run one rule for up to `batches` batches; returns how many tickets it handled."""
    from core import privacy

    handled = 0
    reason = f"retention: {rule.action} {rule.channel_type} after {rule.days} days"
    for _ in range(batches):
        ids = await due_tickets(rule)
        if not ids:
            break
        if rule.action == "erase":
            plan = await privacy.erase_tickets(ids, actor="system:retention", reason=reason)
        else:
            plan = await privacy.anonymize_tickets(ids, actor="system:retention", reason=reason)
        await privacy.remove_files(desk.data_dir, plan)
        handled += len(ids)
    if handled:
        log.info("retention: %s %d %s ticket(s) older than %d days", rule.action, handled, rule.channel_type, rule.days)
    return handled


async def retention_job(ctx: dict[str, Any]) -> int:
    desk = ctx["desk"]
    total = 0
    for rule in desk.settings.retention.values():
        total += await apply(desk, rule)
    return total
