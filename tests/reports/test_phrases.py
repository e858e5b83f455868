"""Key phrases for the top-topics report: the words a manager can act on, and their pairs."""

from __future__ import annotations

from monitor.reports.phrases import key_phrases


def test_pairs_first_then_words_without_brand_handles_links_or_stop_words():
    got = key_phrases("@acme the app keeps crashing after the update https://x.example/1", ignore=["Acme"])
    assert got == ["app keeps", "keeps crashing", "app", "keeps", "crashing", "update"]


def test_counting_and_waiting_words_are_not_topics():
    got = key_phrases("Two weeks without my refund, called back three times. Acme support hung up", ["Acme"])
    assert got == ["refund called", "support hung", "refund", "called", "support", "hung"]
