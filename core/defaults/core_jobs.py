"""The core's own jobs: delivering the outbox and sweeping it; folding the kept ticket counts."""

from core.types import JobSpec


def core_jobs(settings) -> list[JobSpec]:
    from core import counts, outbound, polling, retention
    from core.reports import planning, rollups

    return [
        JobSpec(name="deliver", func=outbound.deliver_job),
        JobSpec(name="sweep_outbox", func=outbound.sweep_job, every=settings.sweep_interval_seconds),
        JobSpec(name="poll_accounts", func=polling.poll_all_job, every=settings.poll_interval_seconds),
        # a desk nobody looks at (API only) still folds its count rows now and then
        JobSpec(name="compact_counts", func=counts.compact_job, every=300),
        JobSpec(name="fold_reports", func=rollups.fold_job, every=300),  # readers fold too
        JobSpec(name="staffing_notice", func=planning.notice_job, every=3600),  # once per coming day
        *([JobSpec(name="retention", func=retention.retention_job, every=3600)] if settings.retention else []),
    ]
