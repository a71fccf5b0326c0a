"""Simplified Chinese and English for the inbox: babel message catalogs and dates in the agent's
time zone.

The .po files under web/translations/ are the source; they are compiled in memory when the process
starts (babel's read_po + write_mo), so there is no build step and no compiled file to commit.
The current language lives in a context variable that the inbox sets per request.
"""

from __future__ import annotations

import contextvars
import gettext
import io
import json
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_datetime, format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from markupsafe import Markup

TRANSLATIONS = Path(__file__).parent / "translations"
LANGUAGES = {"en": "en", "zh": "zh_Hans"}  # the agent's setting -> catalog folder
LANGUAGE_NAMES = {"en": "English", "zh": "简体中文"}

current_language: contextvars.ContextVar[str] = contextvars.ContextVar("relaydesk_language", default="en")
current_timezone: contextvars.ContextVar[str] = contextvars.ContextVar("relaydesk_timezone", default="UTC")


def _compile(root: Path, language: str) -> gettext.NullTranslations:
    """`<root>/<catalog folder of language>/LC_MESSAGES/messages.po`, compiled in memory; a missing
    language or file gives NullTranslations (every msgid stands for itself)."""
    folder = LANGUAGES.get(language)
    path = root / folder / "LC_MESSAGES" / "messages.po" if folder else None
    if path is None or not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as handle:
        parsed = read_po(handle, locale=folder)
    buffer = io.BytesIO()
    write_mo(buffer, parsed)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@lru_cache(maxsize=None)
def catalog(language: str) -> gettext.NullTranslations:
    return _compile(TRANSLATIONS, language)


@lru_cache(maxsize=None)
def plugin_catalog(folder: Path, language: str) -> gettext.NullTranslations:
    """A plugin's own catalog for `language` (see translator), compiled once per process."""
    return _compile(Path(folder), language)


def _language(language: str | None) -> str:
    """The inbox language to translate into: `language` when given ("zh", "zh_CN", "zh-Hans", "en-GB"
    are all understood), else the current request's; English when unknown."""
    code = language or current_language.get()
    if code in LANGUAGES:
        return code
    base = code.replace("-", "_").split("_")[0].lower()
    return base if base in LANGUAGES else "en"


def language_of(code: str | None) -> str:
    """The inbox language closest to `code` (an agent's locale setting), English when none fits."""
    return _language(code or "en")


class Translator:
    """Translate a plugin's strings through the plugin's own babel catalogs.

    ``_(message)`` gives `message` (the English text, which is the msgid) in the inbox's current
    language (the `current_language` context variable the inbox sets per request; English outside
    a request); ``_(message, language="zh")`` picks the language explicitly, for code that knows the
    agent's language but runs outside a request. A msgid missing from the catalog, or an empty
    msgstr, falls back to the msgid. ``_.ngettext(singular, plural, n)`` is the plural twin.
    Translate first, then fill placeholders: ``_("Order {id}").format(id=...)``.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def __call__(self, message: str, language: str | None = None) -> str:
        return plugin_catalog(self.folder, _language(language)).gettext(message)

    def ngettext(self, singular: str, plural: str, n: int, language: str | None = None) -> str:
        return plugin_catalog(self.folder, _language(language)).ngettext(singular, plural, n)


def translator(folder: Path) -> Translator:
    """The translation function for a plugin that ships its own catalogs under `folder`, laid out
    like web/translations: ``<folder>/en/LC_MESSAGES/messages.po`` and
    ``<folder>/zh_Hans/LC_MESSAGES/messages.po`` (the catalog folders of LANGUAGES). The .po files
    are compiled in memory on first use and cached, like the inbox's own. Typical use, in a plugin
    module::

        from web import i18n
        _ = i18n.translator(Path(__file__).parent / "translations")
        title = _("Shopify orders")

    Call ``_`` with string literals so ``pybabel extract -k _`` finds them (docs/writing-a-plugin.md).
    """
    return Translator(folder)


def gettext_(message: str) -> str:
    return catalog(current_language.get()).gettext(message)


def ngettext_(singular: str, plural: str, n: int) -> str:
    return catalog(current_language.get()).ngettext(singular, plural, n)


def translate_error(exc: BaseException) -> str:
    """A refusal to show an agent, in the current language.

    A core validator's `core.errors.Invalid` (or an error that only re-words one with the same text,
    such as the API's InvalidRequest raised while handling it) is translated from its template and
    filled with its params, which are data and stay as they are. Anything else, a template without
    a translation, or a translation whose placeholders do not fit gives the English text. The JSON
    API does not call this: it stays English.
    """
    from core.errors import Invalid

    english = getattr(exc, "message", None) or str(exc)
    source = exc
    if not isinstance(source, Invalid):
        inner = exc.__cause__ or exc.__context__
        if not (isinstance(inner, Invalid) and str(inner) == english):
            return english
        source = inner
    translated = gettext_(source.template)
    if translated == source.template:
        return english
    try:
        return translated.format(**source.params)
    except (KeyError, IndexError, ValueError, AttributeError):
        return english


def notification_text(notification: dict[str, Any]) -> str:
    """A notification in the current language: a system notification's template (by kind) filled
    with its params; a rule's text (an admin's own words), or anything that does not fit, as stored."""
    from core.notifications import TEMPLATES

    template = TEMPLATES.get(notification.get("kind") or "")
    params = notification.get("params")
    if isinstance(params, str):
        try:
            params = json.loads(params)
        except ValueError:
            params = None
    if template is None or not isinstance(params, dict):
        return notification.get("text") or ""
    try:
        return gettext_(template).format(**params)
    except (KeyError, IndexError, ValueError, AttributeError):
        return notification.get("text") or ""


def babel_locale() -> Locale:
    return _locale(current_language.get())


@lru_cache(maxsize=None)
def _locale(language: str) -> Locale:
    """Parsed once per language: a page formats hundreds of dates, and parsing the locale was most
    of each one's cost."""
    return Locale.parse(LANGUAGES.get(language, "en"))


def zone(name: str | None = None) -> ZoneInfo:
    try:
        return ZoneInfo(name or current_timezone.get())
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def format_time(value: datetime | None, style: str = "short") -> str:
    """A date and time in the agent's time zone and language."""
    if value is None:
        return ""
    return _formatted(_aware(value), style, current_timezone.get(), current_language.get())


@lru_cache(maxsize=20_000)
def _formatted(value: datetime, style: str, zone_name: str, language: str) -> str:
    """The same moments come back on every load of a queue or a ticket (each row's due time, each
    message's time): babel formats each one once per zone and language."""
    return format_datetime(value, format=style, tzinfo=zone(zone_name), locale=_locale(language))


def format_relative(value: datetime | None, now: datetime | None = None) -> str:
    """'in 2 hours' / '3 days ago', in the agent's language."""
    if value is None:
        return ""
    now = now or datetime.now(timezone.utc)
    seconds = (_aware(value) - now).total_seconds()
    language = current_language.get()
    key = (language, *_relative_key(seconds))
    text = _RELATIVE.get(key)
    if text is None:
        text = format_timedelta(seconds, add_direction=True, threshold=RELATIVE_THRESHOLD, format="narrow",
                                locale=_locale(language))
        if len(_RELATIVE) < 10_000:
            _RELATIVE[key] = text
    return text


RELATIVE_THRESHOLD = 1.1
# babel.dates.format_timedelta's units: its text depends only on the direction, the unit it picks and
# the rounded count, so each (language, direction, unit, count) is formatted once (every queue row
# shows one, differently far from a `now` that moves on every request).
_UNITS = (("year", 31536000), ("month", 2592000), ("week", 604800), ("day", 86400), ("hour", 3600),
          ("minute", 60), ("second", 1))
_RELATIVE: dict[tuple[str, bool, str, int], str] = {}


def _relative_key(seconds: float) -> tuple[bool, str, int]:
    """The (future, unit, count) babel's format_timedelta picks: the first unit with at least
    RELATIVE_THRESHOLD of it, else seconds; the count rounded (at least 1 second when not zero)."""
    for unit, per_unit in _UNITS:
        amount = abs(seconds) / per_unit
        if amount >= RELATIVE_THRESHOLD or unit == "second":
            if unit == "second" and amount > 0:
                amount = max(1, amount)
            return seconds >= 0, unit, int(round(amount))
    raise AssertionError("unreachable: seconds is the last unit")


def N_(message: str) -> str:
    """Marks a string for pybabel extraction; translated where it is shown."""
    return message


# The names pages show for queues, statuses, priorities and delivery states. Every page imports
# them (templates/inbox/_labels.html) up to six times; they are translated once per language here.
LABELS: dict[str, dict[str, str]] = {
    "QUEUE_LABELS": {"mine": N_("Mine"), "unassigned": N_("Unassigned"), "open": N_("All open"),
                     "pending": N_("Pending"), "due_soon": N_("SLA due soon"), "breached": N_("SLA breached"),
                     "pool": N_("Claim pool"), "spam": N_("Spam")},
    "STATUS_LABELS": {"new": N_("New"), "open": N_("Open"), "pending": N_("Pending"), "on-hold": N_("On hold"),
                      "solved": N_("Solved"), "closed": N_("Closed"), "spam": N_("Spam")},
    "PRIORITY_LABELS": {"urgent": N_("Urgent"), "high": N_("High"), "normal": N_("Normal"), "low": N_("Low")},
    "SLA_LABELS": {"breached": N_("Breached"), "due_soon": N_("Due within an hour"), "ok": N_("On time"),
                   "none": N_("No SLA")},
    "SORT_LABELS": {"due": N_("SLA due first"), "newest": N_("Newest first"), "oldest": N_("Oldest first"),
                    "updated": N_("Last updated")},
    "DELIVERY_LABELS": {"queued": N_("Queued"), "sent": N_("Sent"), "delivered": N_("Delivered"), "read": N_("Read"),
                        "failed": N_("Failed")},
}


@lru_cache(maxsize=None)
def _labels(language: str) -> dict[str, dict[str, Markup]]:
    # Markup, as the templates' own _() returns it (jinja2's i18n extension with autoescape)
    translations = catalog(language)
    return {group: {key: Markup(translations.gettext(text)) for key, text in names.items()}
            for group, names in LABELS.items()}


def labels() -> dict[str, dict[str, Markup]]:
    """LABELS in the current language."""
    return _labels(current_language.get())


def install(env: Any) -> None:
    """Give a jinja2 environment the i18n extension bound to the per-request language."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext_, ngettext_, newstyle=True)
    env.filters["datetime"] = format_time
    env.filters["relative"] = format_relative
    env.filters["notification_text"] = notification_text
    env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
    env.globals["labels"] = labels
    env.globals["current_language"] = current_language.get
    env.globals["current_timezone"] = current_timezone.get
