"""Each signal on its own: sentiment mix, cues, sarcasm, escalation, reach, history, thread, language."""

from __future__ import annotations

import re

import pytest

from monitor.triage import AuthorHistory, TriageSettings
from monitor.triage.cues import FAILURE, CueSet, cue_evidence, emphasis_evidence, first_char_gate, is_question
from monitor.triage.escalation import escalation_evidence
from monitor.triage.history import history_evidence, ordinal
from monitor.triage.language import decide_language, guess_language
from monitor.triage.normalize import MAX_CHARS, brand_pattern, prepare
from monitor.triage.reach import human_count, reach_evidence
from monitor.triage.sarcasm import sarcasm_marker
from monitor.triage.sentiment import SentimentScorer, sentiment_evidence
from monitor.triage.thread import thread_evidence

SETTINGS = TriageSettings()
CUES = CueSet(SETTINGS)
SCORER = SentimentScorer()


def read(text: str):
    return CUES.read(prepare(text))


# --- text preparation -------------------------------------------------------------------


def test_prepare_strips_handles_urls_and_brand_terms() -> None:
    p = prepare(".@AcmeHelp Acme's app is down https://t.co/x #fail", brand_pattern(["Acme"]))
    assert "acme" not in p.lower
    assert "http" not in p.lower
    assert p.hashtags == ("fail",)
    assert p.url_count == 1 and p.handle_count == 1


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        # ASCII text takes the lower-case trie path; other text the case-folding pattern.
        ("Flew DELTA and delta's #Delta app, not Deltaville", "Flew and 's app, not Deltaville"),
        ("Flew DELTA to Zürich, Delta lost my bag", "Flew to Zürich, lost my bag"),
        ("Jet Blue or JetBlue? jetblue!", "or ? !"),
        ("İstanbul via JetBlue", "İstanbul via"),
    ],
)
def test_brand_terms_are_stripped_alike_in_ascii_and_other_text(text: str, clean: str) -> None:
    assert prepare(text, brand_pattern(["Delta", "JetBlue", "Jet Blue"])).clean == clean


def test_a_non_ascii_brand_term_uses_the_case_folding_pattern() -> None:
    matcher = brand_pattern(["Çelik Air", "JetBlue"])
    assert matcher is not None and not matcher._ascii
    assert prepare("Flew ÇELIK AIR and JETBLUE", matcher).clean == "Flew and"


def test_prepare_keeps_email_addresses_and_decodes_entities() -> None:
    p = prepare("write to help@example.com &amp; wait")
    assert "help@example.com" in p.clean
    assert "&" in p.clean and "&amp;" not in p.clean


def test_prepare_caps_very_long_text() -> None:
    p = prepare("word " * 5_000)
    assert p.truncated
    assert len(p.clean) <= MAX_CHARS


# --- sentiment ---------------------------------------------------------------------------


def test_sentiment_combines_textblob_and_vader() -> None:
    r = SCORER.read("this is terrible", textblob_weight=1, vader_weight=1)
    assert r.polarity < 0 and r.vader < 0
    assert r.combined == pytest.approx((r.polarity + r.vader) / 2)
    only_vader = SCORER.read("this is terrible", textblob_weight=0, vader_weight=1)
    assert only_vader.combined == pytest.approx(r.vader)


def test_vader_reads_what_textblob_misses() -> None:
    # Slang and emoji: TextBlob has no entry for "ugh" or 😩, VADER has.
    for text in ("ugh", "no wifi again 😩"):
        r = SCORER.read(text)
        assert r.polarity == 0
        assert r.vader < -0.3


def test_negation_flips_sentiment() -> None:
    assert SCORER.read("the staff were helpful").combined > 0
    assert SCORER.read("the staff were not helpful").combined < 0


def test_caps_intensify_vader() -> None:
    assert SCORER.read("this is TERRIBLE").vader < SCORER.read("this is terrible").vader


def test_sentiment_evidence_reason_and_sign() -> None:
    negative = sentiment_evidence(SCORER.read("awful, horrible service"), SETTINGS)
    assert negative[0].weight > 0
    assert negative[0].reason.startswith("negative (−0.")
    positive = sentiment_evidence(SCORER.read("wonderful, lovely people"), SETTINGS)
    assert positive[0].weight < 0
    assert positive[0].reason.startswith("positive (+0.")


def test_negative_words_count_when_praise_dilutes_the_score() -> None:
    mixed = SCORER.read("lovely staff and great food, but a terrible wait", 1, 2)
    assert mixed.combined > SETTINGS.negative_polarity  # the overall score hides it
    ev = {e.signal: e for e in sentiment_evidence(mixed, SETTINGS)}
    assert ev["negative_words"].weight == pytest.approx(
        SETTINGS.weights.negative_words * mixed.negative_share
    )
    assert ev["negative_words"].reason.startswith("negative words (")
    # When the overall score already says negative, no second reason line.
    plain = SCORER.read("an awful, terrible mess", 1, 2)
    reasons = [e.reason for e in sentiment_evidence(plain, SETTINGS) if e.reason]
    assert len(reasons) == 1 and reasons[0].startswith("negative (")
    off = TriageSettings(weights={"negative_words": 0})
    assert "negative_words" not in {e.signal for e in sentiment_evidence(mixed, off)}


def test_empty_text_reads_zero() -> None:
    r = SCORER.read("   ")
    assert (r.polarity, r.subjectivity, r.vader, r.combined) == (0.0, 0.0, 0.0, 0.0)


# --- cues ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("still waiting for the parcel", "still waiting"),
        ("nobody answers the phone", "still waiting"),
        ("the app doesn't work since the update", "doesn't work"),
        ("I can't log in", "doesn't work"),
        ("you charged me twice", "charged wrongly"),
        ("my order was cancelled", "cancelled"),
        ("the site is down", "broken"),
        ("the package arrived damaged", "lost or damaged"),
        ("I was told it would ship monday", "broken promise"),
        ("still no word on the replacement", "still waiting"),
        ("we paid for express delivery", "broken promise"),
    ],
)
def test_failure_cues(text: str, tag: str) -> None:
    assert tag in read(text).failure.tags


@pytest.mark.parametrize(
    "text",
    ["can't wait for the launch", "this is not bad at all", "no problem, thanks", "works great"],
)
def test_no_failure_in_happy_phrases(text: str) -> None:
    r = read(text)
    assert not r.failure.tags
    assert not r.frustration.tags


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("I want a refund", "a refund"),
        ("please call me back", "a call back"),
        ("fix this now", "a fix"),
        ("let me speak to a manager", "a manager"),
    ],
)
def test_demand_cues(text: str, tag: str) -> None:
    assert tag in read(text).demand.tags


def test_frustration_includes_emoji_and_negated_praise() -> None:
    assert read("so much for that 😡").frustration.tags
    assert read("the agent was not friendly").frustration.tags
    assert not read("the agent was not friendly").praise.tags


def test_the_word_complaint_is_frustration_unless_negated() -> None:
    assert read("where do I file a formal complaint").frustration.tags == ("complaint",)
    assert not read("can't complain, all good").frustration.tags


def test_complaint_hashtags() -> None:
    assert "#customerservicefail" in read("waited an hour #customerservicefail").frustration.tags
    assert not read("lovely day #sunshine").frustration.tags


def test_persistence_and_possessive() -> None:
    r = read("my account has been locked for 3 days, again")
    assert {"3 days", "again"} <= set(r.persistence.tags)
    assert r.possessive.tags


def test_accusing_question() -> None:
    assert read("why is my refund taking so long?").accusing_question.tags
    assert not read("when do you open?").accusing_question.tags


def test_question_detection() -> None:
    assert is_question("do you ship to canada")
    assert is_question("the red one? or the blue")
    assert not is_question("shipped today, thanks")


def test_cue_evidence_caps_each_family() -> None:
    r = read("late, cancelled, broken, lost my bag, stuck, on hold")
    failure = [e for e in cue_evidence(r, SETTINGS, sarcastic=False) if e.signal == "failure"]
    assert failure[0].weight == SETTINGS.weights.failure * SETTINGS.max_cues_per_family


def test_extra_terms_from_settings() -> None:
    settings = TriageSettings(extra_failure_terms=["out of stock"])
    assert "out of stock" in CueSet(settings).read(prepare("everything is out of stock")).failure.tags
    assert not read("everything is out of stock").failure.tags


def test_emphasis_caps_and_exclamations() -> None:
    shout = read("NOBODY IS ANSWERING THE PHONE!!!")
    assert shout.shouting and shout.emphasis
    reasons = [e.reason for e in emphasis_evidence(shout, SETTINGS)]
    assert reasons == ["emphatic: “!!!” and capitals"]
    # One acronym is not shouting.
    assert not read("my SIM card arrived").shouting


# --- sarcasm ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "great, another delay",
        "oh great, the app crashed again",
        "thanks for nothing",
        "thanks for losing my parcel",
        "love how nobody answers the phone",
        "on hold for an hour then cut off. great system you got there",
        "you sent my parcel to the wrong city, thanks for that",
    ],
)
def test_sarcasm_detected(text: str) -> None:
    p = prepare(text)
    assert sarcasm_marker(p.lower, CUES.read(p), p.hashtags)


def test_sarcasm_hashtag() -> None:
    p = prepare("what a lovely morning on hold #sarcasm")
    assert sarcasm_marker(p.lower, CUES.read(p), p.hashtags) == "#sarcasm"


@pytest.mark.parametrize(
    "text",
    ["great job, thank you", "love the new colours", "thanks for the quick reply"],
)
def test_sincere_praise_is_not_sarcasm(text: str) -> None:
    p = prepare(text)
    assert sarcasm_marker(p.lower, CUES.read(p), p.hashtags) is None


# --- escalation, reach, history, thread ------------------------------------------------------


def test_escalation_terms_whole_words() -> None:
    cues = CueSet(TriageSettings(escalation_terms=["lawyer", "safety", "cancel my account", "#boycott"]))
    assert cues.read(prepare("I will call my lawyer about this safety issue")).escalation.tags == (
        "lawyer",
        "safety",
    )
    assert cues.read(prepare("lawyers")).escalation.tags == ()
    assert cues.read(prepare("please CANCEL MY ACCOUNT")).escalation.tags == ("cancel my account",)
    assert cues.read(prepare("time to #boycott them")).escalation.tags == ("boycott",)
    ev = escalation_evidence(("lawyer", "safety"), 30)
    assert ev[0].weight == 30 and ev[0].reason == "mentions lawyer, safety"
    assert CueSet(TriageSettings(escalation_terms=[])).read(prepare("lawyer")).escalation.tags == ()


def test_first_char_gate_keeps_matches() -> None:
    # The speed-up lookahead must never change what a cue matches.
    pattern = FAILURE[0][1]
    gate = first_char_gate(pattern)
    assert gate.startswith("(?=[")
    text = "it does not work, it never works, we can't log in"
    plain = [m.span() for m in re.finditer(pattern, text)]
    gated = [m.span() for m in re.finditer(gate + pattern, text)]
    assert plain == gated and plain


def test_reach_scales_between_thresholds() -> None:
    assert reach_evidence(9_999, 10_000, 100_000, 20) == []
    assert reach_evidence(None, 10_000, 100_000, 20) == []
    low = reach_evidence(10_000, 10_000, 100_000, 20)[0]
    mid = reach_evidence(48_000, 10_000, 100_000, 20)[0]
    top = reach_evidence(2_000_000, 10_000, 100_000, 20)[0]
    assert low.weight == 10 and top.weight == 20
    assert low.weight < mid.weight < top.weight
    assert mid.reason == "author has 48k followers"
    assert top.reason == "author has 2M followers"


def test_human_count() -> None:
    assert [human_count(n) for n in (950, 48_200, 1_250_000)] == ["950", "48k", "1.2M"]


def test_history_repeat_complainer() -> None:
    ev = history_evidence(AuthorHistory(5, 3, 2), per_24h=8, max_24h=20, total_points=5, total_min=3)
    assert ev[0].reason == "3rd complaint in 24 h" and ev[0].weight == 16
    capped = history_evidence(AuthorHistory(9, 9, 9), per_24h=8, max_24h=20, total_points=5, total_min=3)
    assert capped[0].weight == 20
    old = history_evidence(AuthorHistory(9, 4, 0), per_24h=8, max_24h=20, total_points=5, total_min=3)
    assert old[0].reason == "has complained 4 times before"
    assert history_evidence(AuthorHistory(), 8, 20, 5, 3) == []


def test_ordinal() -> None:
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101)] == [
        "1st",
        "2nd",
        "3rd",
        "4th",
        "11th",
        "12th",
        "13th",
        "21st",
        "22nd",
        "101st",
    ]


def test_thread_follow_up() -> None:
    assert thread_evidence(False, 10) == []
    assert thread_evidence(True, 10)[0].reason == "follow-up in a thread the brand already answered"


# --- language -----------------------------------------------------------------------------


def test_platform_language_wins() -> None:
    p = prepare("my order never arrived")
    assert not decide_language("de", p, ["en"]).scored
    assert decide_language("en-GB", p, ["en"]).scored
    assert decide_language("EN", p, ["en"]).scored


def test_unknown_language_codes_are_guessed() -> None:
    p = prepare("the parcel never arrived and nobody answers")
    d = decide_language("und", p, ["en"])
    assert d.scored and d.code == "en"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("el pedido no ha llegado y nadie contesta el teléfono", "es"),
        ("la commande n'est pas arrivée et personne ne répond pour le moment", "fr"),
        ("die Bestellung ist nicht angekommen und ich warte auf eine Antwort", "de"),
        ("Заказ так и не пришёл", "ru"),
        ("the order has not arrived and nobody answers", "en"),
    ],
)
def test_guess_language(text: str, code: str) -> None:
    assert guess_language(text)[0] == code


def test_short_text_is_not_guessed() -> None:
    assert guess_language("ok thx") == (None, "")


def test_language_gate_can_be_switched_off() -> None:
    p = prepare("el pedido no ha llegado y nadie contesta")
    d = decide_language(None, p, ["en"], guess=False)
    assert d.scored and d.reason == "language unknown, scored as English"


def test_more_languages_can_be_scored() -> None:
    p = prepare("el pedido no ha llegado y nadie contesta")
    assert decide_language("es", p, ["en", "es"]).scored


def test_one_group_per_family_finds_the_tags_one_group_per_tag_found() -> None:
    # The scan used to test one regex group per tag; with one group per family, the tag is told
    # afterwards. Both must read every post alike: same tags, words and spans per family.
    import monitor.triage.cues as cues_module

    posts = [
        "still waiting for my refund, third time i call and nobody answers. unacceptable!",
        "the app doesn't work, can't log in since yesterday, site is down again, flight delayed",
        "i want to speak to a manager, call me back, i demand compensation, please help, fix this",
        "bags lost, stranded at the gate, charged me twice, was told it would arrive, no one told us",
        "why is my order not here? where's my package? what's going on, are you kidding",
        "thanks, you sorted my issue, love it, great job. thanks for nothing. yeah right",
        "giveaway! win a free iphone, use code x, link in bio. my order, customer service",
        "i wish someone would answer, hope you reply, you guys need to hire more staff",
        # Two tags of one family match at the same word: the first in the table's order wins.
        "they have not allowed me to board, never allowed us in",
    ]
    groups: dict[str, tuple[str, str]] = {}
    parts = []
    for family in cues_module.FAMILIES:
        table = cues_module.escalation_cues(SETTINGS.escalation_terms)
        cues = table if family == "escalation" else cues_module._BUILTIN[family]
        words = [(tag, p) for tag, p in cues if p.startswith(r"\b")]
        for i, (tag, pattern) in enumerate(cues_module._merged(words)):
            groups[f"{family}_{i}"] = (family, tag)
            parts.append(f"{first_char_gate(pattern)}(?P<{family}_{i}>{pattern})")
    old = re.compile(r"\b(?=\w)(?:" + "|".join(parts) + ")")
    multi = 0
    for post in posts:
        expected: dict[str, tuple[list[str], list[str], list[tuple[int, int]]]] = {}
        for m in old.finditer(post):
            family, tag = groups[m.lastgroup or ""]
            tags, said, spans = expected.setdefault(family, ([], [], []))
            if (tag or m.group()) not in tags:
                tags.append(tag or m.group())
                said.append(m.group())
            spans.append(m.span())
        found = CUES.find(post)
        assert set(found) == set(expected), post
        for family, (tags, said, spans) in expected.items():
            hit = found[family]
            assert (list(hit.tags), list(hit.words), list(hit.spans)) == (tags, said, spans), (post, family)
            multi += len(tags) > 1
    assert multi >= 5
