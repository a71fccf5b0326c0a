"""CSAT and NPS surveys after a solve: a signed one-time link sent on the ticket's channel, a public
page in the customer's language, ratings per ticket and agent, a low-rating event and reports.
See docs/plugins/csat.md."""

from plugins.csat.plugin import (  # noqa: F401
    register_jobs,
    register_migrations,
    register_routes,
    register_settings,
    report_figures,
    shutdown,
    startup,
    ticket_event,
)

__all__ = ["register_settings", "register_migrations", "register_jobs", "register_routes", "startup", "shutdown",
           "ticket_event", "report_figures"]
