"""Posts a user audit found triaged wrongly, each next to a near variant that must keep its label.

Hand-written; the rules that fix them are general (no brand or domain words): emoji that
complain, a missing item told as a fact, sarcasm around a repeated failure, going public until
something is fixed, negative asides about something other than the brand.
"""

from __future__ import annotations

import re

import pytest

from monitor.triage import Triager


def _quoted(reasons: tuple[str, ...]) -> list[str]:
    return [q for r in reasons for q in re.findall(r"[“«]([^”»]+)[”»]", r)]


def _check(triager: Triager, make_mention, text: str, label: str, addressed: bool = True):
    verdict = triager.assess(make_mention(text, addressed=addressed))
    assert verdict.label == label, (text, verdict.label, verdict.reasons)
    for quote in _quoted(verdict.reasons):
        assert quote.lower() in text.lower(), (quote, text)
    return verdict


# --- emoji only: eye-roll and broken heart complain ---------------------------------------------


@pytest.mark.parametrize("text", ["@acme 🙄", "@acme 💔", "@acme 🙄🙄", "@acme 💔💔 🙄"])
def test_eye_roll_and_broken_heart_alone_are_complaints(triager: Triager, make_mention, text: str) -> None:
    verdict = _check(triager, make_mention, text, "complaint")
    assert verdict.reasons[0].startswith("only complaint emoji")


@pytest.mark.parametrize(
    ("text", "label", "addressed"),
    [
        ("@acme 💔❤️", "neutral", True),  # mixed feelings: no verdict from emoji
        ("@acme ❤️", "praise", True),
        ("🙄", "neutral", False),  # not aimed at the brand
    ],
)
def test_near_emoji_posts_keep_their_label(
    triager: Triager, make_mention, text: str, label: str, addressed: bool
) -> None:
    _check(triager, make_mention, text, label, addressed)


# --- a missing item told as a bare fact -----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "@acme the charger wasn't in the box",
        "@acme the cable was not in the package",
        "@acme my lamp came without a plug",
        "@acme the blender didn't come with a lid",
    ],
)
def test_missing_item_as_a_fact_is_a_complaint(triager: Triager, make_mention, text: str) -> None:
    verdict = _check(triager, make_mention, text, "complaint")
    assert verdict.reasons[0].startswith("service failure")


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("@acme is the charger in the box?", "question"),
        ("@acme the charger was in the box after all, thanks!", "praise"),
    ],
)
def test_item_in_the_box_is_no_complaint(triager: Triager, make_mention, text: str, label: str) -> None:
    _check(triager, make_mention, text, label)


# --- sarcasm: "love how" around a repeated failure ------------------------------------------------


def test_love_how_around_a_repeated_failure_is_sarcasm(triager: Triager, make_mention) -> None:
    text = "@acme love how the app logs me out every single time. love it"
    verdict = _check(triager, make_mention, text, "complaint")
    assert "sarcasm: “love how”" in verdict.reasons
    assert any("logs me out" in r for r in verdict.reasons)


def test_love_how_around_a_repeated_good_thing_is_praise(triager: Triager, make_mention) -> None:
    _check(triager, make_mention, "@acme love how the app remembers me every single time. love it", "praise")


# --- going public until something is fixed --------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "@acme I'll be posting this everywhere until someone fixes it",
        "@acme I'm sharing this all over until you respond",
        "@acme going to keep tweeting about this until it's fixed",
    ],
)
def test_going_public_until_fixed_is_a_complaint(triager: Triager, make_mention, text: str) -> None:
    verdict = _check(triager, make_mention, text, "complaint")
    assert verdict.severity in {"moderate", "severe"}
    assert verdict.priority in {"P1", "P2"}


def test_posting_everywhere_in_praise_stays_praise(triager: Triager, make_mention) -> None:
    _check(triager, make_mention, "@acme I'll be posting this everywhere, love the new mugs!", "praise")
    _check(triager, make_mention, "@acme wait until you see the photos, great mugs!", "praise")


# --- a negative aside in a post that is content with the brand -------------------------------------


def test_negative_aside_then_thanks_is_no_sarcasm(triager: Triager, make_mention) -> None:
    text = "@acme the traffic was awful but the delivery guy still made it on time, great job"
    verdict = _check(triager, make_mention, text, "praise")
    assert not any(r.startswith(("sarcasm", "ongoing")) for r in verdict.reasons)


@pytest.mark.parametrize(
    "text",
    [
        # A failure of the brand's after the pivot: the complaint stands.
        "@acme the traffic was awful but the delivery was late again, great job",
        # No pivot: the negative word sits right next to the praise.
        "@acme awful, great job",
        # Persistence beyond a concessive "still".
        "@acme the weather was awful but great job, still waiting for 3 days",
    ],
)
def test_negative_aside_variants_stay_complaints(triager: Triager, make_mention, text: str) -> None:
    _check(triager, make_mention, text, "complaint")


def test_sarcasm_after_a_failure_still_counts(triager: Triager, make_mention) -> None:
    verdict = _check(triager, make_mention, "@acme my parcel is late again. great job", "complaint")
    assert "sarcasm: “great job”" in verdict.reasons


def test_grumble_then_a_change_of_subject_and_a_question_is_a_question(
    triager: Triager, make_mention
) -> None:
    text = "@acme ugh Mondays. anyway, can you tell me your opening hours?"
    verdict = _check(triager, make_mention, text, "question")
    assert verdict.reasons == ("asks the brand a question",)
    _check(triager, make_mention, "@acme what are your opening hours on Sunday?", "question")


@pytest.mark.parametrize(
    "text",
    [
        # The grumble is about the brand's service: a complaint, whatever follows.
        "@acme ugh, still no reply. anyway, can you tell me your opening hours?",
        # No change of subject: the grumble may be about the brand.
        "@acme ugh. can you tell me why my order is late?",
        # A duration is still a duration.
        "@acme I have been on hold for hours, can you tell me when someone will answer?",
    ],
)
def test_grumbling_help_requests_stay_complaints(triager: Triager, make_mention, text: str) -> None:
    _check(triager, make_mention, text, "complaint")


# --- not aimed at the brand: the clause that names it decides -------------------------------------


@pytest.mark.parametrize(
    ("text", "labels"),
    [
        ("my day is terrible. listening to acme radio", {"neutral"}),
        ("I hate Mondays. Bought Acme coffee to cope", {"neutral"}),
        ("Terrible weather but my Acme kettle makes it better", {"neutral", "praise"}),
        ("Just watched a documentary about scams, insane. Anyway Acme has nice mugs", {"neutral", "praise"}),
    ],
)
def test_negativity_before_the_clause_naming_the_brand_is_about_something_else(
    triager: Triager, make_mention, text: str, labels: set[str]
) -> None:
    verdict = triager.assess(make_mention(text, addressed=False))
    assert verdict.label in labels, (text, verdict.label, verdict.reasons)
    assert verdict.severity is None


@pytest.mark.parametrize(
    "text",
    [
        # The negative words are in the clause naming the brand.
        "Acme radio is terrible. my day is ruined",
        "I hate Mondays. Acme coffee tastes awful",
        # A failure of the brand's.
        "Terrible weather. Acme cancelled my order",
        # No full stop or pivot between them.
        "Terrible weather and my Acme kettle broke",
        # A comment on a retweet is about the quoted post, which names the brand.
        "This is so bad. RT @someone Acme launches new mugs",
    ],
)
def test_negativity_about_the_brand_stays_a_complaint(triager: Triager, make_mention, text: str) -> None:
    _check(triager, make_mention, text, "complaint", addressed=False)


def test_severity_words_about_the_brand_still_count(triager: Triager, make_mention) -> None:
    for text in (
        "Just watched a documentary about Acme scams",
        "Just watched a documentary about scams, insane. Anyway Acme is a scam too",
    ):
        verdict = _check(triager, make_mention, text, "complaint", addressed=False)
        assert verdict.severity == "severe"
