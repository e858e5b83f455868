"""The first-character trie rewrite of phrase alternations matches exactly what the tables match."""

from __future__ import annotations

import re

import pytest

from monitor.triage import cues, severity
from monitor.triage.alternation import factor

# Hand-written posts that hit many families, overlaps and negations (lower case, as cues read them).
POSTS = [
    "still waiting for my refund, this is unacceptable and not bad at all is what you said",
    "it's not working again, third time this week. i'd hate to cancel my account",
    "you lied to me, this is fraud. my lawyer will call, i will report you to the ombudsman",
    "charged me twice $45 and rs. 500 debited without my consent, 3 days and no response",
    "thanks for nothing, the app crashed and my bags were lost. never flying again",
    "love it! sorted my issue in five minutes, thank you so much, great service",
    "in 5 minutes within 2 hours for 3 hours since yesterday waited forever on hold",
    "not very helpful, less than ideal, couldn't care less, doesn't even load, can't log in",
    "why is my order late? where's my parcel? what's going on? are you kidding me",
    "giveaway! use code win a free iphone, dm me for promo, link in bio",
    "the staff were rude, shame on you, how dare you treat customers like this",
    "beware, stay away, do not use them, please rt. going to the press and the local news",
    "no one answers, nobody cares, no one told us, supposed to be here, had to wait",
    "",
    "a",
]


def _tables() -> list[tuple[str, str]]:
    out = []
    for family, table in [
        ("failure", cues.FAILURE),
        ("demand", cues.DEMAND),
        ("frustration", cues.FRUSTRATION),
        ("persistence", cues.PERSISTENCE),
        ("accusing_question", cues.ACCUSING_QUESTION),
        ("praise", cues.PRAISE),
        ("possessive", cues.POSSESSIVE),
        ("spam", cues.SPAM),
        ("sarcasm", cues.SARCASM),
    ]:
        out += [(f"{family}:{tag or i}", pattern) for i, (tag, pattern) in enumerate(table)]
    out += [(f"severity:{family}", severity._START + pattern) for family, _, pattern in severity.FAMILIES]
    return out


@pytest.mark.parametrize(("name", "pattern"), _tables(), ids=[n for n, _ in _tables()])
def test_every_table_matches_the_same_after_the_rewrite(name: str, pattern: str) -> None:
    written, rewritten = re.compile(pattern), re.compile(factor(pattern))
    for post in POSTS:
        # Every start position, not only a scan: the rewrite must agree wherever the engine tries it.
        for at in range(len(post) + 1):
            a, b = written.match(post, at), rewritten.match(post, at)
            assert (a and a.group()) == (b and b.group()), (name, post, at)
        assert [m.span() for m in written.finditer(post)] == [m.span() for m in rewritten.finditer(post)]


def test_alternatives_are_grouped_by_first_character_in_order() -> None:
    assert factor("(?:hate|help|rude|hated)") == "(?:h(?:a(?:t(?:e(?:|d)))|elp)|rude)"
    # Order is kept within a character: "hate" still wins over "hated" where both match.
    assert re.match(factor("(?:hate|hated)"), "hated").group() == "hate"


def test_lookbehinds_move_behind_the_first_character() -> None:
    rewritten = factor("(?:(?<!not )bad|(?<!not )big)")
    assert rewritten == "(?:b(?:a(?<!not ba)d|i(?<!not bi)g))"
    assert re.search(rewritten, "not bad") is None
    assert re.search(rewritten, "so bad").group() == "bad"


def test_a_leading_group_is_distributed() -> None:
    assert factor("(?:(?:is|was) down|idle)") == "(?:i(?:s down|dle)|was down)"


@pytest.mark.parametrize(
    "pattern",
    [
        "(a|b)c",  # capturing groups are left alone (distributing would copy them)
        "(?P<x>ab|ac)",
        "(?:[0-9]+ days|an hour)",  # a class first: not one literal character
        "(?:s?he|they)",  # a quantified first character
        "(?i:ab|ac)",  # flags
    ],
)
def test_what_it_does_not_understand_is_left_as_written(pattern: str) -> None:
    assert factor(pattern) == pattern
