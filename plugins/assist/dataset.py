"""The labelled data set the classifier learns from: tab-separated files ``<split>_<language>.tsv``
with ``intent<TAB>sentiment<TAB>text`` per line (sentiment: pos, neu, neg or angry). It lives
under tests/plugins/assist/data/ in the repository; the trained model ships in the package."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from plugins.assist.labels import CLASSES_SENTIMENT, INTENTS

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "tests" / "plugins" / "assist" / "data"


@dataclass(frozen=True, slots=True)
class Example:
    language: str
    intent: str
    sentiment: str  # pos / neu / neg / angry
    text: str


def load(split: str, directory: Path = DEFAULT_DIR) -> list[Example]:
    """Every example of a split ("train" or "heldout"), by language file then line. A bad line
    stops with its file and line number: a typo in a label must not train silently."""
    files = sorted(directory.glob(f"{split}_*.tsv"))
    if not files:
        raise FileNotFoundError(f"no {split}_<language>.tsv files in {directory}")
    rows: list[Example] = []
    for path in files:
        language = path.stem.split("_", 1)[1]
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            parts = line.split("\t")
            if len(parts) != 3 or parts[0] not in INTENTS or parts[1] not in CLASSES_SENTIMENT or not parts[2].strip():
                raise ValueError(f"{path}:{number}: expected intent<TAB>sentiment<TAB>text with an intent from "
                                 f"{', '.join(INTENTS)} and a sentiment from {', '.join(CLASSES_SENTIMENT)}")
            rows.append(Example(language, parts[0], parts[1], parts[2].strip()))
    return rows
