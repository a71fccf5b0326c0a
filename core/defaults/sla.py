"""Default SLA targets by priority, in calendar minutes. Any plugin's sla_targets overrides it."""

from core.plugins import hookimpl
from core.sla import SlaTargets

TARGETS = {
    "urgent": SlaTargets(60, 60, 8 * 60),
    "high": SlaTargets(4 * 60, 4 * 60, 24 * 60),
    "normal": SlaTargets(8 * 60, 8 * 60, 48 * 60),
    "low": SlaTargets(24 * 60, 24 * 60, 72 * 60),
}


@hookimpl(trylast=True)
def sla_targets(ticket):
    return TARGETS.get(ticket.get("priority") or "normal", TARGETS["normal"])
