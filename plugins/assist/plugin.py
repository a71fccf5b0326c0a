"""The assist plugin's hook implementations."""

from __future__ import annotations

from typing import Any

from pluggy import HookimplMarker

hookimpl = HookimplMarker("relaydesk")


@hookimpl
def register_settings(register):
    from plugins.assist.settings import AssistSettings

    register("assist", AssistSettings)


@hookimpl
def register_commands(register):
    from plugins.assist.commands import assist

    register(assist)


@hookimpl
def startup(desk):
    from plugins.assist import state

    state.desk = desk
    if state.settings(desk).classify:
        state.model(desk)  # load the model now, not inside the first webhook


@hookimpl
def shutdown(desk):
    from plugins.assist import state

    if state.desk is desk:
        state.desk = None


@hookimpl
def classify(message, ticket) -> dict[str, Any] | None:
    """Intent, sentiment (negative/neutral/positive) and an "angry" tag, offline, in ~0.1 ms."""
    from plugins.assist import state

    if not state.settings().classify:
        return None
    text = "\n".join(p for p in (getattr(message, "subject", None), getattr(message, "text", "")) if p)
    if not text.strip():
        return None
    settings = state.settings()
    prediction = state.model().predict(text)
    result = prediction.hook_result()
    if prediction.angry and settings.angry_priority:
        result["priority"] = settings.angry_priority
    elif prediction.intent == "wismo" and prediction.confidence >= settings.wismo_threshold and settings.wismo_priority:
        result["priority"] = settings.wismo_priority
    return result


@hookimpl
def register_migrations(register):
    from pathlib import Path

    register("assist", str(Path(__file__).parent / "migrations"))


@hookimpl
def ticket_event(event):
    """A customer's message: answer it if it asks where an order is (automation.py)."""
    from plugins.assist import automation, state

    desk = event.desk or state.desk
    if desk is None or event.name not in automation.EVENTS or event.message_id is None:
        return None
    return automation.handle(desk, event)


@hookimpl
def register_routes(register):
    from plugins.assist.inbox import AssistInbox

    register(AssistInbox)


@hookimpl
def render_panel(ticket, customer, context, agent):
    """Intent, sentiment, what assist did, and a button for a suggested reply."""
    from plugins.assist.inbox import panel

    return panel(ticket, agent)
