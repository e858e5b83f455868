"""The optional learned signal: training, saving, loading, failure modes, and its use in triage."""

from __future__ import annotations

import gzip
import logging
import sys

import pytest

from monitor.triage import Triager
from monitor.triage.learned import LearnedModel, LearnedModelError, load_model, train

pytest.importorskip("sklearn")

# Hand-written examples, varied enough that the model has to generalise a little.
COMPLAINTS = [
    "my parcel never arrived and support ignores me",
    "still no refund after three weeks",
    "the app crashes when I pay",
    "charged twice and nobody replies",
    "your courier lost my parcel again",
    "waiting two hours on the phone, no answer",
    "the checkout page is broken",
    "I want my money back, this is a scam",
    "order cancelled without any email",
    "support closed my ticket without fixing anything",
    "delivery late again, third time this month",
    "the parcel arrived smashed and the refund form is broken",
]
OTHERS = [
    "thanks, the parcel arrived early",
    "love the new colours in the shop",
    "do you deliver on saturdays",
    "great support today, sorted in minutes",
    "what time does the shop open",
    "the summer collection looks lovely",
    "just ordered the blue one",
    "happy with the quick delivery",
    "is the sale on this weekend",
    "the staff were friendly and helpful",
    "my sister recommended your shop",
    "new store opening near me next week",
]
EXAMPLES = [(t, "complaint") for t in COMPLAINTS] + [(t, "praise") for t in OTHERS]


@pytest.fixture(scope="module")
def model() -> LearnedModel:
    return train(EXAMPLES)


def test_scores_separate_training_classes(model: LearnedModel) -> None:
    complaint = [model.complaint_score(t) for t in COMPLAINTS]
    other = [model.complaint_score(t) for t in OTHERS]
    assert min(complaint) > max(other)
    assert all(0.0 <= p <= 1.0 for p in complaint + other)


def test_generalises_to_unseen_text(model: LearnedModel) -> None:
    assert model.complaint_score("the parcel never arrived, no refund") > 0.5
    assert model.complaint_score("thanks, lovely staff") < 0.5


def test_top_terms_explain_the_score(model: LearnedModel) -> None:
    terms = model.top_terms("still no refund and nobody replies")
    assert terms
    assert all(t in "still no refund and nobody replies" for t in terms)


def test_save_and_load_round_trip(model: LearnedModel, tmp_path) -> None:
    path = tmp_path / "models" / "triage.json.gz"
    model.save(path)
    loaded = load_model(path)
    assert loaded is not None
    for text in ["still waiting for my refund", "lovely shop", ""]:
        assert loaded.complaint_score(text) == pytest.approx(model.complaint_score(text), abs=1e-12)
    assert loaded.meta["examples"] == len(EXAMPLES)


def test_saved_file_is_json_not_pickle(model: LearnedModel, tmp_path) -> None:
    path = tmp_path / "m.json.gz"
    model.save(path)
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        assert fh.read(1) == "{"


def test_missing_file_logs_one_line(tmp_path, caplog) -> None:
    with caplog.at_level(logging.WARNING):
        assert load_model(tmp_path / "absent.json.gz") is None
    assert len(caplog.records) == 1
    assert "no model at" in caplog.records[0].getMessage()
    assert "triage-train" in caplog.records[0].getMessage()


@pytest.mark.parametrize("content", [b"not gzip at all", gzip.compress(b"{}"), gzip.compress(b"[1, 2")])
def test_corrupt_file_logs_one_line(tmp_path, caplog, content: bytes) -> None:
    path = tmp_path / "bad.json.gz"
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING):
        assert load_model(path) is None
    assert len(caplog.records) == 1
    assert "not a readable model" in caplog.records[0].getMessage()


def test_no_path_is_silent(caplog) -> None:
    with caplog.at_level(logging.WARNING):
        assert load_model(None) is None
    assert caplog.records == []


def test_missing_scikit_learn_degrades_with_one_line(
    model: LearnedModel, tmp_path, monkeypatch, caplog
) -> None:
    path = tmp_path / "m.json.gz"
    model.save(path)
    # A None entry in sys.modules makes "import sklearn" raise ImportError, as if not installed.
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with caplog.at_level(logging.WARNING):
        assert load_model(path) is None
    assert len(caplog.records) == 1
    assert "scikit-learn is not installed" in caplog.records[0].getMessage()


def test_one_class_cannot_train() -> None:
    with pytest.raises(LearnedModelError, match="both complaints and non-complaints"):
        train([("late again", "complaint"), ("still late", "complaint")])
    with pytest.raises(LearnedModelError):
        train([])


def test_triager_uses_learned_signal(model: LearnedModel, make_mention) -> None:
    # A complaint phrased without any rule cue: only the learned signal can tip it.
    text = "courier smashed parcel, refund form useless"
    rules = Triager().assess(make_mention(text))
    learned = Triager(learned=model).assess(make_mention(text))
    assert learned.complaint_score > rules.complaint_score
    assert any(r.startswith("learned model: ") for r in learned.reasons)


def test_learned_signal_weight_zero_switches_it_off(model: LearnedModel, make_mention) -> None:
    from monitor.triage import TriageSettings

    settings = TriageSettings(weights={"learned": 0.0})
    text = "courier smashed parcel, refund form useless"
    assert (
        Triager(settings, learned=model).assess(make_mention(text)).complaint_score
        == Triager(settings).assess(make_mention(text)).complaint_score
    )


def test_model_path_from_settings_round_trip(model: LearnedModel, tmp_path, make_mention, caplog) -> None:
    # How the pipeline wires it: load once from settings.model_path, hand it to the Triager.
    from monitor.triage import TriageSettings

    path = tmp_path / "m.json.gz"
    model.save(path)
    settings = TriageSettings(model_path=str(path))
    with caplog.at_level(logging.WARNING):
        triager = Triager(settings, learned=load_model(settings.model_path))
    assert caplog.records == []
    verdict = triager.assess(make_mention("courier smashed parcel, refund form useless"))
    assert any(r.startswith("learned model: ") for r in verdict.reasons)


def test_missing_model_path_logs_once_and_runs_on_rules(tmp_path, make_mention, caplog) -> None:
    from monitor.triage import TriageSettings

    settings = TriageSettings(model_path=str(tmp_path / "nope.json.gz"))
    with caplog.at_level(logging.WARNING):
        triager = Triager(settings, learned=load_model(settings.model_path))
        verdict = triager.assess(make_mention("my parcel never arrived"))
    assert triager.learned is None
    assert len(caplog.records) == 1
    assert verdict.label == "complaint"


def test_training_is_deterministic() -> None:
    a, b = train(EXAMPLES), train(EXAMPLES)
    assert a.complaint_score("still no refund") == b.complaint_score("still no refund")
