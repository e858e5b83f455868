"""Severity: how bad a complaint is, so that P1 means "a person should look within minutes".

A complaint is not urgent because it is negative. Following Jin & Aletras (NAACL 2021) and
Trosborg's scale (no explicit reproach < disapproval < accusation < blame), severity comes from
what the post *does*: it accuses or blames the brand; it reports harm (money lost, safety or
health, personal data, discrimination); it threatens (lawyer, regulator, chargeback, press,
leaving); it says the problem has dragged on (repeated contact, long waits); it shames the
brand in front of other people (warnings to followers, a wall of tagged accounts).

Each family is its own small table of phrases and adds points and one reason an agent can
read, quoting the words found in the post. The families are general consumer-service
language; regulator and currency names cover the US, UK, EU and India (the development
set is Indian banking). Multilingual threat and harm words come from ``multilingual.py``.
"""

# ruff: noqa: E501  (phrase tables: one alternative per line reads better than a wrapped regex)

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.triage.alternation import factor
from monitor.triage.cues import first_char_gate
from monitor.triage.model import Evidence
from monitor.triage.normalize import PreparedText


def _alt(spec: str) -> str:
    """One alternation from a block with one alternative per line, ending at a word end.

    The start boundary is put once in front of all families (see :class:`SeverityCues`).
    """
    body = "|".join(line.strip() for line in spec.strip().splitlines() if line.strip())
    return rf"(?:{body})(?![\w'])"


# Where a phrase may start: after a non-word character, at a word or currency character.
_START = r"(?<![\w'])(?=[\w$£€₹])"


_NUM = r"(?:[0-9]+|an?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|twenty|several|many|multiple)"

# (family, reason template with {q} for the quoted words, points, pattern)
FAMILIES: list[tuple[str, str, str]] = [
    (
        "accusation",
        "accuses the brand of {what}",
        _alt(
            r"""
            fraud\w*|scam\w*|cheat\w*|loot\w*|thie(?:f|ves|very|ving)|steal\w*|stole|stolen
            rob(?:bed|bing|bery|bery)?|daylight robbery
            ripp(?:ed|ing) (?:me |us |people |customers )?off|rip ?off
            con artists?|liars?|lied (?:to|about)|lying|deceiv\w*|decept\w*|mislead\w*|misled|mis-?sold
            illegal\w*|unlawful\w*|unethical|corrupt\w*|extort\w*|blackmail\w*|harass\w*
            threaten(?:ed|ing|s)? (?:me|us|my)
            fake (?:promises?|calls?|offers?|delivery|claims?)|bait and switch|criminals?|crooks?|mafia|goons?
            """
        ),
    ),
    (
        "blame",
        "blames the brand: {q}",
        _alt(
            r"""
            your fault|(?:is|are|was) (?:your|their) fault|you(?:'re| are) responsible|held? responsible
            shame on (?:you|them)|how dare|shameless\w*
            (?:you|they) (?:guys )?(?:have |has )?(?:lost|broke|ruined|damaged|destroyed|stole|cheated|ignored|blocked|froze|frozen|deducted|debited|refused|denied|wasted)
            (?:you|they) (?:guys )?(?:don'?t|do not|never) (?:care|respond|reply|listen|bother)
            (?:no one|nobody)(?:'s| is)? bothers?|insult\w*|careless|negligen\w*|irresponsible
            incompeten\w*|useless (?:bank|company|service|people|staff|app|support)
            treat(?:ed|ing)? (?:me|us|customers) like|took my money|taking my money
            keep(?:ing)? my money|held my money|holding my money
            """
        ),
    ),
    (
        "money",
        "money at stake: {q}",
        _alt(
            r"""
            (?:lost|losing|lose) (?:my |our |all (?:my |our )?)?(?:money|savings|funds|cash)
            my (?:hard[- ]earned )?(?:money|savings|funds)
            hard[- ]earned|deducted|debited (?:twice|again|without)
            double (?:charged|debited|payment|deduction)|charged (?:me )?twice
            unauthori[sz]ed|without (?:my )?(?:consent|permission|authori[sz]ation|otp|knowledge)
            not (?:credited|refunded|reversed)
            (?:\$|£|€|₹|rs\.? ?|inr ?|usd ?)[0-9][0-9,.]*(?:k)?
            [0-9][0-9,.]* ?(?:rs|rupees|dollars|euros|pounds|inr|usd)
            kept (?:my |the |our )?money|overdraft|bounced|penalt(?:y|ies)|late fees?
            """
        ),
    ),
    (
        "safety",
        "safety or health: {q}",
        _alt(
            r"""
            injur\w*|hurt (?:me|my|him|her|us)|hospitali[sz]ed|hospital|emergency|ambulance|bleed\w*
            burn(?:ed|t) (?:me|my)
            caught fire|on fire|smoke|explod\w*|electrocut\w*|unsafe|dangerous|hazard\w*|food poisoning
            poison\w*|allergic
            safety|made (?:me|us|my \w+) sick|got sick|died|death|medicine|medical|chemotherapy
            life[- ]threatening|stranded|diabetic|insulin|pregnan\w*|wheelchair|disabled|disability|medication|inhaler
            """
        ),
    ),
    (
        "data",
        "personal data at risk: {q}",
        _alt(
            r"""
            hack(?:ed|ers?)|data (?:breach|leak)|breach|leaked|identity theft|phishing|compromised
            (?:personal|my) (?:data|details|information|info) (?:was |were |is |are |has been |have been )?(?:leaked|sold|shared|exposed|stolen)
            privacy|misus(?:e|ed|ing) (?:my|of my)
            """
        ),
    ),
    (
        "discrimination",
        "discrimination: {q}",
        _alt(
            r"discriminat\w*|racis[tm]\w*|sexis[tm]\w*|homophob\w*|transphob\w*|ableis[tm]|bigot\w*|prejudice"
        ),
    ),
    (
        "legal",
        "threatens legal action: {q}",
        _alt(
            r"""
            lawyers?|attorneys?|advocate|legal (?:action|notice|steps|proceedings)|sue|suing|lawsuit
            small claims|(?:take|taking|see|sue|go to|going to) (?:you |them |it )?(?:to |in )?court|court case
            consumer (?:court|forum)|class action
            """
        ),
    ),
    (
        "regulator",
        "takes it to a regulator: {q}",
        _alt(
            r"""
            regulators?|ombudsman|banking ombudsman|consumer protection|trading standards|attorney general
            better business bureau|bbb|ftc|cfpb|fca|ofcom|ofgem|sebi|rbi|irdai|trai|dgca|faa
            department of transportation
            (?:file|filing|lodge|lodging|log|raise|raising|register|registering|escalate|escalating) (?:a |an )?(?:formal |official )?(?:complaint|grievance|case) (?:with|to|against)
            report (?:you|this|them|it) to
            """
        ),
    ),
    (
        "chargeback",
        "threatens a chargeback: {q}",
        _alt(
            r"charge ?backs?|dispute (?:the|this|a) (?:charge|transaction|payment)|(?:call|contact|tell) my (?:bank|card issuer)"
        ),
    ),
    (
        "press",
        "threatens to go public: {q}",
        _alt(
            r"the press|the media|journalists?|reporters?|(?:local |the )?news|go(?:ing)? viral|social media|bad review"
        ),
    ),
    (
        "leave",
        "threatens to leave: {q}",
        _alt(
            r"""
            (?:cancel|close|closing|cancelling|canceling|terminate|delete) (?:my|our) (?:account|subscription|card|membership|policy|plan|contract)
            switch(?:ing)? (?:to|banks?|providers?|carriers?)|moving to
            never (?:again|using|use|buying|buy|flying|fly|ordering|order|banking)
            lost a customer|losing a customer
            tak(?:e|ing) (?:all )?my (?:business|money|account) (?:elsewhere|away|out)
            done with (?:you|this)
            shift(?:ing)? (?:my |all my )?(?:\w+ )?(?:account|loan|business|policy)
            last time i|boycott\w*|port(?:ing)? (?:my number )?out
            """
        ),
    ),
    (
        "shaming",
        "warns others publicly: {q}",
        _alt(
            r"""
            warning to|beware|stay away|avoid (?:this|them|at all costs)
            (?:do not|don'?t|never) (?:use|buy|order|fly|bank|trust|invest)
            spread the word|please (?:rt|retweet|share)|rt (?:if|please)
            everyone (?:should|needs to|must) know|expose\w*
            (?:post|posting|share|sharing|tweet|tweeting|spread|spreading|put|putting) (?:this|it|about (?:this|it)) (?:\w+ )?(?:everywhere|all over|on every)
            (?:tell|telling) (?:everyone|everybody)(?! else)|(?:tell|telling) all my|keep (?:posting|tweeting|sharing) (?:this|about (?:this|it|you))
            """
        ),
    ),
    (
        "repetition",
        "repeated contact: {q}",
        _alt(
            rf"""
            {_NUM}(?:st|nd|rd|th)? (?:times?|emails?|e-mails?|mails|calls|messages|complaints|requests|tickets|reminders|attempts|follow[- ]?ups)
            (?:second|third|fourth|fifth|sixth|tenth|[0-9]+(?:st|nd|rd|th)) time
            again and again|repeatedly|multiple times|countless|numerous|several times|every time
            time and again|(?:yet )?again
            (?:complaint|ticket|case|reference|ref|docket|sr|srn|request) (?:no|number|id|#)\.?
            still (?:no|not|nothing|waiting|haven'?t|hasn'?t|didn'?t|unresolved|pending)
            no (?:response|reply|resolution|update|action)
            """
        ),
    ),
    (
        "waiting",
        "has been waiting: {q}",
        _alt(
            rf"""
            (?<!in )(?<!within )(?:{_NUM}|over|almost|nearly|more than)\s*\+?\s*(?:days?|weeks?|months?|years?)
            (?<!in )(?<!within )(?:{_NUM}|over|almost|nearly|more than)\s*\+?\s*(?:hours?|hrs?)
            since (?:yesterday|last|(?:[0-9]+|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*)
            for (?:days|weeks|months|ages|hours)|forever|all day|long time|till now|until now|to date
            """
        ),
    ),
]

# How many points each family adds to urgency (defaults; ``urgency.severity_*`` settings scale them).
POINTS: dict[str, int] = {
    # Strong: each alone puts a complaint at P1 (with the default base of 30, 30 + 40 = 70).
    "accusation": 40,
    "safety": 40,
    "discrimination": 40,
    "legal": 40,
    "regulator": 40,
    "chargeback": 40,
    # Moderate: one puts a complaint at P2; four together reach P1.
    "data": 20,
    "shaming": 20,
    "press": 20,
    "leave": 20,
    "blame": 10,
    "money": 10,
    "repetition": 5,
    "waiting": 5,
    "audience": 10,
}
# Reasons for the accusation family name the accusation, not the word form.
_ACCUSATION_NAMES = [
    ("fraud", "fraud"),
    ("scam", "a scam"),
    ("cheat", "cheating"),
    ("loot", "looting"),
    ("thie", "theft"),
    ("steal", "theft"),
    ("stole", "theft"),
    ("rob", "robbery"),
    ("rip", "a rip-off"),
    ("li", "lying"),
    ("deceiv", "deception"),
    ("decept", "deception"),
    ("mislead", "misleading customers"),
    ("misled", "misleading customers"),
    ("mis", "mis-selling"),
    ("harass", "harassment"),
    ("threaten", "threats"),
    ("extort", "extortion"),
    ("blackmail", "blackmail"),
    ("illegal", "breaking the law"),
    ("unlawful", "breaking the law"),
]
# Consumer-protection bodies and regulators people tag to escalate in public (US, UK, India, EU-wide).
# Lower case, without '@'. A brand adds its own sector's with ``severity_terms: {regulator: [...]}``.
REGULATOR_HANDLES = frozenset(
    [
        "cfpb",
        "ftc",
        "bbb_us",
        "bbb",
        "usdot",
        "faanews",
        "fcc",
        "fdarecalls",
        "consumerreports",
        "nytimes_consumer",
        "fcaupdates",
        "financialombudsman",
        "fos_ombudsman",
        "whichuk",
        "citizensadvice",
        "ofcom",
        "ofgem",
        "caa",
        "rbi",
        "rbisays",
        "jagograhakjago",
        "consaff",
        "nch14404",
        "consumerforum_",
        "sebi_india",
        "irdai_india",
        "dgcaindia",
        "euconsumers",
        "beuc",
    ]
)
# Tagging this many other accounts besides the brand puts the complaint in front of an audience.
MANY_HANDLES = 3


@dataclass(frozen=True, slots=True)
class SeverityReading:
    """Points (0–100) and the evidence behind them; ``severe`` when they reach the P1 bar."""

    points: int
    evidence: tuple[Evidence, ...]

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(e.reason for e in self.evidence if e.reason)


class SeverityCues:
    """Every severity family compiled once into one pattern of named groups; one scan per text."""

    def __init__(self, extra: dict[str, list[str]] | None = None) -> None:
        parts = []
        self._reason: dict[str, tuple[str, str]] = {}
        families = list(FAMILIES)
        for family, phrases in (extra or {}).items():
            words = sorted({p.strip().lower() for p in phrases if p and p.strip()}, key=len, reverse=True)
            if words:
                reason = next((r for f, r, _ in FAMILIES if f == family), f"{family}: {{q}}")
                families.insert(0, (family, reason, _alt("\n".join(re.escape(w) for w in words))))
        families = [(family, reason, factor(pattern)) for family, reason, pattern in families]
        for i, (family, reason, pattern) in enumerate(families):
            group = f"g{i}"
            self._reason[group] = (family, reason)
            # A one-character lookahead per family rejects most families at once (as in cues.py).
            parts.append(f"{first_char_gate(pattern)}(?P<{group}>{pattern})")
        self._pattern = re.compile(_START + "(?:" + "|".join(parts) + ")")
        strong = [p for f, _, p in families if POINTS.get(f, 0) >= 40 or f not in POINTS]
        self._strong_hint = re.compile(_START + "(?:" + "|".join(strong) + ")")

    def may_be_strong(self, text: PreparedText) -> bool:
        """A cheap test: could a strong family (accusation, harm, legal, regulator...) match at all?"""
        if text.handle_count and any(h.lower() in REGULATOR_HANDLES for h in text.handles):
            return True
        return self._strong_hint.search(text.lower) is not None

    def find(self, lower: str) -> dict[str, list[str]]:
        """Family -> the distinct phrases of ``lower`` that matched it, in order."""
        found: dict[str, list[str]] = {}
        for m in self._pattern.finditer(lower):
            family, _ = self._reason[m.lastgroup or ""]
            words = found.setdefault(family, [])
            phrase = m.group(0)
            if phrase not in words:
                words.append(phrase)
        return found

    def read(
        self,
        text: PreparedText,
        *,
        points: dict[str, int] | None = None,
        cap: int = 60,
    ) -> SeverityReading:
        """Severity evidence for one text (the author's history and the thread count in ``triager``)."""
        table = {**POINTS, **(points or {})} if points else POINTS
        found = self.find(text.lower)
        if not found and text.handle_count == 0:
            return _NOTHING
        out: list[Evidence] = []
        for family, words in found.items():
            reason = self._reason_for(family, words)
            out.append(Evidence(f"severity:{family}", table.get(family, 15), reason))
        regulators = [h for h in text.handles if h.lower() in REGULATOR_HANDLES]
        if regulators and "regulator" not in found:
            tagged = ", ".join(f"“@{h}”" for h in dict.fromkeys(regulators[:2]))
            out.append(
                Evidence("severity:regulator", table["regulator"], f"takes it to a regulator: {tagged}")
            )
        if text.handle_count > MANY_HANDLES:
            others = text.handle_count - 1
            out.append(Evidence("severity:audience", table["audience"], f"tags {others} other accounts"))
        total = min(cap, sum(int(e.weight) for e in out))
        out.sort(key=lambda e: -e.weight)
        return SeverityReading(total, tuple(out))

    def _reason_for(self, family: str, words: list[str]) -> str:
        template = next((r for f, r, _ in FAMILIES if f == family), f"{family}: {{q}}")
        quoted = ", ".join(f"“{w}”" for w in words[:2])
        if family == "accusation":
            w = words[0]
            what = next((name for stem, name in _ACCUSATION_NAMES if w.startswith(stem)), None)
            return f"accuses the brand of {what} (“{w}”)" if what else f"accuses the brand: “{w}”"
        return template.format(q=quoted)


_NOTHING = SeverityReading(0, ())


# The stored reasons of a mention mix label, severity and context reasons; severity's own start
# with its family's words (the accusation family also says "accuses the brand: …"), or are the
# tagged-accounts and multilingual threat reasons below.
_REASON_PREFIXES = tuple(
    dict.fromkeys(template.split("{")[0].removesuffix(" of ").rstrip(" :") for _, template, _ in FAMILIES)
)
_OTHER_REASONS = re.compile(r"tags [0-9]+ other accounts$|[^:]{2,30}: threatens or accuses: ")


def severity_reasons(reasons: list[str] | tuple[str, ...] | None) -> list[str]:
    """The reasons (as stored on a mention) that made its severity, strongest first."""
    return [
        r
        for r in reasons or ()
        if isinstance(r, str) and (r.startswith(_REASON_PREFIXES) or _OTHER_REASONS.match(r))
    ]
