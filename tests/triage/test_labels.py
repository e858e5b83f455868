"""Hand-written examples per label, with the edge cases the issue lists."""

from __future__ import annotations

import pytest

from monitor.triage import TriageContext, Triager, TriageSettings


@pytest.mark.parametrize(
    "text",
    [
        "@AcmeHelp my order still hasn't arrived and nobody answers the phone",
        "@AcmeHelp you charged me twice for the same subscription, I want a refund",
        "@AcmeHelp the app keeps crashing every time I open it",
        "@AcmeHelp been on hold for 2 hours, this is unacceptable",
        "@AcmeHelp why is my account locked again?",
        "@AcmeHelp your website is down and I can't log in",
        "@AcmeHelp great, another cancelled order. thanks for nothing",
        "@AcmeHelp WORST SUPPORT EVER. NOBODY CARES!!!",
        "@AcmeHelp not happy at all, the package arrived damaged 😡",
    ],
)
def test_complaints(triager: Triager, make_mention, text: str) -> None:
    verdict = triager.assess(make_mention(text))
    assert verdict.label == "complaint", verdict
    assert verdict.reasons, "a complaint must say why"


@pytest.mark.parametrize(
    "text",
    [
        "@AcmeHelp thank you so much, the support team sorted it out in minutes!",
        "@AcmeHelp love the new update 😍 great job",
        "@AcmeHelp you are the best, really helpful staff",
    ],
)
def test_praise(triager: Triager, make_mention, text: str) -> None:
    assert triager.assess(make_mention(text)).label == "praise"


@pytest.mark.parametrize(
    "text",
    [
        "@AcmeHelp do you ship to Canada?",
        "@AcmeHelp what time does the store open on Sunday?",
        "@AcmeHelp can I change the colour of my order before it ships?",
    ],
)
def test_questions(triager: Triager, make_mention, text: str) -> None:
    verdict = triager.assess(make_mention(text))
    assert verdict.label == "question", verdict
    assert "asks the brand a question" in verdict.reasons


@pytest.mark.parametrize(
    "text",
    [
        "@AcmeHelp how do I rebook online? Holding for 2 hrs now.",
        "@AcmeHelp where can I find my booking reference? tried for 3 days",
        "@AcmeHelp is anyone there? still on the line",
    ],
)
def test_a_question_that_has_dragged_on_is_a_complaint(triager: Triager, make_mention, text: str) -> None:
    assert triager.assess(make_mention(text)).label == "complaint"


def test_again_alone_does_not_make_a_question_a_complaint(triager: Triager, make_mention) -> None:
    assert triager.assess(make_mention("@AcmeHelp is the store open again on Sunday?")).label == "question"


def test_question_not_addressed_says_so(triager: Triager, make_mention) -> None:
    verdict = triager.assess(make_mention("does anyone know if Acme ships to Canada?", addressed=False))
    assert verdict.label == "question"
    assert verdict.reasons == ("asks a question",)


@pytest.mark.parametrize(
    "text",
    [
        "Acme opens a new store in Leeds next month",
        "Reading the Acme annual report on the train",
    ],
)
def test_neutral(triager: Triager, make_mention, text: str) -> None:
    assert triager.assess(make_mention(text, addressed=False)).label == "neutral"


def test_spam(triager: Triager, make_mention) -> None:
    verdict = triager.assess(make_mention("Acme GIVEAWAY!! follow back and use code WIN50 http://a.b/x"))
    assert verdict.label == "spam"
    assert verdict.priority == "P3"
    assert verdict.reasons[0].startswith("looks like spam")


def test_non_english_complaint_is_scored_not_neutral(triager: Triager, make_mention) -> None:
    verdict = triager.assess(make_mention("mi pedido no ha llegado y nadie contesta", language="es"))
    assert verdict.label == "complaint"
    assert any(r.startswith("Spanish: «") for r in verdict.reasons)
    # It must still reach a human: P2 when addressed to the brand.
    assert verdict.priority in {"P1", "P2"}


def test_language_without_phrase_table_is_unscored_not_neutral(triager: Triager, make_mention) -> None:
    verdict = triager.assess(make_mention("η παραγγελία μου δεν έφτασε ακόμα", language="el"))
    assert verdict.label == "unscored"
    assert verdict.priority in {"P1", "P2"}


def test_non_english_guessed_when_platform_gives_no_language(triager: Triager, make_mention) -> None:
    verdict = triager.assess(
        make_mention("je suis très déçu, ma commande n'est pas arrivée et pas de réponse", language=None)
    )
    assert verdict.label == "complaint"
    assert verdict.language == "fr"
    assert any(r.startswith("French: «") for r in verdict.reasons)


def test_non_latin_script_guessed(triager: Triager, make_mention) -> None:
    verdict = triager.assess(make_mention("注文した商品がまだ届きません", language=None))
    assert verdict.language == "ja"
    assert verdict.label == "complaint"


def test_english_without_language_field_is_scored(triager: Triager, make_mention) -> None:
    verdict = triager.assess(make_mention("my order is still missing and nobody replies", language=None))
    assert verdict.label == "complaint"
    assert verdict.language == "en"


def test_unscored_reaches_a_human_by_reach(triager: Triager, make_mention) -> None:
    quiet = triager.assess(make_mention("Bestellung nicht angekommen", language="de", addressed=False))
    loud = triager.assess(
        make_mention("Bestellung nicht angekommen", language="de", addressed=False, followers=250_000)
    )
    assert quiet.priority == "P3"
    assert loud.priority in {"P1", "P2"}
    assert loud.urgency > quiet.urgency


def test_empty_text(triager: Triager, make_mention) -> None:
    verdict = triager.assess(make_mention(""))
    assert verdict.label == "neutral"
    assert verdict.reasons == ("no text to score",)
    assert (verdict.polarity, verdict.subjectivity) == (0.0, 0.0)


def test_url_only(triager: Triager, make_mention) -> None:
    verdict = triager.assess(make_mention("@AcmeHelp https://example.com/some/page?id=3"))
    assert verdict.label == "neutral"
    assert verdict.reasons == ("only a link, no text to score",)


def test_ten_thousand_characters(triager: Triager, make_mention) -> None:
    text = "my order never arrived and nobody answers. " + ("the box is still not here. " * 400)
    assert len(text) > 10_000
    verdict = triager.assess(make_mention(text[:10_000]))
    assert verdict.label == "complaint"
    assert 0 <= verdict.urgency <= 100


def test_none_text_does_not_crash(triager: Triager, make_mention) -> None:
    mention = make_mention("x")
    mention.text = None  # a broken source must not take triage down
    assert triager.assess(mention).label == "neutral"


def test_determinism(make_mention) -> None:
    texts = ["@AcmeHelp still waiting for my refund!!", "love it", "do you ship to Canada?"]
    first = [Triager().assess(make_mention(t)) for t in texts]
    again = Triager()
    assert [again.assess(make_mention(t)) for t in texts] == first
    assert [again.assess(make_mention(t)) for t in texts] == first


def test_empty_settings_section_works() -> None:
    assert TriageSettings.model_validate({}) == TriageSettings()


def test_threshold_from_settings_changes_the_label(make_mention) -> None:
    text = "@AcmeHelp the order is on its way"
    lenient = Triager(TriageSettings(complaint_threshold=10.0)).assess(make_mention(text))
    strict = Triager(TriageSettings(complaint_threshold=-1.0)).assess(make_mention(text))
    assert lenient.label != "complaint"
    assert strict.label == "complaint"


def test_verdict_defaults_without_context(triager: Triager, make_mention) -> None:
    m = make_mention("@AcmeHelp still no refund")
    assert triager.assess(m) == triager.assess(m, TriageContext())
