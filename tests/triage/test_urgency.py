"""Urgency, priority and the reasons list from a full assessment."""

from __future__ import annotations

from monitor.triage import AuthorHistory, TriageContext, Triager, TriageSettings

COMPLAINT = "@AcmeHelp my order still hasn't arrived and nobody answers"


def test_reasons_of_a_plain_complaint(triager: Triager, make_mention) -> None:
    verdict = triager.assess(make_mention(COMPLAINT))
    assert verdict.label == "complaint"
    assert any(r.startswith("service failure: ") for r in verdict.reasons)
    assert "about “my order”" in verdict.reasons
    # Reasons are distinct and non-empty.
    assert len(set(verdict.reasons)) == len(verdict.reasons)
    assert all(verdict.reasons)


def test_reach_history_and_thread_raise_urgency_with_reasons(triager: Triager, make_mention) -> None:
    base = triager.assess(make_mention(COMPLAINT))
    ctx = TriageContext(
        author=AuthorHistory(mentions_total=4, complaints_total=3, complaints_24h=2),
        brand_replied_in_thread=True,
    )
    loud = triager.assess(make_mention(COMPLAINT, followers=48_000), ctx)
    assert loud.label == "complaint"
    assert loud.urgency > base.urgency
    assert loud.priority == "P1"
    assert "author has 48k followers" in loud.reasons
    assert "3rd complaint in 24 h" in loud.reasons
    assert "follow-up in a thread the brand already answered" in loud.reasons
    # Context reasons come after the ones that explain the label.
    assert loud.reasons.index("author has 48k followers") > loud.reasons.index("about “my order”")


def test_escalation_term_is_p1_with_reason(triager: Triager, make_mention) -> None:
    verdict = triager.assess(make_mention("@AcmeHelp the heater caught fire, this is a safety issue"))
    assert verdict.label == "complaint"
    assert "safety or health: “caught fire”, “safety”" in verdict.reasons
    assert verdict.severity == "severe"
    assert verdict.priority == "P1"


def test_legal_threat_without_failure_words_is_a_complaint(triager: Triager, make_mention) -> None:
    verdict = triager.assess(make_mention("@AcmeHelp you will hear from my lawyer"))
    assert verdict.label == "complaint"
    assert "threatens legal action: “lawyer”" in verdict.reasons
    assert verdict.priority == "P1"


def test_praise_ignores_complaint_history(triager: Triager, make_mention) -> None:
    ctx = TriageContext(author=AuthorHistory(5, 5, 3))
    verdict = triager.assess(make_mention("@AcmeHelp thank you, lovely service today!"), ctx)
    assert verdict.label == "praise"
    assert verdict.priority == "P3"
    assert not any("complaint in 24 h" in r for r in verdict.reasons)


def test_caps_and_exclamations_add_urgency(triager: Triager, make_mention) -> None:
    calm = triager.assess(make_mention("@AcmeHelp my parcel is still missing"))
    shout = triager.assess(make_mention("@AcmeHelp MY PARCEL IS STILL MISSING!!!"))
    assert calm.label == shout.label == "complaint"
    assert shout.complaint_score > calm.complaint_score
    assert "emphatic: “!!!” and capitals" in shout.reasons


def test_priority_thresholds_from_settings(make_mention) -> None:
    strict = Triager(TriageSettings(p1_urgency=100, p2_urgency=100))
    assert strict.assess(make_mention(COMPLAINT)).priority == "P3"
    eager = Triager(TriageSettings(p1_urgency=1, p2_urgency=0))
    assert eager.assess(make_mention(COMPLAINT)).priority == "P1"


def test_urgency_is_clamped(make_mention) -> None:
    settings = TriageSettings(urgency={"escalation": 100, "reach_max": 100, "base_complaint": 100})
    verdict = Triager(settings).assess(make_mention("lawyer! my order never arrived", followers=10**7))
    assert verdict.urgency == 100


def test_brand_terms_are_not_scored(make_mention) -> None:
    # "Best" as a brand name must not read as praise.
    text = "Best Buy parcel never arrived"
    plain = Triager().assess(make_mention(text))
    branded = Triager(brand_terms=["Best Buy"]).assess(make_mention(text))
    assert branded.sentiment < plain.sentiment or branded.complaint_score > plain.complaint_score
    assert branded.label == "complaint"


def test_a_post_not_aimed_at_the_brand_is_p2_not_p1(triager: Triager, make_mention) -> None:
    # The same severe words: aimed at the brand they page a person; in a post that neither
    # replies to, tags nor quotes the brand (a news item, a forum thread) they wait for the SLA.
    text = "Acme charged me twice and nobody answers, this is fraud. My lawyer will call."
    aimed = triager.assess(make_mention(text))
    assert (aimed.priority, aimed.severity) == ("P1", "severe")
    unaimed = triager.assess(make_mention(text, addressed=False))
    assert unaimed.label == "complaint"
    assert unaimed.severity == "severe"
    assert unaimed.priority == "P2"
    assert unaimed.urgency == 69
    assert "accuses the brand of fraud (“fraud”)" in unaimed.reasons
    assert unaimed.reasons[-1] == "not aimed at the brand (no reply, tag or quote): P2, not P1"
    # A team that wants such posts paged sets p1_unaddressed.
    paged = Triager(TriageSettings(p1_unaddressed=True)).assess(make_mention(text, addressed=False))
    assert paged.priority == "P1"
    assert not any("not aimed at the brand" in r for r in paged.reasons)


def test_news_about_a_lawsuit_is_not_a_p1_page(triager: Triager, make_mention) -> None:
    news = make_mention(
        "Judge lets class action lawsuit against Acme proceed https://t.co/x", addressed=False
    )
    verdict = triager.assess(news)
    assert verdict.priority != "P1"
    # It reads severe: only the cap keeps it from paging.
    paged = Triager(TriageSettings(p1_unaddressed=True), brand_terms=["Acme", "AcmeHelp"]).assess(news)
    assert (paged.severity, paged.priority) == ("severe", "P1")
