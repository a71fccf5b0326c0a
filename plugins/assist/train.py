"""Training: char n-gram TF-IDF and two multinomial logistic regressions (scikit-learn), one for the
intent and one for the sentiment, sharing the features. The result is saved as plain arrays
(vocabulary, idf, weights) in a deterministic .npz, so the shipped model does not depend on
scikit-learn's pickle format and the same data always gives the same file."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from plugins.assist.dataset import Example
from plugins.assist.labels import CLASSES_SENTIMENT, INTENTS

# Character n-grams inside word boundaries work across scripts (no tokenizer for zh/ja needed) and
# survive typos; min_df=2 drops one-off n-grams, which keeps the model small with no loss on held-out.
VECTORIZER = {"analyzer": "char_wb", "ngram_range": (1, 5), "min_df": 2, "sublinear_tf": True, "lowercase": True}
C = 100.0
MODEL_PATH = Path(__file__).parent / "model" / "assist.npz"
FORMAT = 1


def fit(examples: list[Example]) -> dict[str, Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    texts = [e.text for e in examples]
    vectorizer = TfidfVectorizer(**VECTORIZER)
    features = vectorizer.fit_transform(texts)
    intent = LogisticRegression(C=C, max_iter=5000).fit(features, [e.intent for e in examples])
    sentiment = LogisticRegression(C=C, max_iter=5000).fit(features, [e.sentiment for e in examples])
    # classes in our fixed order, whatever order scikit-learn sorted them in
    intent_rows = [list(intent.classes_).index(c) for c in INTENTS]
    sentiment_rows = [list(sentiment.classes_).index(c) for c in CLASSES_SENTIMENT]
    terms = vectorizer.get_feature_names_out()
    return {
        "format": np.array([FORMAT]),
        "vocabulary": np.array([str(t) for t in terms], dtype=str),
        "idf": vectorizer.idf_.astype(np.float32),
        # (features, classes): one gather of the message's columns scores both heads at once
        "weights": np.hstack([intent.coef_[intent_rows].T, sentiment.coef_[sentiment_rows].T]).astype(np.float32),
        "bias": np.concatenate([intent.intercept_[intent_rows], sentiment.intercept_[sentiment_rows]]).astype(np.float32),
        "intents": np.array(INTENTS), "sentiments": np.array(CLASSES_SENTIMENT),
    }


def save(arrays: dict[str, Any], path: Path = MODEL_PATH) -> Path:
    """Write the arrays as an .npz (np.load reads it) with fixed timestamps: byte-identical per data."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(arrays):
            buffer = io.BytesIO()
            np.save(buffer, arrays[name], allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, buffer.getvalue())
    return path
