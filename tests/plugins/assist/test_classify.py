"""The shipped classifier: it matches scikit-learn's own pipeline, it is rebuilt byte for byte from
the data set, and through ingest it fills intent, sentiment and the angry tag that rules read."""

from __future__ import annotations

import numpy as np
import pytest

from core import rules
from core.inbound import ingest
from core.tables import AutomationRule, Ticket, TicketTag
from core.types import InboundMessage
from plugins.assist import dataset, train
from plugins.assist.labels import CLASSES_SENTIMENT, INTENTS
from plugins.assist.model import Classifier, classifier


def test_data_set_is_balanced_and_held_out_is_apart() -> None:
    training, held_out = dataset.load("train"), dataset.load("heldout")
    assert {e.language for e in training} == {"en", "de", "fr", "es", "it", "zh", "ja"}
    for language in ("en", "de", "fr", "es", "it", "zh", "ja"):
        for intent in INTENTS:
            assert sum(e.language == language and e.intent == intent for e in training) >= 12
            assert sum(e.language == language and e.intent == intent for e in held_out) == 5
    assert not {e.text.casefold() for e in training} & {e.text.casefold() for e in held_out}


def test_bad_label_names_file_and_line(tmp_path) -> None:
    (tmp_path / "train_en.tsv").write_text("wismo\tneu\tWhere is it?\nwismoo\tneu\tTypo in the label\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"train_en.tsv:2"):
        dataset.load("train", tmp_path)


def test_training_is_deterministic_and_matches_the_shipped_model(tmp_path) -> None:
    out = train.save(train.fit(dataset.load("train")), tmp_path / "m.npz")
    assert out.read_bytes() == train.MODEL_PATH.read_bytes(), "run `relaydesk assist train` and commit the model"


def test_fast_path_gives_scikit_learns_probabilities() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    examples = dataset.load("train")
    vectorizer = TfidfVectorizer(**train.VECTORIZER)
    features = vectorizer.fit_transform([e.text for e in examples])
    reference = LogisticRegression(C=train.C, max_iter=5000).fit(features, [e.intent for e in examples])
    arrays = train.fit(examples)
    model = Classifier(arrays)
    held_out = dataset.load("heldout")[::7]
    expected = reference.predict_proba(vectorizer.transform([e.text for e in held_out]))
    order = [list(reference.classes_).index(c) for c in INTENTS]
    for row, example in zip(expected, held_out):
        intents, sentiments = model.scores(example.text)
        np.testing.assert_allclose(intents, row[order], atol=1e-4)
        assert sentiments.shape == (len(CLASSES_SENTIMENT),) and abs(sentiments.sum() - 1) < 1e-9


def test_own_ngrams_are_scikit_learns() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from plugins.assist.model import char_ngrams

    analyze = TfidfVectorizer(**train.VECTORIZER).build_analyzer()
    texts = [e.text for e in dataset.load("train") + dataset.load("heldout")]
    texts += ["", " ", "a", "ÄÖÜ ẞ straße", "tab\tand\n\nnewlines  and   spaces", "emoji 📦🚚 ok", "İstanbul", "x" * 40]
    for text in texts:
        assert char_ngrams(text, *train.VECTORIZER["ngram_range"]) == analyze(text), text


def test_run_time_does_not_import_scikit_learn() -> None:
    import subprocess
    import sys

    code = ("import sys; from plugins.assist.model import classifier; classifier().predict('Where is my parcel?'); "
            "print('sklearn' in sys.modules, 'scipy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_predictions_in_every_language() -> None:
    model = classifier()
    assert model.predict("Where is my parcel? I ordered 10 days ago").intent == "wismo"
    assert model.predict("我的快递到哪里了？").intent == "wismo"
    assert model.predict("Wo bleibt mein Paket?").intent == "wismo"
    assert model.predict("荷物はいつ届きますか？").intent == "wismo"
    assert model.predict("Vorrei un rimborso per la giacca").intent == "return_refund"
    assert model.predict("Merci beaucoup, bonne journée !").sentiment == "positive"
    angry = model.predict("This is a SCAM, nobody answers, I want a manager NOW!!!")
    assert angry.sentiment == "negative" and angry.angry
    assert model.predict("").intent in INTENTS  # no text: a prediction, not an error


def account(desk):
    return desk.registry.account("api_channel", "main")


def _assist(config: dict) -> None:
    config["plugins"]["enabled"].append("assist")


async def test_ingest_fills_intent_sentiment_and_angry_tag_that_rules_read(make_desk) -> None:
    desk = await make_desk(_assist)
    rules.validate("created", {"intent": ["wismo"]}, [{"tag": "wismo-rule"}])
    await AutomationRule.insert(AutomationRule(name="wismo", event="created", position=0,
                                               conditions={"intent": ["wismo"]}, actions=[{"tag": "wismo-rule"}]))
    await AutomationRule.insert(AutomationRule(name="angry", event="created", position=1,
                                               conditions={"sentiment": ["negative"], "tags": ["angry"]},
                                               actions=[{"priority": "high"}]))
    rules.invalidate()
    results = await ingest(desk, account(desk), [
        InboundMessage(external_id="a1", sender_handle="c1", text="Hola, ¿dónde está mi pedido? Lo pedí hace una semana."),
        InboundMessage(external_id="a2", sender_handle="c2", text="Worst service ever!!! You are scammers, I want a manager NOW!"),
    ])
    wismo, angry = [await Ticket.select().where(Ticket.id == r.ticket_id).first() for r in results]
    assert (wismo["intent"], wismo["sentiment"]) == ("wismo", "neutral")
    assert (angry["intent"], angry["sentiment"], angry["priority"]) == ("complaint", "negative", "high")
    tags = {r["tag"] for r in await TicketTag.select(TicketTag.tag).where(TicketTag.ticket == angry["id"])}
    assert "angry" in tags
    wismo_tags = {r["tag"] for r in await TicketTag.select(TicketTag.tag).where(TicketTag.ticket == wismo["id"])}
    assert wismo_tags == {"wismo-rule"}


async def test_classify_off_leaves_intent_empty(make_desk) -> None:
    def configure(config: dict) -> None:
        _assist(config)
        config["plugins"]["assist"] = {"classify": False}

    desk = await make_desk(configure)
    result = await ingest(desk, account(desk), [InboundMessage(external_id="b1", sender_handle="c1", text="Where is my order?")])
    row = await Ticket.select(Ticket.intent, Ticket.sentiment).where(Ticket.id == result[0].ticket_id).first()
    assert row == {"intent": None, "sentiment": None}
