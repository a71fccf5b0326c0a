"""The knowledge-base plugin's hook implementations."""

from __future__ import annotations

from pathlib import Path

from pluggy import HookimplMarker

hookimpl = HookimplMarker("relaydesk")
MIGRATIONS = str(Path(__file__).parent / "migrations")


@hookimpl
def register_settings(register):
    from plugins.kb.settings import KbSettings

    register("kb", KbSettings)


@hookimpl
def register_migrations(register):
    register("kb", MIGRATIONS)


@hookimpl
def register_routes(register):
    from plugins.kb.admin import ROUTES as ADMIN
    from plugins.kb.api import KbApi
    from plugins.kb.helpcenter import ROUTES as PUBLIC

    register(KbApi)
    for route in (*ADMIN, *PUBLIC):
        register(route)


@hookimpl
def register_commands(register):
    from plugins.kb.commands import kb

    register(kb)


@hookimpl
def render_panel(ticket, agent):
    from plugins.kb.panel import render

    return render(ticket, agent)


@hookimpl(optionalhook=True)  # the reports' hook (report_figures); harmless on a desk without it
def report_figures(start, end):
    from plugins.kb.stats import report_figures as figures

    return figures(start, end)


@hookimpl
def startup(desk):
    from plugins.kb import state

    state.desk = desk


@hookimpl
def shutdown(desk):
    from plugins.kb import state, stats

    if state.desk is desk:
        state.desk = None
    return stats.flush()
