"""Complaints in the customers' own languages: French, German, Spanish, Portuguese, Italian, Dutch, Japanese.

English lexicons read these posts as 0 (neutral), so an angry Spanish customer would wait for
the digest. Each language gets a small table of customer-service phrases, written for this
project (not copied from a lexicon): failure ("no funciona", "kaputt"), waiting ("seit zwei
Wochen", "toujours pas"), refund ("reembolso", "Erstattung"), cancel ("annuler", "opzeggen"),
broken, never again, escalation (lawyer, consumer authority, chargeback), negated praise
("pas content", "nicht zufrieden") and praise/thanks. A complaint phrase makes the post a
complaint with a reason quoting it (``Spanish: «quiero un reembolso»``); thanks and praise with
no complaint phrase make it praise. Emoji carry sentiment in every language: a post that is
only angry or thumbs-down emoji is a complaint, only hearts or thanks emoji is praise.

Latin-script tables match whole words on lower-case text; Japanese has no spaces, so its
phrases are matched as substrings, a verb's kana ending included where the table says so (the
reason quotes «まだ届きません», not «まだ届»). Nothing is downloaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.triage.model import Evidence

NAMES = {
    "es": "Spanish",
    "fr": "French",
    "de": "German",
    "pt": "Portuguese",
    "it": "Italian",
    "nl": "Dutch",
    "ja": "Japanese",
}

# language -> kind -> phrases (regex fragments, lower case). Kinds: "complaint" phrases state a
# failure, a wait, a demand or a threat; "severe" ones are threats and accusations (they also
# raise severity); "praise" ones are thanks and praise.
LEXICON: dict[str, dict[str, list[str]]] = {
    "es": {
        "complaint": [
            r"no funciona\w*",
            r"no (?:me )?(?:ha|han) llegado",
            r"no llega\w*",
            r"no (?:me )?responde\w*",
            r"nadie (?:me )?(?:responde|contesta|ayuda)",
            r"sin respuesta",
            r"todavía no",
            r"aún no",
            r"sigo esperando",
            r"llevo \w+ (?:días|semanas|meses|horas)",
            r"desde hace \w+",
            r"reembolso",
            r"devolu?ción",
            r"devuélvanme",
            r"quiero (?:mi dinero|un reembolso|cancelar|hablar con)",
            r"cancel(?:ar|ado|ada|aron)",
            r"roto|rota|rotos|averiad[oa]|estropead[oa]|defectuos[oa]",
            r"nunca más",
            r"pésim[oa]|horrible|fatal",
            r"vergüenza|inaceptable|indignante|una estafa",
            r"no estoy content[oa]",
            r"retras(?:o|ado|ada)",
            r"perdid[oa]s?|dañad[oa]",
            r"me cobraron (?:dos veces|de más)",
            r"cobro indebido",
            r"queja|reclamación",
            r"sin (?:servicio|luz|internet|línea|conexión|señal)",
            r"ya van \w+ (?:días|semanas|meses|horas)",
            r"dónde está mi (?:pedido|paquete|reembolso|dinero|devolución)",
            r"decepcionad[oa]s?|decepción",
            r"no me gusta\w*",
            r"no sirve\w*",
        ],
        "severe": [
            r"abogad[oa]",
            r"denuncia\w*",
            r"estafa\w*|fraude",
            r"oficina del consumidor|omic|ocu|facua",
            r"demanda(?:r|ré)",
        ],
        "praise": [
            r"gracias",
            r"encant\w+",
            r"genial",
            r"excelente",
            r"muy buen[oa]",
            r"me gusta",
            r"perfect[oa]",
        ],
    },
    "fr": {
        "complaint": [
            r"ne (?:\w+ )?(?:fonctionne|marche) (?:plus|pas)",
            r"(?:fonctionne|marche) pas",
            r"toujours pas",
            r"toujours rien",
            r"personne ne (?:répond|m'aide)",
            r"aucune réponse",
            r"pas de réponse",
            r"j'attends|j'attend",
            r"depuis \w+ (?:jours|semaines|mois|heures)",
            r"rembours\w*",
            r"annul(?:er|é|ée|ation)",
            r"cassée?s?|en panne|défectueu(?:x|se)|abîmée?",
            r"plus jamais",
            r"inadmissible|inacceptable|honteux|scandaleux|lamentable|nul(?:le)?",
            r"pas (?:du tout )?contente?",
            r"retard",
            r"perdue?s?",
            r"prélevée? (?:deux fois|à tort)",
            r"réclamation|plainte",
            r"arnaque",
            r"injoignable|n'importe quoi",
            r"déçue?s?|décevante?s?",
            r"plante (?:encore|toujours|sans arrêt|tout le temps)|n'arrête pas de planter",
            r"endommagée?s?",
            r"(?:pas|jamais) (?:encore )?(?:reçue?s?|livrée?s?)",
            r"pas (?:très |du tout |vraiment )?(?:top|terrible|génial|super|satisfaite?)",
        ],
        "severe": [r"avocat", r"porter plainte", r"arnaque\w*|escroc\w*|fraude", r"dgccrf|médiateur"],
        "praise": [r"merci", r"j'adore", r"génial", r"excellent", r"super", r"parfait", r"bravo", r"top"],
    },
    "de": {
        "complaint": [
            r"funktioniert (?:\w+ )?nicht",
            r"geht nicht",
            r"immer noch (?:nicht|kein\w*)",
            r"noch immer nicht",
            r"(?:niemand|keiner) (?:antwortet|hilft|meldet sich)",
            r"keine antwort",
            r"warte\w* (?:seit|schon)",
            r"seit \w+ (?:tagen|wochen|monaten|stunden)",
            r"erstattung|rückerstattung|geld zurück",
            r"storn\w+|kündig\w+",
            r"kaputt|defekt|beschädigt",
            r"nie wieder",
            r"unverschämt|frechheit|katastrophe",
            r"enttäusch\w*",
            r"nicht zufrieden|unzufrieden",
            r"verspät\w*|verspätung",
            r"verloren",
            r"doppelt (?:abgebucht|berechnet)",
            r"beschwerde",
            r"sauerei|skandal",
            r"zumutung",
            r"stürzt (?:\w+ ){0,2}ab|abgestürzt",
            r"nie (?:angekommen|geliefert|erhalten)|nicht (?:angekommen|geliefert|erhalten)",
            r"kam (?:\w+ )?(?:nie|nicht) an",
            r"nicht (?:so |sehr |gerade |besonders )?(?:toll|gut|super)",
        ],
        "severe": [r"anwalt|rechtsanwalt", r"anzeige", r"betrug|betrüger\w*|abzocke", r"verbraucherzentrale"],
        "praise": [
            r"danke\w*",
            r"(?:vielen|herzlichen|besten|tausend) dank",
            r"super",
            r"toll",
            r"klasse",
            r"perfekt",
            r"zufrieden",
            r"hervorragend",
        ],
    },
    "pt": {
        "complaint": [
            r"não funciona\w*",
            r"não (?:me )?(?:chegou|chega|responde\w*)",
            r"ninguém (?:responde|ajuda)",
            r"sem resposta",
            r"ainda não",
            r"continuo esperando|estou esperando|aguardando",
            r"há \w+ (?:dias|semanas|meses|horas)",
            r"desde ontem",
            r"reembolso|estorno|meu dinheiro de volta",
            r"cancel(?:ar|ado|ada|aram)",
            r"quebrad[oa]|estragad[oa]|defeito",
            r"nunca mais",
            r"péssim[oa]|horrível|absurdo|vergonha|inaceitável",
            r"não estou satisfeit[oa]",
            r"atras(?:o|ado|ada)",
            r"perdid[oa]|danificad[oa]",
            r"cobrad[oa] (?:duas vezes|a mais)",
            r"reclamação|reclame aqui",
            r"decepcionad[oa]s?|decepção",
            r"não (?:recebi|consigo)",
            r"não gostei",
            r"cadê (?:o |a )?(?:meu|minha)",
        ],
        "severe": [r"advogad[oa]", r"procon", r"processar|processo judicial", r"golpe|fraude"],
        "praise": [r"obrigad[oa]", r"adorei|amei", r"ótim[oa]", r"excelente", r"perfeito", r"parabéns"],
    },
    "it": {
        "complaint": [
            r"non funziona\w*",
            r"non (?:è|mi è) (?:ancora )?arrivat[oa]",
            r"nessuno (?:mi )?(?:risponde|aiuta|richiama)",
            r"nessuna risposta",
            r"ancora (?:niente|nulla|non)",
            r"sto aspettando|aspetto da",
            r"da \w+ (?:giorni|settimane|mesi|ore)",
            r"rimbors\w*",
            r"annull\w+|disdett\w+|disdire",
            r"rott[oa]|guast[oa]|difettos[oa]|danneggiat[oa]",
            r"mai più",
            r"vergogna|inaccettabile|pessim[oa]|schifo",
            r"non sono soddisfatt[oa]",
            r"ritard\w*",
            r"pers[oa]",
            r"addebitat[oa] due volte",
            r"reclamo",
            r"delus[oa]|deludente",
            r"non (?:ho )?(?:ancora )?ricevut[oa]",
            r"mai (?:arrivat|ricevut|consegnat)[oa]",
            r"non mi piace",
        ],
        "severe": [r"avvocat[oa]", r"denuncia\w*", r"truffa\w*|frode", r"codacons|agcom|altroconsumo"],
        "praise": [
            r"grazie",
            r"ottim[oa]",
            r"perfett[oa]",
            r"bravissim[oa]|bravi",
            r"fantastic[oa]",
            r"adoro",
        ],
    },
    "nl": {
        "complaint": [
            r"werkt (?:\w+ )?niet",
            r"doet het niet",
            r"nog steeds (?:niet|geen)",
            r"niemand (?:reageert|helpt)",
            r"geen (?:antwoord|reactie)",
            r"wacht\w* al",
            r"al \w+ (?:dagen|weken|maanden|uur)",
            r"terugbetal\w+|geld terug|restitutie",
            r"opzeg\w+|annuler\w+",
            r"kapot|defect|beschadigd",
            r"nooit meer",
            r"schandalig|belachelijk|waardeloos|slecht\w*",
            r"niet tevreden|ontevreden",
            r"vertraag\w*|vertraging",
            r"kwijt|verloren",
            r"dubbel (?:afgeschreven|betaald)",
            r"klacht",
            r"teleurgesteld|teleurstellend",
            r"(?:niet|nooit|nog niet) (?:ontvangen|geleverd|aangekomen|bezorgd)",
            r"storing",
            r"niet (?:blij|goed)",
        ],
        "severe": [r"advocaat", r"aangifte", r"oplichting|oplichters?|fraude", r"consumentenbond|acm"],
        "praise": [r"bedankt|dank(?:je|u)? ?wel", r"top", r"super", r"geweldig", r"perfect", r"tevreden"],
    },
    "ja": {
        "complaint": [
            r"届かない|届いていない|届いていません|届きません",
            r"(?:動か|使え|繋がら|つながら)ない|(?:動き|使え|繋がり|つながり)ません",
            r"(?:返事|返信|連絡|回答)(?:が|も)(?:ない|ありません|来ない|来ません)",
            r"まだ(?:届|連絡|返|対応)[ぁ-ん]*",
            r"待って(?:いる|います|る)",
            r"返金",
            r"キャンセル",
            r"壊れ[ぁ-ん]*",
            r"二度と",
            r"最悪|ひどい|酷い|ありえない",
            r"遅延|遅れ[ぁ-ん]*|遅すぎ[ぁ-ん]*",
            r"不良品|不具合|初期不良",
            r"紛失|破損",
            r"二重(?:請求|引き落とし)",
            r"苦情|クレーム",
            r"不満|がっかり",
        ],
        "severe": [r"弁護士", r"訴え|訴訟", r"詐欺", r"消費者センター|消費生活センター"],
        "praise": [r"ありがとう", r"最高", r"素晴らしい", r"助かりました", r"大好き", r"感謝"],
    },
}

# Table words that are English words too: they say nothing about the language of a post.
ENGLISH_TOO = frozenset(
    [
        "top",
        "super",
        "excellent",
        "perfect",
        "horrible",
        "fatal",
        "genial",
        "bravo",
        "retard",
        "toll",
        "rota",
        "storing",
        "defect",
        "lamentable",
        "acm",
        "ocu",
        "omic",
        "nul",
    ]
)

# Emoji that carry the sentiment on their own (any language). Angry faces, thumbs down, pile of poo,
# middle finger, eye-roll, broken heart; hearts, heart eyes, thumbs up, folded hands, clapping,
# raised hands.
ANGRY_EMOJI = frozenset(
    "\U0001f620\U0001f621\U0001f92c\U0001f624\U0001f44e\U0001f4a9\U0001f595\U0001f92e\U0001f612"
    "\U0001f644\U0001f494"
)
HAPPY_EMOJI = frozenset(
    "\u2764\U0001f60d\U0001f970\U0001f495\U0001f496\U0001f499\U0001f49a\U0001f49c\U0001f44d\U0001f64f\U0001f44f\U0001f64c"
    "\U0001f60a\U0001f929\u2665"
)
# Characters that do not change what an emoji-only post says (skin tones, joiners, variation selectors).
_EMOJI_NOISE = re.compile("[\ufe0f\u200d\U0001f3fb-\U0001f3ff\\s!?.]")


@dataclass(frozen=True, slots=True)
class LanguageReading:
    """What the phrase tables found in one non-English post."""

    language: str
    complaint: tuple[str, ...]
    severe: tuple[str, ...]
    praise: tuple[str, ...]
    question: bool


class MultilingualCues:
    """One compiled pattern per language and kind, built once per process."""

    def __init__(self) -> None:
        self._patterns: dict[str, dict[str, re.Pattern[str]]] = {}
        for lang, kinds in LEXICON.items():
            compiled = {}
            for kind, phrases in kinds.items():
                # Phones type the typographic apostrophe (j’attends): the tables' ' matches both.
                body = "|".join(f"(?:{p})" for p in phrases).replace("'", "['’]")
                if lang == "ja":
                    compiled[kind] = re.compile(body)
                else:
                    compiled[kind] = re.compile(rf"(?<!\w)(?:{body})(?!\w)")
            self._patterns[lang] = compiled
        # Every phrase of a Latin-script language in one pattern, for guessing the language.
        self._any = {
            lang: re.compile("|".join(f"(?:{p.pattern})" for p in kinds.values()))
            for lang, kinds in self._patterns.items()
            if lang != "ja"
        }

    def phrase_support(self, lower: str) -> dict[str, int]:
        """How strongly the phrase tables say a Latin-script post is in each language (no Japanese).

        A phrase of two or more words or with a letter English does not use ("stürzt ständig ab",
        "endommagé") counts 2; a single plain word counts 1 ("deluso", "beschadigd"), or 0 when it
        is also an English word ("top", "horrible"). Languages with no phrase are left out.
        """
        support: dict[str, int] = {}
        for lang, pattern in self._any.items():
            points = 0
            for m in pattern.finditer(lower):
                said = m.group(0)
                if " " in said or not said.isascii():
                    points += 2
                elif said not in ENGLISH_TOO:
                    points += 1
            if points:
                support[lang] = points
        return support

    def japanese_phrase(self, text: str) -> bool:
        """Whether a Japanese table phrase occurs (for kanji-only posts the script guess calls Chinese)."""
        return any(p.search(text) for p in self._patterns["ja"].values())

    def supports(self, language: str | None) -> bool:
        return language in self._patterns

    def read(self, language: str, lower: str, clean: str | None = None) -> LanguageReading:
        """Phrases found in ``lower``, quoted as written in ``clean`` (same text before lower-casing)."""
        kinds = self._patterns[language]
        source = clean if clean is not None and len(clean) == len(lower) else lower

        def found(kind: str) -> tuple[str, ...]:
            return tuple(dict.fromkeys(source[m.start() : m.end()] for m in kinds[kind].finditer(lower)))

        return LanguageReading(
            language,
            complaint=found("complaint"),
            severe=found("severe"),
            praise=found("praise"),
            question="?" in lower or "？" in lower or "か。" in lower,
        )


def language_name(code: str) -> str:
    """'es' -> 'Spanish' (the code itself for a language without a table)."""
    return NAMES.get(code, code)


def evidence(reading: LanguageReading, weight: float) -> list[Evidence]:
    """Complaint evidence (positive) or praise (negative), each with a reason quoting the post."""
    name = NAMES.get(reading.language, reading.language)
    said = reading.severe + reading.complaint
    if said:
        quoted = ", ".join(f"«{p}»" for p in said[:2])
        return [Evidence("multilingual", weight * min(len(said), 2), f"{name}: {quoted}")]
    if reading.praise:
        quoted = ", ".join(f"«{p}»" for p in reading.praise[:2])
        return [Evidence("multilingual", -weight, f"{name} praise: {quoted}")]
    return []


def severity_evidence(reading: LanguageReading, points: int) -> list[Evidence]:
    """Threats and accusations in the post's language (lawyer, fraud, consumer authority)."""
    if not reading.severe:
        return []
    name = NAMES.get(reading.language, reading.language)
    quoted = ", ".join(f"«{p}»" for p in reading.severe[:2])
    return [Evidence("severity:multilingual", points, f"{name}: threatens or accuses: {quoted}")]


def emoji_only(text: str) -> str | None:
    """'complaint' for a post of only angry/thumbs-down emoji, 'praise' for only hearts/thanks, else None."""
    rest = _EMOJI_NOISE.sub("", text)
    if not rest:
        return None
    chars = set(rest)
    if chars <= ANGRY_EMOJI:
        return "complaint"
    if chars <= HAPPY_EMOJI:
        return "praise"
    return None
