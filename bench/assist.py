"""Measure the assist plugin's shipped classifier on the held-out messages.

Reads tests/plugins/assist/data/heldout_<lang>.tsv (written apart from the training files, never
trained on) and reports, per language and overall, intent accuracy and macro-F1, sentiment
accuracy (negative/neutral/positive; "angry" counts as negative) and the angry flag's recall, then
the classification rate: messages per second through the classify hook's path (one message at a
time, as ingest calls it), in this one process pinned to one core, with every word new to the
model's word cache (classify_per_s) and with it warm (classify_warm_per_s). Figures are noisy on a shared machine.

    python bench/assist.py           # 50 timing rounds over the held-out set
    python bench/assist.py --quick   # 5 timing rounds
    python bench/assist.py --model path/to/assist.npz   # a model other than the shipped one

Ends with exactly one JSON line: intent_macro_f1, sentiment_accuracy, classify_per_s and more.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from plugins.assist import dataset  # noqa: E402
from plugins.assist.labels import INTENTS, SENTIMENT_OF  # noqa: E402
from plugins.assist.model import classifier  # noqa: E402
from plugins.assist.train import MODEL_PATH  # noqa: E402


def macro_f1(truth: list[str], guess: list[str]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(truth, guess, labels=[i for i in INTENTS if i in truth], average="macro", zero_division=0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 timing rounds instead of 50")
    parser.add_argument("--model", type=Path, default=MODEL_PATH, help="the model file (default: the shipped one)")
    args = parser.parse_args()
    try:  # one core, as the target says
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    except (AttributeError, OSError):
        pass
    examples = dataset.load("heldout")
    model = classifier(args.model)
    predictions = [model.predict(e.text) for e in examples]
    by_lang: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(examples):
        by_lang[e.language].append(i)
    print(f"held-out: {len(examples)} messages, {len(by_lang)} languages, model {args.model.name}")
    print(f"{'lang':<6}{'n':>5}{'intent acc':>12}{'macro-F1':>10}{'sentiment':>11}{'angry recall':>14}")
    rows = {}
    for lang, idx in sorted(by_lang.items()) + [("all", list(range(len(examples))))]:
        truth = [examples[i].intent for i in idx]
        guess = [predictions[i].intent for i in idx]
        acc = sum(t == g for t, g in zip(truth, guess)) / len(idx)
        f1 = macro_f1(truth, guess)
        sent = sum(SENTIMENT_OF[examples[i].sentiment] == predictions[i].sentiment for i in idx) / len(idx)
        angry = [i for i in idx if examples[i].sentiment == "angry"]
        recall = sum(predictions[i].angry for i in angry) / len(angry) if angry else float("nan")
        rows[lang] = {"intent_accuracy": round(acc, 4), "intent_macro_f1": round(f1, 4),
                      "sentiment_accuracy": round(sent, 4), "angry_recall": round(recall, 4)}
        print(f"{lang:<6}{len(idx):>5}{acc:>12.3f}{f1:>10.3f}{sent:>11.3f}{recall:>14.3f}")
    wismo = [i for i, e in enumerate(examples) if e.intent == "wismo"]
    texts = [e.text for e in examples]
    rounds = 5 if args.quick else 50
    # Cold: every word met for the first time (the model caches each word's n-gram columns), the
    # conservative figure and the one reported as classify_per_s. Warm: the same messages again.
    cold_times = []
    for _ in range(rounds):
        model._columns.clear()
        start = time.perf_counter()
        for text in texts:
            model.predict(text)
        cold_times.append(time.perf_counter() - start)
    cold = len(texts) / min(cold_times)  # the least disturbed round on a shared machine
    start = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            model.predict(text)
    elapsed = time.perf_counter() - start
    warm = rounds * len(texts) / elapsed
    print(f"classify: {cold:,.0f} messages/s on one core with every word new (best of {rounds} rounds of "
          f"{len(texts)}), {warm:,.0f}/s with the word cache warm")
    print(f"wismo held-out recall: {sum(predictions[i].intent == 'wismo' for i in wismo) / len(wismo):.3f}")
    print(json.dumps({"intent_macro_f1": rows["all"]["intent_macro_f1"],
                      "intent_accuracy": rows["all"]["intent_accuracy"],
                      "sentiment_accuracy": rows["all"]["sentiment_accuracy"],
                      "angry_recall": rows["all"]["angry_recall"], "classify_per_s": round(cold),
                      "classify_warm_per_s": round(warm),
                      "per_language": {k: v for k, v in rows.items() if k != "all"}, "heldout": len(examples)}))


if __name__ == "__main__":
    main()
