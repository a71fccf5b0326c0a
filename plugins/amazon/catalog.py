"""The plugin's agent-facing strings in the inbox's languages (English and Simplified Chinese).

The texts live in babel catalogs under translations/ (en and zh_Hans, LC_MESSAGES/messages.po);
``_("English text")`` gives them in the inbox's current language, ``_("English text", language)``
in the agent's language given explicitly (draft checks and API answers run with the agent's
language, not always inside an inbox request). A missing translation falls back to English.
See docs/writing-a-plugin.md, "Your plugin's strings".
"""

from __future__ import annotations

from pathlib import Path

from web.plugin_api import i18n

_ = i18n.translator(Path(__file__).parent / "translations")


def N_(message: str) -> str:
    """Mark a msgid for extraction (pybabel's default keywords include N_) without translating it."""
    return message


# Problems of a reply draft (plugins.amazon.drafts rule -> msgid), translated where they are shown.
DRAFT_PROBLEMS: dict[str, str] = {
    "link": N_("Remove the link ({found}). Amazon blocks links that are not needed to complete the order; "
               "tell the buyer where to find it in their Amazon account instead."),
    "email_address": N_("Remove the email address ({found}). Buyers may be contacted only through Amazon's "
                        "messaging, and the relay strips addresses."),
    "phone": N_("Remove the phone number ({found}). Personal contact details are not allowed in messages to "
                "Amazon buyers."),
    "html": N_("Write plain text: remove the markup ({found}). Images and HTML, tracking pixels included, are "
               "not allowed."),
    "quoted_history": N_("Remove the quoted earlier messages ({found}). Amazon keeps the history itself; "
                         "quoting it grows every mail and repeats our markers."),
    "tracking_marker": N_("Remove the tracking marker ({found}). Ticket numbers and mail tracking codes must "
                          "not reach Amazon buyers."),
    "feedback": N_("Rephrase or remove this ({found}). Amazon forbids asking for positive feedback or reviews, "
                   "offering anything for them, or asking to change or remove them; a neutral request is "
                   "allowed."),
}


def draft_problem(rule: str, found: str, language: str | None = None) -> str:
    """The agent-facing explanation of a draft rule's finding, in `language` (else the current one)."""
    return _(DRAFT_PROBLEMS[rule], language).format(found=found)
