"""Default SLA targets: the first matching SLA policy (sla_policies, loaded by core.sla.prepare),
else targets by priority in calendar minutes. Any plugin's sla_targets overrides it. Also registers
the breach sweeper and sends a peak profile's notice to customers of new tickets."""

from core import sla
from core.plugins import hookimpl
from core.sla import SlaTargets
from core.types import JobSpec

TARGETS = {
    "urgent": SlaTargets(60, 60, 8 * 60),
    "high": SlaTargets(4 * 60, 4 * 60, 24 * 60),
    "normal": SlaTargets(8 * 60, 8 * 60, 48 * 60),
    "low": SlaTargets(24 * 60, 24 * 60, 72 * 60),
}


@hookimpl(trylast=True)
def sla_targets(ticket):
    matched = sla.match_policy(ticket.get("sla_policies") or (), ticket)
    if matched is not None:
        return matched
    return TARGETS.get(ticket.get("priority") or "normal", TARGETS["normal"])


@hookimpl
def register_jobs(register):
    register(JobSpec(name="sla_sweep", func=sla.sweep_job, every=30))


@hookimpl
def startup(desk):
    sla.invalidate()


@hookimpl(trylast=True)
def ticket_event(event):
    """A ticket created during a peak profile: tell the customer answers take longer (once)."""
    if event.name != "created" or event.ticket_id is None or event.desk is None:
        return None
    return sla.send_peak_notice(event.desk, event.ticket_id)
