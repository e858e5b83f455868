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
