"""Automation rules as a ticket_event listener (core/rules.py does the work)."""

from __future__ import annotations

from typing import Any

from core.plugins import hookimpl

# The running desk: ticket_event hands us only the event, and the actions need the desk.
_desks: list[Any] = []


@hookimpl
def startup(desk):
    from core import rules

    rules.invalidate()
    _desks.append(desk)


@hookimpl
def shutdown(desk):
    if desk in _desks:
        _desks.remove(desk)


@hookimpl
def register_jobs(register):
    from core import rules
    from core.types import JobSpec

    register(JobSpec(name="rules_time", func=rules.run_time_rules_job, every=60))
    from core import rule_webhooks

    register(JobSpec(name="rule_webhook", func=rule_webhooks.deliver_job))
    register(JobSpec(name="rule_webhook_sweep", func=rule_webhooks.sweep_job, every=60))


@hookimpl(trylast=True)
def ticket_event(event):
    desk = event.desk or (_desks[-1] if _desks else None)
    if desk is None or (event.ticket_id is None and not (event.data or {}).get("customer_id")):
        return None  # an event about no ticket and no customer: nothing a rule could act on
    from core import rules

    return rules.run(desk, event)
