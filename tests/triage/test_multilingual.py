"""The seven phrase tables on everyday customer-service posts (hand-written, the way customers
write to a brand), with the platform's language field set so that only the tables decide."""

from __future__ import annotations

import pytest

from monitor.triage.multilingual import LEXICON, MultilingualCues


@pytest.mark.parametrize(
    ("language", "text", "quoted"),
    [
        ("es", "@acme otra vez sin servicio, ya van tres días", "sin servicio"),
        ("es", "@acme ¿dónde está mi paquete? Lo pedí el lunes", "dónde está mi paquete"),
        ("es", "@acme estoy muy decepcionada con el servicio", "decepcionada"),
        ("es", "@acme no me gusta nada cómo me han tratado", "no me gusta"),
        ("fr", "@acme service client injoignable, c'est n'importe quoi", "injoignable"),
        ("fr", "@acme je suis très déçu de votre service", "déçu"),
        ("fr", "@acme super déçue par la livraison", "déçue"),
        ("fr", "@acme votre appli plante encore", "plante encore"),
        ("fr", "@acme colis reçu endommagé", "endommagé"),
        ("fr", "@acme je n'ai jamais reçu ma commande", "jamais reçu"),
        # A phone's typographic apostrophe.
        ("fr", "@acme c’est n’importe quoi, j’attends depuis lundi", "n’importe quoi"),
        ("de", "@acme die App stürzt ständig ab", "stürzt ständig ab"),
        ("de", "@acme Ihr Kundenservice ist eine Zumutung", "Zumutung"),
        ("de", "@acme seit Tagen keiner meldet sich", "keiner meldet sich"),
        ("de", "@acme das Paket ist nie angekommen", "nie angekommen"),
        ("de", "@acme ehrlich gesagt nicht toll, was ihr da macht", "nicht toll"),
        ("pt", "@acme estou decepcionado com o atendimento", "decepcionado"),
        ("pt", "@acme não recebi meu pedido até hoje", "não recebi"),
        ("pt", "@acme não gostei nada do atendimento", "não gostei"),
        ("it", "@acme servizio clienti pessimo, nessuno mi risponde", "nessuno mi risponde"),
        ("it", "@acme sono molto deluso", "deluso"),
        ("it", "@acme non ho ancora ricevuto il pacco", "non ho ancora ricevuto"),
        ("nl", "@acme ik ben erg teleurgesteld", "teleurgesteld"),
        ("nl", "@acme pakket nooit ontvangen", "nooit ontvangen"),
        ("nl", "@acme alweer een storing bij jullie", "storing"),
        ("ja", "@acme 対応が遅すぎる", "遅すぎる"),
        ("ja", "@acme 届いた商品が不良品でした", "不良品"),
        ("ja", "@acme 問い合わせても返事がありません", "返事がありません"),
        ("ja", "@acme アプリが動きません", "動きません"),
    ],
)
def test_complaints_in_each_language(triager, make_mention, language, text, quoted) -> None:
    verdict = triager.assess(make_mention(text, language=language))
    assert verdict.label == "complaint", verdict.reasons
    assert verdict.priority in ("P1", "P2"), verdict  # aimed at the brand: at least P2
    assert any(f"«{quoted}»" in r for r in verdict.reasons), verdict.reasons


@pytest.mark.parametrize(
    ("language", "text", "quoted"),
    [
        ("de", "@acme vielen Dank für die schnelle Hilfe", "vielen Dank"),
        ("de", "@acme herzlichen Dank, alles bestens", "herzlichen Dank"),
        ("ja", "@acme 対応が早くて助かりました", "助かりました"),
        ("es", "@acme mil gracias, llegó antes de lo previsto", "gracias"),
        ("fr", "@acme merci, colis reçu en parfait état", "merci"),
        ("it", "@acme grazie, tutto arrivato in tempo", "grazie"),
    ],
)
def test_thanks_in_each_language_stay_praise(triager, make_mention, language, text, quoted) -> None:
    verdict = triager.assess(make_mention(text, language=language))
    assert verdict.label == "praise", verdict.reasons
    assert any(f"«{quoted}»" in r for r in verdict.reasons), verdict.reasons


def test_japanese_quotes_the_whole_inflected_phrase() -> None:
    # Japanese has no spaces: the reason quotes the phrase up to the end of its kana ending,
    # not a fragment such as «まだ届».
    reading = MultilingualCues().read("ja", "注文した商品がまだ届きません。壊れていました")
    assert reading.complaint == ("まだ届きません", "壊れていました")


def test_every_phrase_compiles_and_matches_itself_as_written() -> None:
    # A table entry that cannot match its own plain form is a typo (an accent, a missing space).
    cues = MultilingualCues()
    plain = {
        "es": ["sin servicio", "decepcionado", "no me gusta"],
        "fr": ["injoignable", "n'importe quoi", "déçu", "endommagé", "jamais reçu"],
        "de": ["zumutung", "abgestürzt", "vielen dank", "nicht zufrieden"],
        "pt": ["decepcionada", "não recebi"],
        "it": ["deluso", "non ho ricevuto"],
        "nl": ["teleurgesteld", "niet ontvangen"],
        "ja": ["不良品", "遅すぎ"],
    }
    for language, phrases in plain.items():
        assert language in LEXICON
        for phrase in phrases:
            r = cues.read(language, phrase)
            assert r.complaint or r.severe or r.praise, (language, phrase)


# --- no language field: the offline guess decides -------------------------------------------
# Written from a user audit of posts a platform sent without a language field.


def test_german_thanks_with_die_is_german_praise(triager, make_mention) -> None:
    # "die" is an English word (and a very negative one for the English lexicons).
    verdict = triager.assess(make_mention("@acme vielen Dank für die schnelle Hilfe", language=None))
    assert (verdict.language, verdict.label) == ("de", "praise"), verdict
    assert any("«vielen Dank»" in r for r in verdict.reasons), verdict.reasons


@pytest.mark.parametrize(
    ("text", "language", "quoted"),
    [
        ("@acme die App stürzt ständig ab", "de", "stürzt ständig ab"),
        ("@acme Paket beschädigt angekommen", "de", "beschädigt"),
        ("@acme colis reçu endommagé, je veux être remboursé", "fr", "endommagé"),
        ("@acme toujours pas de remboursement", "fr", "toujours pas"),
        ("@acme que atendimento horrível", "pt", "horrível"),
        ("@acme péssimo atendimento", "pt", "péssimo"),
        ("@acme sono molto deluso", "it", "deluso"),
        ("@acme pakket kwam beschadigd aan", "nl", "beschadigd"),
        ("@acme nog steeds geen reactie", "nl", "nog steeds geen"),
        ("@acme no funciona", "es", "no funciona"),
        ("@acme mi pedido no llega", "es", "no llega"),
        ("@acme die Lieferung kam nie an", "de", "kam nie an"),
        ("@acme ordine mai arrivato", "it", "mai arrivato"),
        ("@acme commande jamais reçue", "fr", "jamais reçue"),
    ],
)
def test_short_complaints_without_language_field_use_the_tables(
    triager, make_mention, text, language, quoted
) -> None:
    verdict = triager.assess(make_mention(text, language=None))
    assert (verdict.language, verdict.label) == (language, "complaint"), verdict
    assert any(f"«{quoted}»" in r for r in verdict.reasons), verdict.reasons
    assert verdict.priority in ("P1", "P2"), verdict  # aimed at the brand
    # Not aimed at the brand: still a complaint of that language, no P2 floor.
    assert triager.assess(make_mention(text, language=None, addressed=False)).label == "complaint"


@pytest.mark.parametrize(
    "text",
    [
        "@acme moje zamówienie nie dotarło i nikt nie odpowiada",
        "@acme zamówienie nie dotarło",
        "@acme siparişim hala gelmedi, çok kötü",
        "@acme beställningen har inte kommit och ingen svarar",
    ],
)
def test_other_latin_script_languages_are_unscored_not_neutral(triager, make_mention, text) -> None:
    verdict = triager.assess(make_mention(text, language=None))
    assert verdict.label == "unscored", verdict
    assert verdict.priority == "P2", verdict
    assert any("not scored: needs a human" in r for r in verdict.reasons), verdict.reasons


@pytest.mark.parametrize(
    ("text", "label"),
    [
        # English posts with a table's word, a loan word or a name with an accent stay English.
        ("@acme horrible service", "complaint"),
        ("@acme super top excellent", "praise"),
        ("@acme die hard fan, love the new app", "praise"),
        ("@acme the café in terminal 3 was closed and nobody told us", "complaint"),
        ("@acme Beyoncé Zürich tonight", "neutral"),
        ("@acme my order never arrived, no response", "complaint"),
    ],
)
def test_english_without_language_field_stays_english(triager, make_mention, text, label) -> None:
    verdict = triager.assess(make_mention(text, language=None))
    assert verdict.language in (None, "en"), verdict
    assert verdict.label == label, verdict


@pytest.mark.parametrize(
    ("text", "severity", "priority"),
    [
        # Kanji-heavy, but the kana (です, ました) or a Japanese table phrase say Japanese.
        ("@acme 詐欺です。弁護士に相談します", "severe", "P1"),
        ("@acme 届いた商品が不良品でした", "mild", "P2"),
        ("@acme 不良品", "mild", "P2"),
    ],
)
def test_kanji_heavy_japanese_is_japanese(triager, make_mention, text, severity, priority) -> None:
    verdict = triager.assess(make_mention(text, language=None))
    assert (verdict.language, verdict.label) == ("ja", "complaint"), verdict
    assert (verdict.severity, verdict.priority) == (severity, priority), verdict
    with_field = triager.assess(make_mention(text, language="ja"))
    assert (with_field.label, with_field.severity, with_field.priority) == ("complaint", severity, priority)


def test_chinese_stays_chinese(triager, make_mention) -> None:
    verdict = triager.assess(make_mention("@acme 我的订单还没到", language=None))
    assert (verdict.language, verdict.label, verdict.priority) == ("zh", "unscored", "P2"), verdict
    assert verdict.reasons[0].startswith("looks like Chinese"), verdict.reasons


def test_mild_is_explained_for_a_table_complaint(triager, make_mention) -> None:
    # "mild" here means no threat or accusation was found; the reason says so, and the P2 floor.
    verdict = triager.assess(make_mention("@acme die App stürzt ständig ab", language="de"))
    assert verdict.severity == "mild"
    assert "German: severity graded on threats and accusations only, at least P2" in verdict.reasons
    assert not any("severity not read" in r for r in verdict.reasons), verdict.reasons


@pytest.mark.parametrize(
    ("code", "text", "name"),
    [
        ("ja", "@acme こんにちは", "Japanese"),
        ("pl", "@acme dzień dobry", "Polish"),
        ("ko", "@acme 안녕", "Korean"),
    ],
)
def test_unscored_reason_names_the_language(triager, make_mention, code, text, name) -> None:
    verdict = triager.assess(make_mention(text, language=code))
    assert verdict.label == "unscored", verdict
    assert f"language {name} not scored: needs a human" in verdict.reasons, verdict.reasons
    assert not any(f"'{code}'" in r for r in verdict.reasons), verdict.reasons


def test_german_die_without_english_words_is_german(triager, make_mention) -> None:
    # No phrase of the German table: not English, so unscored (a human reads it), not a
    # complaint about dying.
    verdict = triager.assess(make_mention("@acme die Rechnung stimmt nicht", language=None))
    assert (verdict.language, verdict.label, verdict.priority) == ("de", "unscored", "P2"), verdict
