"""Complaint cues in plain customer-service language: each rule, and the false alarm it must not cause.

Every example is hand-written, about a shop, a bank or a telco.
"""

from __future__ import annotations

import re

import pytest

from monitor.triage import Triager
from monitor.triage.cues import CueSet
from monitor.triage.normalize import prepare
from monitor.triage.sarcasm import sarcasm_marker

CUES = CueSet()


def read(text: str):
    return CUES.read(prepare(text))


def quotes(reasons: tuple[str, ...]) -> list[str]:
    return [q for r in reasons for q in re.findall(r"“([^”]+)”", r)]


def assert_complaint(triager: Triager, make_mention, text: str) -> tuple[str, ...]:
    verdict = triager.assess(make_mention(text))
    assert verdict.label == "complaint", verdict.reasons
    for q in quotes(verdict.reasons):
        assert q.lower() in text.lower(), (q, text)
    return verdict.reasons


# --- "this is ridiculous!" is not slang praise -------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["@AcmeHelp two weeks for a password reset, this is ridiculous!", "@AcmeHelp this is crazy."],
)
def test_ridiculous_or_crazy_closing_a_sentence_is_frustration(triager: Triager, make_mention, text) -> None:
    reasons = assert_complaint(triager, make_mention, text)
    assert not any(r.startswith("slang praise") for r in reasons)


def test_ridiculous_before_a_product_word_is_still_slang_praise(triager: Triager, make_mention) -> None:
    verdict = triager.assess(make_mention("@AcmeHelp ridiculously good prices this week"))
    assert verdict.label == "praise", verdict.reasons


# --- "no one" as a failure, like "nobody" ------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "@AcmeHelp no one at the branch could tell me where my card is",
        "@AcmeHelp I have called three times and no one has been able to help",
    ],
)
def test_no_one_is_a_service_failure(triager: Triager, make_mention, text: str) -> None:
    assert "no one" in read(text).failure.words
    reasons = assert_complaint(triager, make_mention, text)
    assert any("“no one”" in r for r in reasons)


@pytest.mark.parametrize(
    "text",
    [
        "no one does it better than your support team",
        "no one else had the size in stock, glad you did",
        "a feature no one's ever heard of",
        "no one ever beats your prices",
    ],
)
def test_no_one_in_praise_or_hearsay_is_not_a_failure(text: str) -> None:
    assert not read(text).failure.tags


def test_no_one_praise_stays_praise(triager: Triager, make_mention) -> None:
    assert triager.assess(make_mention("@AcmeHelp no one is better than you, thanks!")).label == "praise"


# --- complaint hashtags in customer-service words ----------------------------------------------


@pytest.mark.parametrize("tag", ["badcustomerservice", "poorservice", "nothelpful"])
def test_service_complaint_hashtags(tag: str) -> None:
    assert f"#{tag}" in read(f"second call today #{tag}").frustration.tags


def test_service_hashtag_praise_is_not_frustration() -> None:
    assert not read("sorted in minutes #greatcustomerservice #helpful").frustration.tags


# --- "thanks for not answering" is sarcasm ------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["thx for not responding", "thanks for never getting back to me", "thank you for not helping"]
)
def test_thanks_for_not_answering_is_sarcasm(text: str) -> None:
    p = prepare(text)
    assert sarcasm_marker(p.lower, CUES.read(p), p.hashtags)


def test_thanks_for_not_answering_is_a_complaint(triager: Triager, make_mention) -> None:
    assert_complaint(triager, make_mention, "@AcmeHelp thanks for not responding to my email")


@pytest.mark.parametrize(
    "text", ["thanks for not charging me the late fee", "thank you for not giving up on my claim"]
)
def test_sincere_thanks_for_not_doing_harm_is_praise(triager: Triager, make_mention, text: str) -> None:
    p = prepare(text)
    assert sarcasm_marker(p.lower, CUES.read(p), p.hashtags) is None
    assert triager.assess(make_mention(f"@AcmeHelp {text}")).label == "praise"


# --- a function that was not done: "didn't hear back", "couldn't be made" ----------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("@AcmeHelp emailed twice last week and didn't hear back", "didn't hear back"),
        ("@AcmeHelp the address change couldn't be made online", "couldn't be made"),
        ("@AcmeHelp the branch couldn't get me a new card", "couldn't get me"),
        ("@AcmeHelp the form won't send", "won't send"),
    ],
)
def test_negated_service_functions(triager: Triager, make_mention, text: str, words: str) -> None:
    assert words in read(text).failure.words
    assert_complaint(triager, make_mention, text)


@pytest.mark.parametrize(
    "text", ["can't wait to see the new store", "can't wait to get my new phone", "couldn't be happier"]
)
def test_eagerness_is_not_a_negated_function(text: str) -> None:
    assert not read(text).failure.tags


def test_cant_wait_praise_stays_praise(triager: Triager, make_mention) -> None:
    verdict = triager.assess(make_mention("@AcmeHelp love it, can't wait to get my new phone!"))
    assert verdict.label == "praise"


# --- the phone line hangs up or drops the call -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("@AcmeHelp your support line hangs up on me", "hangs up"),
        ("@AcmeHelp my call got dropped after twenty minutes", "call got dropped"),
        ("@AcmeHelp was cut off twice by the help desk", "was cut off"),
    ],
)
def test_dropped_calls_are_failures(triager: Triager, make_mention, text: str, words: str) -> None:
    assert words in read(text).failure.words
    assert_complaint(triager, make_mention, text)


@pytest.mark.parametrize(
    "text", ["is the cut off for next-day delivery 5pm?", "the price drop was a nice surprise"]
)
def test_cut_off_times_and_price_drops_are_not_failures(text: str) -> None:
    assert not read(text).failure.tags


# --- "what gives?" -----------------------------------------------------------------------------


def test_what_gives_is_an_accusing_question(triager: Triager, make_mention) -> None:
    text = "@AcmeHelp my card was declined twice today. What gives?"
    assert read(text).accusing_question.words == ("what gives",)
    assert_complaint(triager, make_mention, text)


def test_what_gives_you_is_a_plain_question() -> None:
    assert not read("what gives you the edge over other banks?").accusing_question.tags


# --- effort that did not pay off: "I've tried", "tried calling" --------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("@AcmeHelp I've tried the chat and the phone line, still no card", "i've tried"),
        ("@AcmeHelp tried calling the branch, then the app. Nothing", "tried calling"),
    ],
)
def test_tried_is_persistence(triager: Triager, make_mention, text: str, words: str) -> None:
    assert words in read(text).persistence.words
    assert_complaint(triager, make_mention, text)


@pytest.mark.parametrize(
    "text",
    [
        "@AcmeHelp tried the new oat latte today, lovely!",
        "@AcmeHelp I tried it and it works, thank you so much",
    ],
)
def test_trying_a_product_happily_is_not_a_complaint(triager: Triager, make_mention, text: str) -> None:
    assert triager.assess(make_mention(text)).label == "praise"


def test_tried_in_a_story_not_aimed_at_the_brand_needs_more(triager: Triager, make_mention) -> None:
    # Persistence is not a stated cue: a post not aimed at the brand needs a clearly negative tone.
    text = "Acme shares: I tried to buy some this morning before the open"
    assert triager.assess(make_mention(text, addressed=False)).label != "complaint"


# --- asking to talk to a person ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "@AcmeHelp how do I talk to a real person about my bill",
        "@AcmeHelp I just need to speak with an agent, the chatbot loops",
    ],
)
def test_asking_for_a_person_is_a_demand(triager: Triager, make_mention, text: str) -> None:
    assert "a person" in read(text).demand.tags
    reasons = assert_complaint(triager, make_mention, text)
    assert "asks for a person" in reasons


def test_talking_to_an_agent_who_helped_is_praise(triager: Triager, make_mention) -> None:
    text = "@AcmeHelp just talked with an agent, sorted my refund in minutes, thank you!"
    assert triager.assess(make_mention(text)).label == "praise"


# --- "only to be told", "you shouldn't have to", "answer the phone" ---------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("@AcmeHelp queued at the branch for an hour only to be told to go online", "only to be"),
        ("@AcmeHelp you shouldn't charge a fee to close an account", "you shouldn't"),
    ],
)
def test_breached_expectation_phrases(triager: Triager, make_mention, text: str, words: str) -> None:
    assert words in read(text).failure.words
    assert_complaint(triager, make_mention, text)


@pytest.mark.parametrize(
    "text",
    [
        "it shouldn't be too hard to swap sizes, right?",
        "that shouldn't matter for the warranty",
        "not only to shop but to meet friends",
    ],
)
def test_reassurance_is_not_a_breached_expectation(text: str) -> None:
    assert not read(text).failure.tags


def test_please_answer_the_phone_is_a_demand(triager: Triager, make_mention) -> None:
    text = "@AcmeHelp please answer the phone, I need to change my address"
    assert "a response" in read(text).demand.tags
    assert_complaint(triager, make_mention, text)


def test_thanks_for_answering_the_phone_is_praise(triager: Triager, make_mention) -> None:
    text = "@AcmeHelp thank you for answering the phone so quickly, lovely staff"
    assert not read(text).demand.tags
    assert triager.assess(make_mention(text)).label == "praise"


# --- smaller gaps: "without telling us", "ignores", "less than willing", "not letting me" -------


@pytest.mark.parametrize(
    ("text", "family", "words"),
    [
        ("@AcmeHelp you moved my appointment without telling me", "failure", "without telling me"),
        ("@AcmeHelp the app is not letting me pay my bill", "failure", "not letting me"),
        ("@AcmeHelp support ignores us now", "failure", "ignores"),
        ("@AcmeHelp the agent was less than willing to help", "frustration", "less than willing"),
        ("@AcmeHelp half an hour in the queue at the till", "persistence", "half an hour"),
    ],
)
def test_smaller_service_gaps(triager: Triager, make_mention, text: str, family: str, words: str) -> None:
    assert words in getattr(read(text), family).words
    assert_complaint(triager, make_mention, text)


def test_thanks_for_letting_me_know_is_praise(triager: Triager, make_mention) -> None:
    text = "@AcmeHelp thanks for letting me know, appreciate the quick reply"
    assert not read(text).failure.tags
    assert triager.assess(make_mention(text)).label == "praise"


# --- questions that accuse: "is this how you treat...", "does anyone have a clue?" -------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("@AcmeHelp is this how you treat customers of ten years?", "is this how you"),
        (
            "@AcmeHelp the branch sent me to the app, the app to the branch. Does anyone have a clue?",
            "has a clue",
        ),
        ("@AcmeHelp how does that make sense?", "how does that make sense"),
        ("@AcmeHelp what kind of service is that?", "what kind of service"),
        ("@AcmeHelp how can you not take calls on a Monday?", "how can you not"),
    ],
)
def test_accusing_questions(triager: Triager, make_mention, text: str, words: str) -> None:
    assert read(text).accusing_question.tags
    assert_complaint(triager, make_mention, text)


@pytest.mark.parametrize(
    "text",
    [
        "@AcmeHelp how does that work for joint accounts?",
        "@AcmeHelp what kind of card should I pick for travel?",
        "@AcmeHelp is this how you set up a standing order?",
    ],
)
def test_plain_how_and_what_questions_stay_questions(triager: Triager, make_mention, text: str) -> None:
    assert triager.assess(make_mention(text)).label == "question"


def test_makes_no_sense_is_frustration(triager: Triager, make_mention) -> None:
    text = "@AcmeHelp a fee to pay a fee makes no sense"
    assert read(text).frustration.words == ("makes no sense",)
    assert_complaint(triager, make_mention, text)


# --- "can someone call back?", "total BS" --------------------------------------------------------


def test_asking_for_a_call_back_is_a_demand(triager: Triager, make_mention) -> None:
    text = "@AcmeHelp can someone actually call back about my claim?"
    assert "a call back" in read(text).demand.tags
    assert_complaint(triager, make_mention, text)


def test_offering_a_call_back_is_no_complaint(triager: Triager, make_mention) -> None:
    text = "@AcmeHelp the call back feature is brilliant, thank you!"
    assert triager.assess(make_mention(text)).label == "praise"


def test_total_bs_is_frustration(triager: Triager, make_mention) -> None:
    text = "@AcmeHelp a second fee for the same transfer, total BS"
    assert "total bs" in read(text).frustration.words
    assert_complaint(triager, make_mention, text)


def test_a_bs_degree_is_not_frustration() -> None:
    assert not read("she has a BS in accounting").frustration.tags


# --- service adjectives the lexicons underrate: "subpar", "shoddy", "unhelpful" ------------------


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("@AcmeHelp subpar checkout experience today", "subpar"),
        ("@AcmeHelp shoddy repair on my washing machine", "shoddy"),
        ("@AcmeHelp the branch staff were unhelpful", "unhelpful"),
    ],
)
def test_service_adjectives_are_frustration(triager: Triager, make_mention, text: str, word: str) -> None:
    assert word in read(text).frustration.words
    assert_complaint(triager, make_mention, text)


def test_negated_service_adjective_is_not_frustration(triager: Triager, make_mention) -> None:
    text = "@AcmeHelp the new app is not lame at all, love it"
    assert not read(text).frustration.tags
    assert triager.assess(make_mention(text)).label == "praise"
