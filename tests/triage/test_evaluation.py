"""Precision/recall/F1 per label from (predicted, corrected) pairs."""

from __future__ import annotations

import pytest

from monitor.triage.evaluation import evaluate


def test_per_label_scores() -> None:
    pairs = [
        ("complaint", "complaint"),
        ("complaint", "complaint"),
        ("complaint", "neutral"),
        ("neutral", "complaint"),
        ("praise", "praise"),
    ]
    report = evaluate(pairs)
    c = report.score("complaint")
    assert (c.true_positives, c.predicted, c.actual) == (2, 3, 3)
    assert c.precision == pytest.approx(2 / 3)
    assert c.recall == pytest.approx(2 / 3)
    assert c.f1 == pytest.approx(2 / 3)
    n = report.score("neutral")
    assert n.precision == 0.0 and n.recall == 0.0 and n.f1 == 0.0
    assert report.score("praise").f1 == 1.0
    assert report.accuracy == pytest.approx(3 / 5)


def test_undefined_scores_are_none_not_zero() -> None:
    report = evaluate([("complaint", "complaint"), ("complaint", "question")])
    q = report.score("question")
    assert q.precision is None  # never predicted
    assert q.recall == 0.0
    assert report.score("spam").precision is None


def test_format_lists_labels_and_mistakes() -> None:
    text = evaluate([("complaint", "neutral"), ("complaint", "neutral"), ("question", "question")]).format()
    assert "3 corrected mentions" in text
    assert "complaint" in text and "question" in text
    assert "complaint -> neutral: 2" in text


def test_empty_report() -> None:
    report = evaluate([])
    assert report.total == 0 and report.accuracy is None
    assert "No corrected labels yet" in report.format()


def test_unknown_labels_are_kept() -> None:
    report = evaluate([("complaint", "urgent")])
    assert [s.label for s in report.labels] == ["complaint", "urgent"]
