"""The translate plugin's hook implementations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pluggy import HookimplMarker

from core.plugin_api import JobSpec

hookimpl = HookimplMarker("relaydesk")
MIGRATIONS = str(Path(__file__).parent / "migrations")
TRANSLATE_EVENTS = ("created", "customer_replied")


@hookimpl
def register_settings(register):
    from plugins.translate.settings import TranslateSettings

    register("translate", TranslateSettings)


@hookimpl
def register_migrations(register):
    register("translate", MIGRATIONS)


@hookimpl
def register_jobs(register):
    from plugins.translate.jobs import JOB_NAME, translate_message_job

    register(JobSpec(name=JOB_NAME, func=translate_message_job))


@hookimpl
def register_routes(register):
    from plugins.translate.routes import TranslateRoutes

    register(TranslateRoutes)


@hookimpl
def startup(desk):
    from plugins.translate import state

    state.desk = desk


@hookimpl
def shutdown(desk):
    from plugins.translate import state

    if state.desk is desk:
        state.desk = None


@hookimpl
def classify(message, ticket) -> dict[str, Any] | None:
    """The customer's language, only when the detector is confident (fast, offline, no I/O)."""
    from plugins.translate import state
    from plugins.translate.detect import detect_language

    settings = state.settings()
    language = detect_language(getattr(message, "text", "") or "", name=settings.detector,
                               languages=tuple(settings.languages), min_confidence=settings.min_confidence)
    return {"language": language} if language else None


@hookimpl
def translate(text: str, source: str | None, target: str):
    from plugins.translate import state
    from plugins.translate.service import translate_text

    return translate_text(state.settings(), text, source, target)


@hookimpl
def ticket_event(event):
    """Queue the translation of a new inbound message; the webhook never waits for it."""
    if event.name not in TRANSLATE_EVENTS or event.message_id is None:
        return None
    from plugins.translate import state
    from plugins.translate.jobs import JOB_NAME, job_id

    desk = state.desk
    if desk is None:
        return None
    return desk.enqueue(JOB_NAME, event.message_id, job_id=job_id(event.message_id))
