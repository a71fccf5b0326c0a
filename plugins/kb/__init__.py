"""Knowledge base: articles in several languages with revisions, a public help center per brand,
and article suggestions in the ticket view. See docs/plugins/kb.md."""

from plugins.kb.plugin import (  # noqa: F401
    register_commands,
    register_migrations,
    register_routes,
    register_settings,
    render_panel,
    report_figures,
    shutdown,
    startup,
)

__all__ = ["register_settings", "register_migrations", "register_routes", "register_commands", "render_panel", "report_figures",
           "startup", "shutdown"]
