"""Severity, other languages, emoji, and the false alarms and misses of issue 14 (hand-written posts)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from monitor.mention import Mention
from monitor.sources import simulated
from monitor.triage import AuthorHistory, TriageContext, Triager
from monitor.triage.multilingual import emoji_only
from monitor.triage.normalize import prepare
from monitor.triage.severity import SeverityCues, severity_reasons

SEVERITY = SeverityCues()


def _quotes(reasons: tuple[str, ...]) -> list[str]:
    return [q for r in reasons for q in re.findall(r"[“«]([^”»]+)[”»]", r)]


def assert_quotes_are_in_text(text: str, reasons: tuple[str, ...]) -> None:
    lower = text.lower()
    for q in _quotes(reasons):
        assert q.lower().lstrip("#@") in lower.replace("#", "").replace("@", ""), (q, reasons)


# --- severity families ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("you people are cheating your customers", "accuses the brand of cheating (“cheating”)"),
        ("this is a scam, plain and simple", "accuses the brand of a scam (“scam”)"),
        ("I lost my savings because of your app", "money at stake: “lost my savings”"),
        ("the charger melted and my son got burned me", "safety or health"),
        ("my account was hacked through your site", "personal data at risk: “hacked”"),
        ("staff were openly racist to my mother", "discrimination: “racist”"),
        ("my lawyer will be in touch", "threatens legal action: “lawyer”"),
        ("reporting this to the ombudsman today", "takes it to a regulator: “ombudsman”"),
        ("I will file a chargeback with my bank", "threatens a chargeback: “chargeback”"),
        ("sending this to a journalist I know", "threatens to go public: “journalist”"),
        ("I want to cancel my subscription now", "threatens to leave: “cancel my subscription”"),
        ("warning to everyone: stay away from this shop", "warns others publicly"),
        ("this is the 4th email I have sent", "repeated contact: “4th email”"),
        ("waiting for 3 weeks for a reply", "has been waiting: “3 weeks”"),
    ],
)
def test_each_family_gives_a_reason_quoting_the_post(text: str, reason: str) -> None:
    reading = SEVERITY.read(prepare(text))
    assert reading.points > 0
    assert any(r.startswith(reason) for r in reading.reasons), reading.reasons
    assert_quotes_are_in_text(text, reading.reasons)


def test_a_regulator_tagged_by_handle_counts() -> None:
    reading = SEVERITY.read(prepare("@AcmeBank @CFPB my transfer vanished"))
    assert "takes it to a regulator: “@CFPB”" in reading.reasons


def test_a_fast_answer_is_not_a_wait() -> None:
    assert SEVERITY.read(prepare("they answered in five minutes")).points == 0


def test_priorities_mean_something(triager: Triager, make_mention) -> None:
    mild = triager.assess(make_mention("@AcmeHelp the app is a bit slow today, not great"))
    moderate = triager.assess(make_mention("@AcmeHelp still no reply to my emails, waiting for 2 weeks"))
    severe = triager.assess(
        make_mention("@AcmeHelp you charged me twice, this is fraud. My lawyer will call.")
    )
    assert (mild.label, moderate.label, severe.label) == ("complaint", "complaint", "complaint")
    assert mild.priority == "P3" and mild.severity == "mild"
    assert moderate.priority == "P2" and moderate.severity == "moderate"
    assert severe.priority == "P1" and severe.severity == "severe"
    assert "accuses the brand of fraud (“fraud”)" in severe.reasons
    assert "threatens legal action: “lawyer”" in severe.reasons


def test_repeat_complaints_today_raise_priority_with_a_reason(triager: Triager, make_mention) -> None:
    text = "@AcmeHelp the app is a bit slow today, not great"
    first = triager.assess(make_mention(text))
    third = triager.assess(make_mention(text), TriageContext(author=AuthorHistory(3, 2, 2)))
    assert third.urgency > first.urgency
    assert "3rd complaint in 24 h" in third.reasons


def test_an_accusation_without_failure_words_is_a_severe_complaint(triager: Triager, make_mention) -> None:
    verdict = triager.assess(make_mention("@AcmeHelp this is daylight robbery"))
    assert verdict.label == "complaint"
    assert verdict.priority == "P1"


def test_severity_reasons_are_picked_from_the_stored_reasons_strongest_first(
    triager: Triager, make_mention
) -> None:
    text = "@AcmeHelp you charged me twice, this is fraud. My lawyer will call."
    verdict = triager.assess(make_mention(text), TriageContext(author=AuthorHistory(2, 1, 1)))
    assert verdict.severity == "severe"
    picked = severity_reasons(list(verdict.reasons))  # as the mention row stores them
    assert picked[0] == "accuses the brand of fraud (“fraud”)"
    assert "threatens legal action: “lawyer”" in picked
    assert all(r in verdict.reasons for r in picked)
    # The label's own reason and the author's history are not severity.
    assert not [r for r in picked if r.startswith(("service failure", "2nd complaint"))]
    spanish = triager.assess(
        make_mention("@AcmeHelp esto es una estafa, hablaré con mi abogado", language="es")
    )
    assert severity_reasons(spanish.reasons)[0].startswith("Spanish: threatens or accuses: ")
    assert severity_reasons(None) == [] and severity_reasons(["negative -0.9", "48k followers"]) == []


def test_non_complaints_carry_no_severity(triager: Triager, make_mention) -> None:
    verdict = triager.assess(make_mention("@AcmeHelp thank you, lovely service today!"))
    assert verdict.label == "praise" and verdict.severity is None


# --- issue 15 item 4: reasons quote the post ---------------------------------------------------


def test_shout_out_is_praise_without_invented_reasons(triager: Triager, make_mention) -> None:
    text = "Shout-out to the Acme support team, sorted my issue in five minutes 🙌"
    verdict = triager.assess(make_mention(text, addressed=False))
    assert verdict.label == "praise"
    joined = " ".join(verdict.reasons)
    assert "broken promise" not in joined and "five minutes" not in joined
    assert_quotes_are_in_text(text, verdict.reasons)


def test_how_do_i_cancel_is_a_question(triager: Triager, make_mention) -> None:
    verdict = triager.assess(make_mention("Acme how do I cancel?"))
    assert verdict.label == "question"
    assert not any("cancelled" in r for r in verdict.reasons)


def _fill(template: str) -> str:
    return template.format(brand="Acme", handle="AcmeHelp", product="Toaster 3000", order="#12345")


def test_simulated_spam_is_spam(triager: Triager, make_mention) -> None:
    for template in simulated._SPAM:
        text = _fill(template)
        verdict = triager.assess(make_mention(text, addressed=False))
        assert verdict.label == "spam", (text, verdict.reasons)


@pytest.mark.parametrize("product", simulated._PRODUCTS)
def test_every_simulated_praise_post_is_praise_with_honest_reasons(
    triager: Triager, make_mention, product
) -> None:
    for template in simulated._PRAISE:
        text = template.format(brand="Acme", handle="AcmeHelp", product=product, order="#1")
        verdict = triager.assess(make_mention(text, addressed=False))
        assert verdict.label == "praise", (text, verdict.reasons)
        assert_quotes_are_in_text(text, verdict.reasons)


def test_every_simulated_post_quotes_only_its_own_words(triager: Triager, make_mention) -> None:
    groups = [simulated._COMPLAINTS, simulated._INFLUENCER, simulated._REPEAT, simulated._QUESTIONS]
    for template in [t for g in groups for t in g] + [t for _, t in simulated._FOREIGN]:
        text = _fill(template)
        verdict = triager.assess(make_mention(text, language=None))
        assert_quotes_are_in_text(text, verdict.reasons)


# --- issue 14 item 3: false alarms and misses ----------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "@AcmeHelp your new app is wicked fast",
        "@AcmeHelp that new blender is sick!",
        "@AcmeHelp killer deal today, grabbed two",
        "@AcmeHelp the customer service is insane, sorted in 2 min",
    ],
)
def test_slang_praise_is_not_a_complaint(triager: Triager, make_mention, text: str) -> None:
    verdict = triager.assess(make_mention(text))
    assert verdict.label == "praise", verdict.reasons
    assert any(r.startswith("slang praise: ") for r in verdict.reasons)


def test_slang_word_next_to_a_failure_still_complains(triager: Triager, make_mention) -> None:
    verdict = triager.assess(make_mention("@AcmeHelp this is insane, my order is still missing"))
    assert verdict.label == "complaint"


@pytest.mark.parametrize(
    "text",
    [
        "Terrible weather today but @AcmeHelp delivered my parcel on time, thanks!",
        "Awful day at work, at least @AcmeHelp support was lovely",
    ],
)
def test_negative_word_about_something_else(triager: Triager, make_mention, text: str) -> None:
    assert triager.assess(make_mention(text)).label == "praise"


def test_help_request_vs_complaining_help_request(triager: Triager, make_mention) -> None:
    plain = triager.assess(make_mention("@AcmeHelp how do I reset my password?"))
    angry = triager.assess(
        make_mention("@AcmeHelp how do I reset my password? Tried 5 times and your site keeps failing")
    )
    assert plain.label == "question" and plain.priority == "P3"
    assert angry.label == "complaint" and angry.priority == "P2"


@pytest.mark.parametrize(
    "text",
    [
        "Wow @AcmeHelp, third time this month my order is late. Love it.",
        "Great job @AcmeHelp, app down again",
        "@AcmeHelp love how my parcel is lost again",
    ],
)
def test_sarcastic_praise_around_a_repeated_failure(triager: Triager, make_mention, text: str) -> None:
    verdict = triager.assess(make_mention(text))
    assert verdict.label == "complaint"
    assert any(r.startswith("sarcasm: ") for r in verdict.reasons)


@pytest.mark.parametrize(
    "text",
    [
        "@AcmeHelp parcel arrived crushed",
        "@AcmeHelp box arrived, charger missing",
        "@AcmeHelp the lid came off and the box was empty",
        "@AcmeHelp order arrived three days after the date you gave",
    ],
)
def test_complaint_told_as_a_bare_fact(triager: Triager, make_mention, text: str) -> None:
    assert triager.assess(make_mention(text)).label == "complaint"


# --- other languages and emoji ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language", "reason"),
    [
        ("@AcmeHelp mi pedido no ha llegado, quiero un reembolso", "es", "Spanish: «no ha llegado»"),
        (
            "@AcmeHelp mon colis est toujours pas arrivé, je veux être remboursé",
            "fr",
            "French: «toujours pas»",
        ),
        ("@AcmeHelp seit zwei Wochen warte ich, das Gerät ist kaputt", "de", "German: «seit zwei Wochen»"),
        ("@AcmeHelp o aplicativo não funciona desde ontem", "pt", "Portuguese: «não funciona»"),
        ("@AcmeHelp il mio ordine non è ancora arrivato, vergogna", "it", "Italian: «non è ancora arrivato»"),
        ("@AcmeHelp mijn pakket is kwijt, ik wil mijn geld terug", "nl", "Dutch: «kwijt»"),
        ("@AcmeHelp 荷物が届かない、返金してください", "ja", "Japanese: «届かない»"),
    ],
)
def test_complaints_in_seven_languages(
    triager: Triager, make_mention, text: str, language: str, reason
) -> None:
    verdict = triager.assess(make_mention(text, language=language))
    assert verdict.label == "complaint"
    assert verdict.reasons[0].startswith(reason), verdict.reasons
    assert verdict.priority in {"P1", "P2"}
    assert_quotes_are_in_text(text, verdict.reasons)


def test_threat_in_another_language_is_p1(triager: Triager, make_mention) -> None:
    verdict = triager.assess(
        make_mention("@AcmeHelp esto es una estafa, hablaré con mi abogado", language="es")
    )
    assert verdict.label == "complaint" and verdict.priority == "P1"


def test_praise_in_another_language(triager: Triager, make_mention) -> None:
    verdict = triager.assess(make_mention("J'adore mon nouveau grille-pain, merci !", language="fr"))
    assert verdict.label == "praise"


def test_unscored_language_aimed_at_the_brand_is_at_least_p2(triager: Triager, make_mention) -> None:
    verdict = triager.assess(make_mention("@AcmeHelp το δέμα μου", language="el"))
    assert verdict.label == "unscored" and verdict.priority == "P2"


def test_emoji_only_posts(triager: Triager, make_mention) -> None:
    assert emoji_only("😡😡") == "complaint"
    assert emoji_only("👎🏽") == "complaint"
    assert emoji_only("❤️🙏") == "praise"
    assert emoji_only("😡❤️") is None
    angry = triager.assess(make_mention("@AcmeHelp 😡😡😡", language=None))
    assert angry.label == "complaint"
    hearts = triager.assess(make_mention("@AcmeHelp ❤️❤️", language=None))
    assert hearts.label == "praise"


def test_triage_is_pure(triager: Triager) -> None:
    m = Mention(
        platform="t",
        external_id="1",
        text="@AcmeHelp this is fraud",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        author_handle="a",
        addressed_to_brand=True,
    )
    assert triager.assess(m) == triager.assess(m)


def test_short_post_in_another_language_is_read_by_its_phrase(triager: Triager, make_mention) -> None:
    verdict = triager.assess(make_mention("@AcmeHelp quiero un reembolso", language=None))
    assert verdict.label == "complaint"
    assert verdict.reasons[0] == "Spanish: «quiero un reembolso»"
    assert verdict.priority == "P2"
    # A short English post with a word the tables share is still English.
    assert triager.assess(make_mention("@AcmeHelp horrible service", language=None)).language != "es"
