"""`relaydesk assist train` and `relaydesk assist eval`: rebuild the shipped model from the labelled
data set, and measure a model on the held-out part (bench/assist.py adds the speed)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import click


@click.group(name="assist")
def assist() -> None:
    """The intent and sentiment classifier."""


@assist.command()
@click.option("--data", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Folder of train_<lang>.tsv files (default: tests/plugins/assist/data in the repository).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the model (default: the one the package ships).")
def train(data: Path | None, out: Path | None) -> None:
    """Train the classifier on the training split; the same data gives a byte-identical file."""
    from plugins.assist import dataset
    from plugins.assist import train as trainer

    examples = dataset.load("train", data or dataset.DEFAULT_DIR)
    path = trainer.save(trainer.fit(examples), out or trainer.MODEL_PATH)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    click.echo(f"trained on {len(examples)} examples -> {path} ({path.stat().st_size // 1024} KB, sha256 {digest}…)")


@assist.command(name="eval")
@click.option("--data", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Folder of heldout_<lang>.tsv files (default: tests/plugins/assist/data).")
@click.option("--model", "model_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None)
def evaluate(data: Path | None, model_path: Path | None) -> None:
    """Intent accuracy and sentiment accuracy on the held-out split."""
    from plugins.assist import dataset
    from plugins.assist.labels import SENTIMENT_OF
    from plugins.assist.model import classifier
    from plugins.assist.train import MODEL_PATH

    examples = dataset.load("heldout", data or dataset.DEFAULT_DIR)
    model = classifier(model_path or MODEL_PATH)
    predictions = [model.predict(e.text) for e in examples]
    intent = sum(p.intent == e.intent for p, e in zip(predictions, examples)) / len(examples)
    mood = sum(p.sentiment == SENTIMENT_OF[e.sentiment] for p, e in zip(predictions, examples)) / len(examples)
    click.echo(f"{len(examples)} held-out messages: intent accuracy {intent:.3f}, sentiment accuracy {mood:.3f}")


@assist.command(name="rules")
def rules_command() -> None:
    """Print the example rules (intent, sentiment, proactive notices) as JSON for the rules API."""
    import json

    from plugins.assist.examples import EXAMPLES

    click.echo(json.dumps(EXAMPLES, ensure_ascii=False, indent=2))
