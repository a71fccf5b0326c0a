"""Language detection on the written samples, and masking of what must not be translated."""

from __future__ import annotations

from pathlib import Path

import pytest

from plugins.translate.detect import DEFAULT_LANGUAGES, detect_language
from plugins.translate.mask import mask, unmask

SAMPLES = Path(__file__).parent / "samples"


def _samples() -> list[tuple[str, str]]:
    return [(lang, line) for lang in DEFAULT_LANGUAGES
            for line in (SAMPLES / f"{lang}.txt").read_text(encoding="utf-8").splitlines() if line.strip()]


def test_samples_are_short_and_plentiful() -> None:
    pairs = _samples()
    for lang in DEFAULT_LANGUAGES:
        assert sum(1 for code, _ in pairs if code == lang) >= 15
    for lang, text in pairs:
        if lang not in ("ja", "zh"):
            assert 3 <= len(text.split()) <= 12, text


@pytest.mark.parametrize("library", ["py3langid", "lingua"])
def test_detects_every_sample(library: str) -> None:
    wrong = [(lang, text, detect_language(text, name=library, min_confidence=0.0))
             for lang, text in _samples() if detect_language(text, name=library, min_confidence=0.0) != lang]
    assert wrong == []


def test_not_confident_means_no_answer() -> None:
    assert detect_language("ok") is None  # too few letters
    assert detect_language("#1234 !!! 42") is None
    assert detect_language("Wo ist meine Bestellung?") == "de"


def test_mask_protects_terms_orders_urls_and_variables() -> None:
    text = "Hi {{ customer.name }}, your Relaydesk Pro order #1234 ships: https://t.example/x?a=1 via DHL."
    masked, values = mask(text, ["Relaydesk Pro"], {"DHL": "DHL Express"})
    for protected in ("{{ customer.name }}", "Relaydesk Pro", "#1234", "https://t.example/x?a=1", "DHL"):
        assert protected not in masked
    assert masked.count("⟦") == 5
    assert unmask(masked, values) == text.replace("DHL", "DHL Express")


def test_unmask_keeps_a_dropped_placeholder() -> None:
    masked, values = mask("Order #77 is late", [])
    assert unmask("La commande est en retard", values) == "La commande est en retard #77"
    assert unmask("Commande ⟦ 0 ⟧ en retard", values) == "Commande #77 en retard"
