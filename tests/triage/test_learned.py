"""The optional learned signal: training, saving, loading, failure modes, and its use in triage."""

from __future__ import annotations

import gzip
import logging
import sys
from collections import Counter

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


def test_saved_model_scores_without_scikit_learn(model: LearnedModel, tmp_path, monkeypatch, caplog) -> None:
    path = tmp_path / "m.json.gz"
    model.save(path)
    # A None entry in sys.modules makes "import sklearn" raise ImportError, as if not installed:
    # only training needs it, so the daemon loads and scores the model all the same.
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with caplog.at_level(logging.WARNING):
        loaded = load_model(path)
    assert loaded is not None and caplog.records == []
    text = "still waiting for my refund"
    assert loaded.complaint_score(text) == pytest.approx(model.complaint_score(text), abs=1e-12)


def test_model_needing_an_unknown_analyzer_without_scikit_learn_logs_one_line(
    model: LearnedModel, tmp_path, monkeypatch, caplog
) -> None:
    path = tmp_path / "m.json.gz"
    model._blocks[1].params["analyzer"] = "char"  # only scikit-learn's own analyzer does plain char n-grams
    try:
        model.save(path)
    finally:
        model._blocks[1].params["analyzer"] = "char_wb"
    for name in [n for n in sys.modules if n == "sklearn" or n.startswith("sklearn.")]:
        monkeypatch.setitem(sys.modules, name, None)
    with caplog.at_level(logging.WARNING):
        assert load_model(path) is None
    assert len(caplog.records) == 1
    assert "scikit-learn" in caplog.records[0].getMessage()


# Scores and reasons of the model trained on EXAMPLES, recorded with the scikit-learn-analyzer
# implementation before scoring was re-implemented as a sparse dot product: they must not move.
RECORDED = [
    ("my parcel never arrived and support ignores me", 0.8120037243061476, ("my parcel", "my")),
    ("thanks, the parcel arrived early", 0.24602640977774812, ("parcel", "arrived")),
    ("Still NO refund!!! @acme #fail 😡 charged twice", 0.8295127689655479, ("no", "refund")),
    ("", 0.4889086412974314, ()),
    ("café crème déjà vu — naïve", 0.5007092535075345, ()),
    (
        "what time does the shop open on saturdays? the checkout page is broken",
        0.37797118850487305,
        ("is broken", "broken"),
    ),
]


@pytest.mark.parametrize(("text", "score", "terms"), RECORDED)
def test_scores_unchanged_by_the_fast_scoring(model: LearnedModel, text: str, score: float, terms) -> None:
    assert model.complaint_score(text) == pytest.approx(score, abs=1e-9)
    assert model.top_terms(text) == terms
    # The other order (explanation first, then the score) gives the same: one shared vectorisation.
    other = train(EXAMPLES)
    assert other.top_terms(text) == terms
    assert other.complaint_score(text) == pytest.approx(score, abs=1e-9)


@pytest.mark.parametrize(
    "params",
    [
        {"analyzer": "word", "ngram_range": [1, 2], "lowercase": True},
        {"analyzer": "word", "ngram_range": [2, 3], "lowercase": False},
        {"analyzer": "char_wb", "ngram_range": [2, 5], "lowercase": True},
        {"analyzer": "char_wb", "ngram_range": [1, 3], "lowercase": False},
    ],
)
def test_own_ngrams_equal_scikit_learns(params) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from monitor.triage.learned import _ngram_counter

    kwargs = dict(params, ngram_range=tuple(params["ngram_range"]))
    theirs = TfidfVectorizer(**kwargs).build_analyzer()
    counter = _ngram_counter(params)

    def ours(text: str) -> Counter[str]:
        # Grams spanning two words hold two spaces: never a model term, so they may be counted.
        return Counter({g: n for g, n in counter(text).items() if "  " not in g})

    texts = [
        *COMPLAINTS,
        *OTHERS,
        "",
        "a",
        "I  x\ty\nzz",
        "Ünïcödé WORDS and 😡 emoji!!",
        "ab abc abcd abcde",
    ]
    for text in texts:
        assert ours(text) == Counter(theirs(text)), text


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


@pytest.mark.parametrize("ngram_range", [[2, 5], [4, 6]])
def test_char_block_by_word_equals_the_dictionary_path(model: LearnedModel, ngram_range) -> None:
    from monitor.triage.learned import _Block, _ngram_counter

    chars = model._blocks[1]
    params = dict(chars.params, ngram_range=ngram_range)
    block = _Block(params, chars.sublinear_tf, chars.terms)
    assert block.by_word is not None
    if ngram_range[0] > 3:
        # The regex counter only covers lo <= 3; scikit-learn's analyzer is the reference then.
        pytest.importorskip("sklearn")
    reference = _Block(params, chars.sublinear_tf, chars.terms)
    reference.by_word = None
    reference.count = _ngram_counter(params)
    texts = [
        *COMPLAINTS,
        *OTHERS,
        "",
        "a",
        "late late late late again",  # one word many times: tf above 1
        "I  x\ty\nzz abcdefgh",
        "Ünïcödé WORDS and 😡 emoji!!",
    ]
    for _ in range(2):  # the second pass reads every word from the block's memory
        for text in texts:
            assert block.logit(text, None) == pytest.approx(reference.logit(text, None), abs=1e-12), text
