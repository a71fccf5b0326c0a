"""Auto-translation: offline language detection, provider clients (DeepL, Google, LibreTranslate,
OpenAI-compatible), masking, cache, daily character caps, a translation job for inbound messages
and a preview route for outbound drafts. See docs/plugins/translate.md."""

from plugins.translate.plugin import (  # noqa: F401
    classify,
    register_jobs,
    register_migrations,
    register_routes,
    register_settings,
    shutdown,
    startup,
    ticket_event,
    translate,
)

__all__ = [
    "register_settings", "register_migrations", "register_jobs", "register_routes", "startup", "shutdown",
    "classify", "translate", "ticket_event",
]
