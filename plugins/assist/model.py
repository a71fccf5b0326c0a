"""The shipped classifier at run time: intent and sentiment of one message in well under a
millisecond, offline. Loaded once per process from the arrays train.py saved.

Run time needs numpy only: scikit-learn (and the scipy it imports, ~90 MB of memory) is for
training. `char_ngrams` is scikit-learn's "char_wb" analyzer written out (a test checks they give
the same n-grams on the whole data set); scoring is a gather of the message's rows of the weight
matrix (a message has a few hundred n-grams, the model thousands), which for one message costs far
less than a sparse-matrix round trip, and one message at a time is what ingest classifies."""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from plugins.assist.labels import ANGRY_TAG, SENTIMENT_OF
from plugins.assist.train import FORMAT, MODEL_PATH, VECTORIZER

MAX_CHARS = 2000  # the opening of a long mail says what it is about; bounded cost per message
_SPACES = re.compile(r"\s\s+")
WORD_CACHE = 50_000


def word_ngrams(word: str, min_n: int, max_n: int) -> list[str]:
    """The char_wb n-grams of one (lower-cased) word: padded with one space each side, every n-gram
    of length min_n..max_n inside it (a word shorter than n gives itself once)."""
    grams: list[str] = []
    append = grams.append
    word = f" {word} "
    length = len(word)
    for n in range(min_n, max_n + 1):
        offset = 0
        append(word[offset:offset + n])
        while offset + n < length:
            offset += 1
            append(word[offset:offset + n])
        if offset == 0:
            break
    return grams


def words(text: str) -> list[str]:
    return _SPACES.sub(" ", text.lower()).split()


def char_ngrams(text: str, min_n: int, max_n: int) -> list[str]:
    """scikit-learn's char_wb n-grams of lower-cased text: those of each word in turn."""
    return [gram for word in words(text) for gram in word_ngrams(word, min_n, max_n)]


@dataclass(frozen=True, slots=True)
class Prediction:
    intent: str
    confidence: float  # probability of the intent, 0..1
    sentiment: str  # negative / neutral / positive
    angry: bool
    sentiment_class: str  # pos / neu / neg / angry

    def hook_result(self) -> dict[str, Any]:
        """What the classify hook returns for this prediction."""
        return {"intent": self.intent, "sentiment": self.sentiment, "tags": [ANGRY_TAG] if self.angry else []}


class Classifier:
    def __init__(self, arrays: Any) -> None:
        if int(arrays["format"][0]) != FORMAT:
            raise ValueError(f"assist model format {int(arrays['format'][0])}, this code reads {FORMAT}: "
                             "run `relaydesk assist train`")
        assert VECTORIZER["analyzer"] == "char_wb" and VECTORIZER["lowercase"] and VECTORIZER["sublinear_tf"]
        self._ngram_range = VECTORIZER["ngram_range"]
        self._index = {str(term): i for i, term in enumerate(arrays["vocabulary"])}
        self._idf = np.asarray(arrays["idf"], dtype=np.float64)
        self._weights = np.asarray(arrays["weights"], dtype=np.float64)
        self._bias = np.asarray(arrays["bias"], dtype=np.float64)
        self._columns: dict[str, tuple[int, ...]] = {}  # word -> its n-grams' columns: words repeat
        self.intents = tuple(str(x) for x in arrays["intents"])
        self.sentiments = tuple(str(x) for x in arrays["sentiments"])

    def scores(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Class probabilities (intents, sentiments), as scikit-learn's predict_proba gives them."""
        counts: dict[int, int] = {}
        for word in words((text or "")[:MAX_CHARS]):
            for col in self._word_columns(word):
                counts[col] = counts.get(col, 0) + 1
        logits = self._bias.copy()
        if counts:
            cols = np.fromiter(counts, dtype=np.intp, count=len(counts))
            tf = np.fromiter((1.0 + math.log(c) for c in counts.values()), dtype=np.float64, count=len(counts))
            values = tf * self._idf[cols]
            values /= np.sqrt(values @ values)
            logits += values @ self._weights[cols]
        n = len(self.intents)
        return _softmax(logits[:n]), _softmax(logits[n:])

    def _word_columns(self, word: str) -> tuple[int, ...]:
        found = self._columns.get(word)
        if found is None:
            index = self._index
            found = tuple(c for c in (index.get(g) for g in word_ngrams(word, *self._ngram_range)) if c is not None)
            if len(self._columns) >= WORD_CACHE:
                self._columns.clear()  # bounded: a flood of unique words cannot grow it
            self._columns[word] = found
        return found

    def predict(self, text: str) -> Prediction:
        intents, sentiments = self.scores(text)
        best = int(intents.argmax())
        mood = self.sentiments[int(sentiments.argmax())]
        return Prediction(self.intents[best], float(intents[best]), SENTIMENT_OF[mood], mood == "angry", mood)


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()


_lock = threading.Lock()
_loaded: dict[Path, Classifier] = {}


def classifier(path: Path = MODEL_PATH) -> Classifier:
    """The model at `path`, loaded on first use and kept for the process."""
    found = _loaded.get(path)
    if found is None:
        with _lock:
            found = _loaded.get(path)
            if found is None:
                with np.load(path, allow_pickle=False) as arrays:
                    found = _loaded[path] = Classifier(arrays)
    return found
