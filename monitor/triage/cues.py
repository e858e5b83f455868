"""Complaint cues beyond sentiment words: failures, demands, frustration, persistence, questions, praise.

A complaint is a breach of expectation, not a negative word (Preoţiuc-Pietro et al., ACL 2019):
"still waiting", "charged twice", "why is my order not here" carry no negative lexicon entry.
Every cue here is general customer-service language; nothing is tuned on one industry's
vocabulary, and a brand adds its own with ``extra_failure_terms`` / ``extra_demand_terms``.
All families (plus escalation terms and explicit sarcasm markers) are compiled into one
pattern of named groups per process, and each mention is scanned once.
"""

# ruff: noqa: E501  (phrase tables: one alternative per line reads better than a wrapped regex)

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.triage.alternation import factor
from monitor.triage.escalation import escalation_cues
from monitor.triage.model import Evidence
from monitor.triage.normalize import PreparedText
from monitor.triage.settings import TriageSettings


def _alt(spec: str, wrap: bool = True) -> str:
    """One regex alternation from a block with one alternative per line (keeps the tables readable).

    ``wrap`` puts the alternation between word boundaries.
    """
    body = "|".join(line.strip() for line in spec.strip().splitlines() if line.strip())
    return rf"\b(?:{body})\b" if wrap else f"(?:{body})"


_NEG = _alt(
    r"""
    not|never|no longer|isn'?t|aren'?t|wasn'?t|weren'?t|doesn'?t|does not|didn'?t|did not
    won'?t|will not|can'?t|cannot|can not|couldn'?t|could not|unable to|fail(?:ed|s)? to
    """,
    wrap=False,
)
# Functions a service is expected to perform; negating one is a failure ("can't log in").
_FUNCTION = _alt(
    r"""
    work|working|works|load|loading|open|log ?in|login|sign ?in|connect|receive[d]?|arrive[d]?
    get through|got through|go through|went through|show(?:ed|n)? up|respond(?:ed|ing)?|answer(?:ed|ing)?
    pick(?:ed|ing)? up|help(?:ed|ing|ful)?|process(?:ed)?|deliver(?:ed)?|refund(?:ed)?|fix(?:ed)?
    call(?:ed)? (?:me )?back|reply|replied|update[d]?|let me|letting (?:me|us)|allow(?:ed)? me|resolve[d]?|honou?r(?:ed)?
    give (?:me|us)|print|pay|use|find|reach|track|change|do anything|accept|transfer|book|rebook|cancel
    access|see|view|check in|download|upload|submit|complete|confirm|verify|reset
    get (?:a|an|any|my|through|thru|ahold|hold)|got thru
    get (?:me|us|anyone|anybody|someone|somebody|it|them)|be (?:made|used|done|reached|changed|processed|found|bothered)
    send|sent|hear (?:anything|back|from)|heard (?:anything|back|from)|tell (?:me|us)|told (?:me|us)
    """,
    wrap=False,
)

# family -> [(tag, regex)]; the tag is what an agent reads in the reason ("" = the matched words).
FAILURE: list[tuple[str, str]] = [
    # "can't wait to see it" is eagerness, not a failure.
    ("doesn't work", rf"\b{_NEG}\s+(?!wait\b)(?:\w+\s+){{0,2}}?{_FUNCTION}\b"),
    (
        "broken",
        _alt(
            r"""
            broken|broke down|out of order|outage|(?:is|was|are|went|been) down|crash(?:ed|es|ing)
            (?:broke|breaks|broken) (?:my|our|the|his|her)
            errors?|glitch\w*|bugg?y|froze|keeps? (?:crashing|failing|freezing|dropping)
            (?:logs?|logged|logging|kicks?|kicked|kicking|signs?|signed|signing|boots?|booted|booting) (?:me|us) (?:out|off)
            (?:site|website|app|system|server|page|portal|lines?|network|service) (?:is |was |are |went )?down
            (?:site|website|app|system|server|page|portal|lines?|network|service) (?:has|have) been down
            """
        ),
    ),
    ("delayed", _alt("delay(?:ed|s)?|late|behind schedule|overdue|postponed")),
    # Past forms only: "how do I cancel?" is a question, not a cancelled service.
    ("cancelled", r"\bcancel(?:l?ed|l?ing|lations?)\b"),
    (
        "lost or damaged",
        _alt(
            r"""
            lost (?:my|our|the|his|her|their|all)|(?:is|was|got|been|are|were) lost|losing|missing
            damaged|ruined|stolen
            crushed|smashed|shattered|cracked|dented|torn|leak(?:ed|ing|s)|soaked|mouldy|moldy|expired|stale
            (?:box|package|parcel) was empty|empty (?:box|package|parcel)|came off|fell off|fell apart
            wrong (?:item|order|size|address|one|charge|amount|information|info)
            (?:wasn'?t|weren'?t|was not|were not|isn'?t|aren'?t|is not|are not) (?:in|inside|included in) (?:the|my|our) (?:box|package|parcel|order|delivery|shipment)
            (?:didn'?t|did not|doesn'?t|does not) come with|(?:came|arrived|shipped) without
            """
        ),
    ),
    ("stuck", _alt("stuck|strand(?:ed|ing)|trapped|locked out")),
    (
        "still waiting",
        _alt(
            r"""
            still waiting|been waiting|waiting (?:for|on) (?:my|a|an|the|over|hours|days)|waited
            still (?:no|not|nothing|haven'?t|hasn'?t|don'?t|doesn'?t|can'?t|didn'?t)
            on hold|hold times?|busy signal|hung up|hang up|hanged up|hangs up|hanging up|disconnect\w*|ignor(?:ed|es|ing)
            (?:got|get|gets|getting|was|were|been) cut off|cut (?:me|us) off|dropped (?:my |the |our )?calls?|calls? (?:\w+ )?(?:dropped|drop|drops|keeps? dropping)
            no (?:one|body) (?:answers|answered|is answering|responds|responded|picks up)
            no (?:one|body) (?:cares|helps|helped|knows)
            nobody|no response|no reply|no answer|no call back|no callback|no help
            no one(?!'s| else| ever)(?! (?:is |does |could |can )?(?:\w+ )?(?:better|beat))
            nothing (?:we|they|you|i|anyone|they can|that can) (?:can|could) do
            nothing (?:was|has been|is being) done
            """
        ),
    ),
    ("never received", r"\bnever (?:heard|got|received|came|arrived|responded|showed|answered|called)\b"),
    (
        "charged wrongly",
        _alt(
            r"""
            charged (?:me )?(?:twice|again|double|extra|for)|double[- ]charged|overcharged|over-charged
            hidden fees?|extra fees?|took my money|no refund|still no refund
            (?:pay|paid|charge|charging) (?:\w+ )?(?:\$|£|€)\d+
            """
        ),
    ),
    (
        "broken promise",
        _alt(
            r"""
            was told|were told|been told|supposed to|promised|said (?:it|they|you) would|lied|no one told
            should(?:n'?t)? have|should'?ve|(?:not|never) allowed|refus(?:e|es|ed|ing)|(?:we|i) paid for
            only to (?:be|find|get|have|wait|watch|hear|learn|discover|realize|realise|see)
            (?:you|u|i|we|it|they)(?: guys| really)? shouldn'?t(?! (?:be (?:too |a |an )?(?:hard|long|problem|issue)|matter))
            (?:had|have|having|has) to (?:wait|pay|call|leave|sleep|buy|rent|drive|walk|stand|rebook|book)
            (?<!no )(?<!not a )(?:problems?|issues?)
            no (?:email|e-mail|notification|notice|updates?|information|info)
            no (?:communication|explanation|warning)
            without (?:notice|warning|explanation)
            without (?:telling|informing|asking|notifying|letting) (?:me|us|anyone|customers)
            """
        ),
    ),
]

DEMAND: list[tuple[str, str]] = [
    ("a refund", _alt("refund|money back|reimburse\\w*")),
    ("compensation", _alt("compensat\\w*|voucher|make (?:it|this) right|make up for")),
    (
        "a fix",
        _alt(
            "fix (?:this|it|that|your|the)|sort (?:this|it) out|do something|do better|get it together"
            "|step up"
        ),
    ),
    ("a call back", _alt("call me back|call me|contact me|get back to me|reach out to me|dm me|call ?back")),
    (
        "a manager",
        _alt("speak to (?:a |your )?(?:manager|supervisor|human|person|someone)|supervisor|escalate"),
    ),
    (
        "a person",
        _alt(
            "(?:speak|talk) (?:to|with) (?:a |an |your |any )?(?:real |live )?"
            "(?:human|person|someone|somebody|anyone|agent|rep|representative)"
        ),
    ),
    # "can you help me" is an ordinary request; these read as a plea.
    ("help", r"\b(?:please help|help please|someone help|need (?:some )?help|need assistance|help ?!)"),
    ("action", _alt("anything (?:you|u) can do|what (?:can|will|are) (?:you|u) (?:do|going to do)")),
    # An ultimatum: "...until someone fixes it", "until this is sorted" (the reason quotes it).
    (
        "",
        _alt(
            r"""
            (?:until|till|unless) (?:someone|somebody|anyone|you|u|they|(?:your|the) (?:team|company|staff)) (?:\w+ )?(?:fix|fixes|sorts?|resolves?|responds?|replies|answers?|refunds?|does something|do something|gets? back)
            (?:until|till|unless) (?:it|this|that|my \w+)(?:'s| is| gets| has been) (?:\w+ )?(?:fixed|sorted|resolved|refunded|replaced)
            """
        ),
    ),
    (
        "a response",
        _alt(
            r"i (?:just )?wish (?:that )?(?:someone|somebody|you|they|your|a|an|the|one) (?:\w+ ){0,4}?would"
        ),
    ),
    (
        "a response",
        _alt("hope (?:someone|somebody|you|they) (?:responds?|answers?|replies|calls?|gets? back)"),
    ),
    ("a response", _alt("answer (?:the|your) (?:phones?|calls?|emails?)|pick up (?:the|your) phones?")),
    (
        "better service",
        _alt(
            r"""
            (?:you|u) (?:guys )?(?:should|need to|must|have to|better) (?:\w+ )?(?:get|hire|train|fix|do|be)
            (?:you|u) (?:guys )?(?:should|need to|must|have to|better) (?:\w+ )?(?:learn|have|make|stop|start)
            (?:you|u) (?:guys )?(?:should|need to|must|have to|better) (?:\w+ )?(?:improve|update|figure)
            (?:you|u) (?:guys )?need (?:a |some )?better|need to do better
            train (?:your|them|him|her)|hire (?:more|better|someone)
            how about (?:you|starting|trying|some|a little|actually)
            """
        ),
    ),
    (
        "an explanation",
        _alt("explain (?:why|this|yourself|how)|explanation|i (?:demand|expect|deserve)|you owe"),
    ),
]

_DEMAND_NAMES = frozenset(tag for tag, _ in DEMAND if tag)

FRUSTRATION: list[tuple[str, str]] = [
    (
        "",
        # "not bad", "no problem": a negated complaint word is not a complaint (the lookbehinds).
        r"\b(?<!not )(?<!n't )(?<!no )(?<!never )"
        + _alt(
            r"""
            unacceptable|ridiculous|pathetic|worst|horrible|terrible|awful|disgusting|disgrace\w*
            disappoint\w*|frustrat\w*|annoy\w*|angry|furious|livid|fed up|sick of|tired of|sucks?
            (?<!'d )(?<!would )hate|joke|shame(?:ful)?|embarrass\w*|incompeten\w*|rude|useless|nightmare
            wtf|smh|ugh+|seriously|come on|unbelievable|absurd|insane|clueless|lousy|mess|fail(?:ed|ure|s)?
            liars?|lies|scam|rip ?off|ripped off|poor|(?<!my )bad|inexcusable|unprofessional|hopeless
            nope|crap\w*
            sub-?par|substandard|mediocre|appalling|atrocious|abysmal|dreadful|shoddy|lame|inept|sloppy|unhelpful
            outrageous|laughable|shambles|amateur\w*|careless|negligen\w*
            shit\w*|fuck\w*|bullshit|pissed|(?:doesn'?t|don'?t|do not|does not) (?:give a|give 2|care)
            (?:total|more|such|what|this is|that's|is) bs|couldn'?t care less|makes? no sense|(?:doesn'?t|does not) make (?:any )?sense
            delete your account
            not (?:very |so |too |at all )?(?:happy|impressed|pleased|satisfied|ok|okay|acceptable|good|fair)
            not (?:very |so |too |at all )?(?:professional|right|cool|friendly|helpful|nice|great|amused)
            not (?:very |so |too |at all )?(?:thrilled|pleased|amazing|fun|worth it|the best)
            less than (?:helpful|ideal|impressed|great|pleasant|satisfied|willing|friendly|stellar|professional|courteous)
            (?:can'?t|don'?t|didn'?t|haven'?t|hasn'?t|aren'?t|isn'?t|won'?t|wasn'?t|doesn'?t) even
            """
        ),
    ),
    ("", r"\breally\?"),
    # Saying "complaint" is the plainest complaint cue there is ("I can't complain" is not one).
    ("", r"\b(?<!can't )(?<!cannot )(?<!not )(?<!no )(?:complain(?:t|ts|ing|ed)?)\b"),
    (
        "sad face",
        r"(?:^|(?<=\s))(?::-?\(|:'\(|>:\(|:/|:-/)(?=\s|$)"
        r"|[\U0001F620\U0001F621\U0001F624\U0001F92C\U0001F629\U0001F62B\U0001F612\U0001F644"
        r"\U0001F61E\U0001F614\U0001F622\U0001F62D\U0001F4A9\U0001F44E\U0001F611\U0001F623"
        r"\U0001F616\U0001F62A\U0001F630]",
    ),
]

PERSISTENCE: list[tuple[str, str]] = [
    (
        "",
        _alt(
            r"still|again|yet again|another|every (?:single )?time|each time|keeps?(?! up)|multiple times|repeatedly"
        ),
    ),
    # Effort that did not pay off: "I've tried twice", "tried calling".
    (
        "",
        _alt(
            "(?:i|i'?ve|we|we'?ve|have|already) tried|tried (?:to|calling|again|several|multiple|twice|[0-9]+ times)"
        ),
    ),
    # [0-9] rather than \d so the first-character gate can be worked out.
    ("", r"\b(?:[0-9]+(?:st|nd|rd|th)|second|third|fourth|fifth|sixth|tenth) time\b"),
    (
        "",
        _alt(
            r"""
            (?<!in )(?<!within )(?:[0-9]+|an?|one|two|three|four|five|several|many|over|almost|nearly)\s*\+?\s*(?:min(?:ute)?s?|hours?)
            (?<!in )(?<!within )(?:[0-9]+|an?|one|two|three|four|five|several|many|over|almost|nearly)\s*\+?\s*(?:hrs?|days?)
            (?<!in )(?<!within )(?:[0-9]+|an?|one|two|three|four|five|several|many|over|almost|nearly)\s*\+?\s*(?:weeks?|months?)
            (?<!opening )(?<!open )(?<!business )(?<!office )(?<!working )(?<!operating )(?<!store )(?<!support )(?<!visiting )(?<!your )hours
            days|weeks|forever|ages|all day|all night|(?:half an?|a half) ?(?:hour|hr)
            since (?:yesterday|last|this morning|monday|tuesday|wednesday|thursday|friday|saturday|sunday)
            """
        ),
    ),
]

ACCUSING_QUESTION: list[tuple[str, str]] = [
    ("why", _alt("why|how come")),
    (
        "what's going on",
        _alt(
            r"""
            what(?:'s| is) (?:going on|the (?:deal|point|problem|holdup|hold up|solution|plan))
            what happened to|what gives(?! (?:you|me|us|them|it|the|a|an|your|my)\b)
            what(?:'s| is) up with
            where(?:'s| is) (?:my|our)|how (?:hard|difficult) (?:is|can|does|do|will)
            do (?:you|they) (?:even )?care|is (?:anyone|anybody|someone) (?:there|working|home|answering)
            are you (?:kidding|serious|joking)|what good is|what'?s the point
            (?:have|has) a clue|how (?:does|do|is) (?:that|this|it) (?:make sense|fair|ok|okay|acceptable)
            is (?:this|that) how (?:you|they) (?:\w+ ){0,4}?(?:treat|do business|run|handle)|what kind of (?:service|company|business|customer service|support)
            how (?:can|could|do|does) (?:you|they) not|how (?:do|can) (?:you|they) expect
            (?:is anyone|are (?:you|people|they)) (?:going to|gonna) (?:answer|respond|reply|call|help|fix)
            """
        ),
    ),
]

PRAISE: list[tuple[str, str]] = [
    # A problem that was solved is praise: "sorted my issue in five minutes" names no failure.
    (
        "",
        _alt(
            r"""
            (?:sorted|fixed|resolved|solved|handled|took care of|helped (?:me )?with) (?:out )?(?:my|the|our|this|that) (?:\w+ )?(?:issues?|problems?|orders?|accounts?|refunds?|query|queries|complaints?|case)
            (?:sorted|fixed|resolved|solved|handled|took care of|helped (?:me )?with) (?:out )?(?:my|the|our|this|that|it)
            """
        ),
    ),
    ("", _alt("thank(?:s| you| u)|thx|ty|appreciate\\w*|grateful|kudos|cheers|shout[- ]?out")),
    (
        "",
        # A negated or hedged praise word ("not friendly", "less than helpful") is frustration, not praise.
        r"\b(?<!not )(?<!not too )(?<!not very )(?<!not so )(?<!less than )(?<!n't )"
        + _alt(
            r"""
            love|loved|loving|great|awesome|amazing|excellent|fantastic|wonderful|best|well done|good job
            happy|glad|impressed|perfect|helpful|friendly|brilliant|superb|outstanding|smooth|pleasant|lovely
            """
        ),
    ),
    (
        "happy emoji",
        r"(?:<3|[\u2764\U0001F60D\U0001F60A\U0001F64F\U0001F44D\U0001F499\U0001F601\U0001F603"
        r"\U0001F64C\U0001F44F\U0001F970\U0001F929\U0001F600\U0001F604\u263A\U0001F49C\U0001F49A])",
    ),
]

# Ownership of a service object ("my order") and talk of customer service: weak alone,
# useful next to other complaint evidence.
POSSESSIVE: list[tuple[str, str]] = [
    ("", r"\bcustomer (?:service|care|support|relations)\b"),
    (
        "",
        _alt(
            r"""
            my (?:account|order|package|parcel|delivery|bag|bags|luggage|suitcase|card|payment)
            my (?:tickets?|reservation|booking|appointment|subscription|claim|complaint|case|phone|internet)
            my (?:service|bill|invoice)
            """
        ),
    ),
]

SPAM: list[tuple[str, str]] = [
    (
        "",
        _alt(
            r"""
            giveaway|give away|win (?:a|an|free)|free (?:followers|iphone|gift card)|promo code|discount code
            use code|click (?:here|the link)|link in bio|check out my|follow ?back|f4f
            crypto|bitcoin|nft|forex
            onlyfans|earn \$|make \$[0-9]|make money|work from home|(?:week|day|month) from home
            limited offer|buy now
            dm (?:me )?for (?:promo|promotion|collab|price)
            """
        ),
    ),
]

# Markers that are sarcastic on their own (the contrast kind is in ``sarcasm.py``).
SARCASM: list[tuple[str, str]] = [
    (
        "",
        _alt(
            r"""
            thanks? (?:you )?for nothing|yeah,? right|so much for|(?:thanks|thx) for that$
            you (?:got|have) there|how convenient|good to know now
            thanks? (?:you )?(?:so much )?for (?!not |never )(?:\w+ ){0,2}?(?:losing|delaying|cancel\w*|wasting|ruining)
            thanks? (?:you )?(?:so much )?for (?!not |never )(?:\w+ ){0,2}?(?:breaking|ignoring|leaving|stranding|charging)
            thanks? (?:you )?(?:so much )?for (?!not |never )(?:\w+ ){0,2}?(?:overcharging|the wait)
            thanks? (?:you )?(?:so much )?for (?!not |never )(?:\w+ ){0,2}?making (?:me|us) (?:wait|miss)
            thanks? (?:you )?(?:so much )?for (?!not |never )(?:\w+ ){0,2}?(?:nothing|hanging up|the runaround|the delay)
            thanks? (?:you )?(?:so much )?for (?!not |never )(?:\w+ ){0,2}?(?:the hassle|no|late)
            (?:thanks?|thx) (?:you )?(?:so much )?for (?:not|never) (?:responding|answering|replying|helping|calling|getting back|telling|caring|listening|following up)
            """
        ),
    ),
]

# Hashtags are written without spaces (#neveragain, #customerservicefail), so they are searched
# for complaint stems inside the tag.
_HASHTAG_COMPLAINT = re.compile(
    r"fail|suck|worst|moneyback|refund|never|dontfly|nofly|fixit|broken|delay|cancel|angry|disappoint"
    r"|unacceptable|mess|joke|shame|boycott|ripoff|badservice|notcool|frustrat|annoy|ugh|smh|wtf|fml|lame"
    r"|terrible|awful|horrible|hate|rude|stuck|stranded|waiting|onhold|nothanks|notimpressed|unfriend|unhappy"
    r"|nothappy|shafted|baitandswitch|scam|fault|fraud|badcustomer|poorservice|poorcustomer|nothelpful|unhelpful"
)

_QUESTION_MARK = re.compile(r"\?")
_QUESTION_START = re.compile(
    r"^(?:can|could|how|what|when|where|which|who|will|would|is|are|do|does|did|any|should|may|has|have)\b"
)
_EMPHASIS = re.compile(r"!{2,}|\?!|!\?|\?{2,}")


# Families in the order they claim overlapping text: "still waiting" is a failure, not also "still".
# Escalation first: "cancel my account" is a churn threat before it is a "cancelled" failure;
# sarcasm before praise: "thanks for nothing" is not thanks.
FAMILIES = (
    "escalation",
    "sarcasm",
    "failure",
    "demand",
    "frustration",
    "accusing_question",
    "persistence",
    "possessive",
    "praise",
    "spam",
)
_BUILTIN: dict[str, list[tuple[str, str]]] = {
    "failure": FAILURE,
    "demand": DEMAND,
    "frustration": FRUSTRATION,
    "accusing_question": ACCUSING_QUESTION,
    "persistence": PERSISTENCE,
    "possessive": POSSESSIVE,
    "praise": PRAISE,
    "spam": SPAM,
    "sarcasm": SARCASM,
    "escalation": [],
}
# Word cues are only tried where a word starts: Python's regex engine tries every alternative
# at every position it reaches, so the gate is most of the speed. Symbol cues (emoji, ":(")
# are a second, small pattern, run only when a symbol character is present at all.
_WORD_GATE = r"\b(?=\w)"
_SYMBOL_TRIGGER = re.compile(r"[:<>\u2600-\u27BF\U0001F300-\U0001FAFF]")


@dataclass(frozen=True, slots=True)
class CueHit:
    """Which tags of one family matched (distinct, in order) and where (for the sarcasm contrast)."""

    tags: tuple[str, ...] = ()
    spans: tuple[tuple[int, int], ...] = ()
    # The words of the post that matched, one per distinct tag: reasons quote these, never the tag.
    words: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CueReading:
    """All cue families read from one text."""

    failure: CueHit
    demand: CueHit
    frustration: CueHit
    persistence: CueHit
    accusing_question: CueHit
    praise: CueHit
    possessive: CueHit
    spam: CueHit
    sarcasm: CueHit
    # Configured escalation terms found (legal, safety, press, churn), in order.
    escalation: CueHit
    question: bool
    # The "!!!"/"?!" as written (empty when none): reasons quote it.
    emphasis: str
    shouting: bool
    # Where " but " first occurs (-1 if not): "great, but it still does not work" is no praise.
    but_at: int = -1


class CueSet:
    """Every cue family compiled once per process into one pattern; :meth:`read` scans a text once."""

    def __init__(self, settings: TriageSettings | None = None) -> None:
        settings = settings or TriageSettings()
        extras = {"failure": settings.extra_failure_terms, "demand": settings.extra_demand_terms}
        word_parts: list[str] = []
        symbol_parts: list[str] = []
        # group name -> (family, tag); tag "" means "the matched words", None "see ``_tags``".
        self._groups: dict[str, tuple[str, str | None]] = {}
        # group name -> its tags' patterns in order: the first that matches where the group did
        # is the alternative the scan took (the group is their alternation, in that order).
        self._tags: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
        for family in FAMILIES:
            cues = list(_BUILTIN[family])
            if family == "escalation":
                cues = escalation_cues(settings.escalation_terms)
            terms = [t.strip().lower() for t in extras.get(family, []) if t and t.strip()]
            if terms:
                # Configured terms go first: the brand's own vocabulary should win an overlap.
                cues.insert(0, ("", r"\b(?:" + "|".join(re.escape(t) for t in terms) + r")\b"))
            words = [(tag, p) for tag, p in cues if p.startswith(r"\b")]
            symbols = [(tag, p) for tag, p in cues if not p.startswith(r"\b")]
            merged = _merged(words)
            if merged:
                # One group per family: each group costs the scan a test at every word start.
                # Which of its tags matched is told afterwards, for the few matches there are.
                group = f"{family}_w"
                pattern = "|".join(p for _, p in merged)
                gates = [first_char_gate(p) for _, p in merged]
                gate = _union_gate(gates) if all(gates) else ""
                if len(merged) == 1:
                    self._groups[group] = (family, merged[0][0])
                else:
                    self._groups[group] = (family, None)
                    self._tags[group] = [(tag, re.compile(p)) for tag, p in merged]
                word_parts.append(f"{gate}(?P<{group}>{pattern})")
            for i, (tag, pattern) in enumerate(symbols):
                group = f"{family}_s{i}"
                self._groups[group] = (family, tag)
                symbol_parts.append(f"(?P<{group}>{pattern})")
        # No IGNORECASE: the text is lower-cased once in ``prepare``, and case folding per
        # alternative doubles the scan time.
        self._words = re.compile(_WORD_GATE + "(?:" + "|".join(word_parts) + ")")
        self._symbols = re.compile("|".join(symbol_parts)) if symbol_parts else None

    def find(self, lower: str) -> dict[str, CueHit]:
        """Hits per family in ``lower`` (lower-case text; families without a hit are absent)."""
        tags: dict[str, list[str]] = {}
        words: dict[str, list[str]] = {}
        spans: dict[str, list[tuple[int, int]]] = {}
        matches = list(self._words.finditer(lower))
        if self._symbols is not None and _SYMBOL_TRIGGER.search(lower):
            matches += self._symbols.finditer(lower)
        for m in matches:
            family, tag = self._groups[m.lastgroup or ""]
            if tag is None:
                at = m.start()
                tag = next(t for t, p in self._tags[m.lastgroup or ""] if p.match(lower, at))
            said = m.group(m.lastgroup or 0)
            tag = tag or said
            found = tags.setdefault(family, [])
            if tag not in found:
                found.append(tag)
                words.setdefault(family, []).append(said)
            spans.setdefault(family, []).append(m.span())
        return {f: CueHit(tuple(tags[f]), tuple(spans[f]), tuple(words[f])) for f in tags}

    def read(self, text: PreparedText) -> CueReading:
        """Every family, the question test, emphasis and shouting for one prepared text."""
        lower = text.lower
        hits = self.find(lower)
        empty = CueHit()
        angry_tags = tuple(f"#{h}" for h in text.hashtags if _HASHTAG_COMPLAINT.search(h))
        if angry_tags:
            found = hits.get("frustration", empty)
            hits["frustration"] = CueHit(found.tags + angry_tags, found.spans, found.words + angry_tags)
        return CueReading(
            failure=hits.get("failure", empty),
            demand=hits.get("demand", empty),
            frustration=hits.get("frustration", empty),
            persistence=hits.get("persistence", empty),
            accusing_question=hits.get("accusing_question", empty),
            praise=hits.get("praise", empty),
            possessive=hits.get("possessive", empty),
            spam=hits.get("spam", empty),
            sarcasm=hits.get("sarcasm", empty),
            escalation=hits.get("escalation", empty),
            question=is_question(lower),
            emphasis=_first(_EMPHASIS, lower),
            shouting=is_shouting(text),
            but_at=lower.find(" but "),
        )


def _merged(cues: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Neighbouring cues with the same tag as one group, each table written as a first-character trie.

    Every group costs the scan a test at every word start; cues with the same tag need not be
    told apart. The order of the alternatives is kept, so the same cue wins an overlap.
    """
    out: list[tuple[str, list[str]]] = []
    for tag, pattern in cues:
        if out and out[-1][0] == tag:
            out[-1][1].append(pattern)
        else:
            out.append((tag, [pattern]))
    return [(tag, factor(ps[0] if len(ps) == 1 else r"\b(?:" + "|".join(ps) + ")")) for tag, ps in out]


def _union_gate(gates: list[str]) -> str:
    """One lookahead for the characters of several ``first_char_gate`` lookaheads."""
    chars = sorted({c for g in gates for c in _GATE_CHARS.findall(g[len("(?=[") : -len("])")])})
    return "(?=[" + "".join(chars) + "])"


# One character of a gate's class as ``first_char_gate`` writes it (``re.escape``d, so a
# backslash pair or a single character).
_GATE_CHARS = re.compile(r"\\.|.", re.S)


def first_char_gate(pattern: str) -> str:
    """A lookahead for the characters ``pattern`` can start with, or "" if that cannot be worked out.

    The regex engine tries every alternative at every word start; a one-character lookahead
    rejects most of them at once (a quarter of the scan time). It reads the pattern with the
    standard library's regex parser; if that ever changes, the gate is simply left out.
    """
    try:
        from re import _constants, _parser

        chars, nullable = _first_chars(list(_parser.parse(pattern)), _constants)
    except Exception:  # an optimisation only; any failure means "no gate"
        return ""
    if chars is None or nullable or not chars:
        return ""
    return "(?=[" + "".join(re.escape(c) for c in sorted(chars)) + "])"


def _first_chars(items: list, k) -> tuple[set[str] | None, bool]:
    """(possible first characters, whether the sequence can match empty); None = any character."""
    out: set[str] = set()
    for op, av in items:
        if op in (k.AT, k.ASSERT_NOT, k.ASSERT):
            continue  # zero-width: look at what follows
        if op == k.LITERAL:
            out.add(chr(av))
            return out, False
        if op == k.IN:
            for o, a in av:
                if o == k.LITERAL:
                    out.add(chr(a))
                elif o == k.RANGE and a[1] - a[0] <= 300:
                    out.update(chr(c) for c in range(a[0], a[1] + 1))
                else:
                    return None, False
            return out, False
        if op == k.SUBPATTERN:
            branches, min_repeat = [list(av[3])], 1
        elif op == k.BRANCH:
            branches, min_repeat = [list(b) for b in av[1]], 1
        elif op in (k.MAX_REPEAT, k.MIN_REPEAT):
            branches, min_repeat = [list(av[2])], av[0]
        else:
            return None, False
        can_be_empty = min_repeat == 0
        for branch in branches:
            chars, nullable = _first_chars(branch, k)
            if chars is None:
                return None, False
            out |= chars
            can_be_empty = can_be_empty or nullable
        if not can_be_empty:
            return out, False
    return out, True


def _first(pattern: re.Pattern[str], text: str) -> str:
    m = pattern.search(text)
    return m.group(0) if m else ""


def is_question(lower: str) -> bool:
    """A question mark, or a sentence that opens like a question ("can you", "where is")."""
    return bool(_QUESTION_MARK.search(lower) or _QUESTION_START.search(lower))


def is_shouting(text: PreparedText) -> bool:
    """At least two words in capitals making up a third of the words (acronyms alone are not shouting)."""
    return text.caps_words >= 2 and text.caps_words * 3 >= max(text.word_count, 1)


def _quoted(tags: tuple[str, ...], limit: int) -> str:
    return ", ".join(f"“{t}”" for t in tags[:limit])


def cue_evidence(cues: CueReading, settings: TriageSettings, sarcastic: bool) -> list[Evidence]:
    """Complaint evidence from the cue families, each capped at ``max_cues_per_family`` distinct cues."""
    w = settings.weights
    cap = settings.max_cues_per_family
    out: list[Evidence] = []

    def add(signal: str, hit: CueHit, weight: float, reason: str) -> None:
        if hit.tags and weight:
            out.append(Evidence(signal, weight * min(len(hit.tags), cap), reason))

    add("failure", cues.failure, w.failure, f"service failure: {_quoted(cues.failure.words, cap)}")
    # Named demands read as such ("asks for a refund"); the others quote the post's words.
    demands = " and ".join(t if t in _DEMAND_NAMES else f"action (“{t}”)" for t in cues.demand.tags[:cap])
    add("demand", cues.demand, w.demand, f"asks for {demands}")
    add(
        "frustration", cues.frustration, w.frustration, f"frustration: {_quoted(cues.frustration.words, cap)}"
    )
    # "still", "again", "for 3 hours" count even alone: said to a brand they mostly mean "not fixed yet".
    add("persistence", cues.persistence, w.persistence, f"ongoing: {_quoted(cues.persistence.words, cap)}")
    if cues.accusing_question.tags:
        out.append(
            Evidence(
                "accusing_question",
                w.accusing_question,
                f"complains in a question ({_quoted(cues.accusing_question.words, 1)})",
            )
        )
    supported = cues.failure.tags or cues.frustration.tags or cues.demand.tags or cues.accusing_question.tags
    if cues.possessive.tags and supported:
        out.append(Evidence("possessive", w.possessive, f"about “{cues.possessive.words[0]}”"))
    if cues.praise.tags and not sarcastic and not _praise_retracted(cues):
        add("praise", cues.praise, -w.praise, f"praise: {_quoted(cues.praise.words, cap)}")
    return out


def _praise_retracted(cues: CueReading) -> bool:
    """All praise comes before a "but" that is followed by a failure or frustration."""
    but = cues.but_at
    if but < 0 or any(start > but for start, _ in cues.praise.spans):
        return False
    return any(start > but for start, _ in cues.failure.spans + cues.frustration.spans)


def emphasis_evidence(cues: CueReading, settings: TriageSettings) -> list[Evidence]:
    """'!!!', '?!' and capitals: intensity, which only matters next to other complaint evidence."""
    parts = []
    if cues.emphasis:
        parts.append(f"“{cues.emphasis}”")
    if cues.shouting:
        parts.append("capitals")
    if not parts:
        return []
    return [Evidence("emphasis", settings.weights.emphasis, "emphatic: " + " and ".join(parts))]
