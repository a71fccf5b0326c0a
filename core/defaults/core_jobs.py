"""The core's own jobs: delivering the outbox and sweeping it."""

from core.types import JobSpec


def core_jobs(settings) -> list[JobSpec]:
    from core import outbound

    return [
        JobSpec(name="deliver", func=outbound.deliver_job),
        JobSpec(name="sweep_outbox", func=outbound.sweep_job, every=settings.sweep_interval_seconds),
    ]
