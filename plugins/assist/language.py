"""The customer's language for an answer: the ticket's, else a confident offline guess."""

from __future__ import annotations

import threading
from typing import Any

from plugins.assist.phrases import LANGUAGES

_lock = threading.Lock()
_identifier: list[Any] = []
MIN_PROBABILITY = 0.9


def _guess(text: str) -> str | None:
    if not _identifier:
        with _lock:
            if not _identifier:
                from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

                found = LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)
                found.set_languages(list(LANGUAGES))
                _identifier.append(found)
    code, probability = _identifier[0].classify(text)
    return code if probability >= MIN_PROBABILITY else None


def customer_language(ticket_language: str | None, text: str) -> str | None:
    """An ISO 639-1 code (any language, when the ticket knows it), or None when unsure."""
    if ticket_language:
        return ticket_language.replace("_", "-").split("-")[0].lower()
    return _guess(text) if text.strip() else None
