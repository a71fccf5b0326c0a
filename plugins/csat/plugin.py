"""The CSAT plugin's hook implementations."""

from __future__ import annotations

from pathlib import Path

from pluggy import HookimplMarker

from core.plugin_api import JobSpec

hookimpl = HookimplMarker("relaydesk")
MIGRATIONS = str(Path(__file__).parent / "migrations")


@hookimpl
def register_settings(register):
    from plugins.csat.settings import CsatSettings

    register("csat", CsatSettings)


@hookimpl
def register_migrations(register):
    register("csat", MIGRATIONS)


@hookimpl
def register_jobs(register):
    from plugins.csat.survey import JOB_NAME, send_survey_job

    register(JobSpec(name=JOB_NAME, func=send_survey_job))


@hookimpl
def register_routes(register):
    from plugins.csat.pages import survey_answer, survey_page
    from plugins.csat.report import csat_report

    register(survey_page)
    register(survey_answer)
    register(csat_report)


@hookimpl
def startup(desk):
    from plugins.csat import state

    state.desk = desk


@hookimpl
def shutdown(desk):
    from plugins.csat import state

    if state.desk is desk:
        state.desk = None


@hookimpl
def ticket_event(event):
    """A solved ticket queues a deferred survey job; the job decides whether to send."""
    if event.name != "solved" or event.ticket_id is None:
        return None
    from plugins.csat import state

    desk = state.desk
    if desk is None:
        return None
    return _queue(desk, event.ticket_id)


async def _queue(desk, ticket_id: int) -> None:
    from core.plugin_api import Ticket
    from plugins.csat import state
    from plugins.csat.survey import JOB_NAME, round_key

    row = await Ticket.select(Ticket.solved_at).where(Ticket.id == ticket_id).first()
    if row is None:
        return
    round = round_key(row["solved_at"])
    await desk.enqueue(JOB_NAME, ticket_id, round, job_id=f"csat:{ticket_id}:{round}",
                       defer=state.settings(desk).delay_minutes * 60)


@hookimpl
def report_figures(start, end):
    from plugins.csat.report import figures_between

    return figures_between(start, end)
