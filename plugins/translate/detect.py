"""Offline language detection for short customer messages.

Two libraries that ship their models were measured (bench/langdetect.py): lingua-language-detector
and py3langid. Both were right on every full sample; py3langid was right more often on 3-word
heads and faster, so it is the default (figures in docs/plugins/translate.md); lingua stays
selectable through the `detector` setting. Both are restricted to the desk's
candidate languages, which is what makes short messages tractable.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Protocol

DEFAULT_LANGUAGES = ("en", "de", "fr", "es", "it", "pt", "ja", "zh")


class Detector(Protocol):
    name: str

    def detect(self, text: str) -> tuple[str | None, float]:
        """(ISO 639-1 code, confidence 0..1), or (None, 0.0) when the text says nothing."""


class LinguaDetector:
    name = "lingua"

    def __init__(self, languages: tuple[str, ...]) -> None:
        from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

        langs = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in languages]
        self._detector = LanguageDetectorBuilder.from_languages(*langs).with_preloaded_language_models().build()

    def detect(self, text: str) -> tuple[str | None, float]:
        values = self._detector.compute_language_confidence_values(text)
        if not values or values[0].value <= 0:
            return None, 0.0
        return values[0].language.iso_code_639_1.name.lower(), float(values[0].value)


class LangidDetector:
    name = "py3langid"

    def __init__(self, languages: tuple[str, ...]) -> None:
        from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

        self._identifier = LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)
        self._identifier.set_languages(list(languages))

    def detect(self, text: str) -> tuple[str | None, float]:
        if not text.strip():
            return None, 0.0
        code, prob = self._identifier.classify(text)
        return str(code), float(prob)


BACKENDS = {"lingua": LinguaDetector, "py3langid": LangidDetector}


@lru_cache(maxsize=8)
def detector(name: str = "py3langid", languages: tuple[str, ...] = DEFAULT_LANGUAGES) -> Detector:
    """One detector per (library, languages): building lingua's models takes a moment."""
    if name not in BACKENDS:
        raise ValueError(f"unknown detector {name!r}; choose one of {', '.join(BACKENDS)}")
    return BACKENDS[name](tuple(languages))


def detect_language(text: str, *, name: str = "py3langid", languages: tuple[str, ...] = DEFAULT_LANGUAGES,
                    min_confidence: float = 0.5, min_letters: int = 3) -> str | None:
    """The language of `text` when the detector is confident enough, else None."""
    if sum(ch.isalpha() for ch in text) < min_letters:
        return None
    code, confidence = detector(name, tuple(languages)).detect(text)
    return code if code and confidence >= min_confidence else None
