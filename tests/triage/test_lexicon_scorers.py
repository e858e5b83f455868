"""TextBlob's and VADER's scores as triage computes them equal the libraries' own, text for text."""

from __future__ import annotations

import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from monitor.triage import vader_scorer
from monitor.triage.normalize import prepare
from monitor.triage.textblob_scorer import TextBlobScorer, _loaded_sentiment, _textblob_sentiment
from monitor.triage.vader_scorer import VaderScorer

# Posts that exercise every step of TextBlob's tokenizer and VADER's rules: contractions, quotes,
# abbreviations, ellipses, leading and trailing punctuation, emoticons whole and split by a
# space (which TextBlob joins again), the sarcasm mark, paragraph breaks, its sentence-end
# marker, other whitespace, capitals, boosters, negations, "but", "least", idioms, emoji.
TEXTS = [
    "",
    " ",
    "great",
    "not really good",
    "very VERY bad!!! :-( (!)",
    "the staff were lovely but the flight was terribly late",
    "I'm not unhappy, it's just okay-ish... I guess? :)",
    "Ünïcödé and 😡 and numbers 10:30 $45",
    "I don't think it's good, you'd've said so. Can't won't shouldn't!",
    "“great” service, ‘fine’ food, \"good\" seats and 'nice' staff",
    "Mr. Smith said the U.S. flights were bad, e.g. this one etc. Terrible.",
    "wait... what?! really?!) ((great)) [awful] {nice}",
    "so sad : ( and x D but :) fine ;-) <3 ♥",
    "Max D went home, plan X D now, 8 ) and o. O later",
    "sarcasm ( ! ) here and (!) there and ( !) again",
    "great ( ! ) here",
    "great : ) day",
    "Update: Service is :S bad : S and : {link}",
    "boarding at 10:30 and 11:35, gate 3:3 closes at 8:30",
    "good\n\nbad and worse\r\n\r\nbest",
    "tab\tseparated\u00a0words\u2003and  double  spaces ",
    "this END-OF-SENTENCE marker is odd",
    "The service was kind of good, but the wait was NOT okay!!!",
    "no problem at all, least helpful ever, very VERY bad :(",
    "I love it 😍 but the app crashed 😡",
    "sort of fine?? hardly great, kinda bad, the shit, bad ass, yeah right",
    "never so good, never this bad, without doubt great, without a doubt awful, not the best",
    "at least it isn't a horrible book, very least good, no good, no no bad, no or nor good",
    "it was not so good and not this bad, uh-uh nope, nothing good, it wasn't great",
    "You were NOT helpful AT ALL and I am FURIOUS!!!! Worst. Airline. Ever.",
    "Thanks!!! Love it!!! #great @someone http://x.co/y",
]


def test_preloaded_textblob_scorer_scores_as_textblob_does() -> None:
    # TextBlob's own class and lexicon, loaded up front: every score equals TextBlob's
    # module-level scorer (what PatternAnalyzer calls).
    ours = _loaded_sentiment()
    assert type(ours) is not type(_textblob_sentiment)
    for text in TEXTS:
        assert tuple(ours(text)) == tuple(_textblob_sentiment(text)), text


@pytest.mark.parametrize("text", TEXTS)
def test_textblob_scorer_tokenizing_by_chunk_scores_as_textblob_does(text: str) -> None:
    scorer = TextBlobScorer()
    for form in (text, prepare(text).clean):
        expected = tuple(_textblob_sentiment(form))
        assert scorer(form) == expected, form
        assert scorer(form) == expected, form  # again, from the chunks it remembers


def test_textblob_scorer_sends_only_risky_texts_whole() -> None:
    scorer = TextBlobScorer()
    # Everyday posts (a clock time included) are tokenized chunk by chunk...
    for text in ("the flight was late, again!", "boarding at 10:30. Don't bother", "“fine” thanks..."):
        assert scorer.tokens(text) is not None, text
    # ...posts where TextBlob could join tokens across a space, or end a paragraph, are not.
    for text in ("so sad : (", ":)", "plan X D now", "( ! )", "good\n\nbad", "a\tb", "END-OF-SENTENCE"):
        assert scorer.tokens(text) is None, text


def test_textblob_chunk_tokens_are_textblob_tokens() -> None:
    scorer = TextBlobScorer()
    tokenize = _textblob_sentiment.tokenizer
    for text in TEXTS:
        tokens = scorer.tokens(text)
        if tokens is not None:
            assert tokens == [w.lower() for w in " ".join(tokenize(text)).split()], text


@pytest.mark.parametrize("text", TEXTS)
def test_vader_scorer_scores_as_vader_does(text: str) -> None:
    ours, theirs = VaderScorer(), SentimentIntensityAnalyzer()
    for form in (text, prepare(text).clean, text.lower(), text.upper()):
        assert ours.polarity_scores(form) == theirs.polarity_scores(form), form


def test_vader_helpers_equal_vaders_own_at_every_word() -> None:
    # The negation and idiom checks read only the words before (and after) position i; VADER's
    # lower-case the whole list first. Same answer at every position of every post.
    assert VaderScorer()._negation_check is vader_scorer._negation_check  # the release checked
    theirs = SentimentIntensityAnalyzer
    checked = 0
    for text in TEXTS:
        words = text.split()
        for i in range(len(words)):
            for start_i in range(3):
                if i > start_i:
                    for valence in (1.9, -2.5):
                        assert vader_scorer._negation_check(
                            valence, words, start_i, i
                        ) == theirs._negation_check(valence, words, start_i, i)
                        checked += 1
            if i > 2:
                for valence in (1.9, -2.5):
                    assert vader_scorer._special_idioms_check(
                        valence, words, i
                    ) == theirs._special_idioms_check(valence, words, i), (text, i)
    assert checked > 500


def test_vader_uses_its_own_helpers_for_another_release(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vader_scorer, "_CHECKED", "0.0-not-this-one")
    scorer = VaderScorer()
    assert "_negation_check" not in vars(scorer)
    text = "it was not so good, never this bad, but kind of fine"
    assert scorer.polarity_scores(text) == SentimentIntensityAnalyzer().polarity_scores(text)
