"""Key phrases of a complaint ("refund", "app crashes", "charged twice") for the top-topics report.

Cheap on purpose: run once per mention when it is rolled up, never per request.
Words are lower-cased, links, @handles, numbers and stop words dropped; a
mention yields its distinct content words and the two-word phrases between
them, so "the app keeps crashing after the update" gives ``app``, ``keeps``,
``crashing``, ``update``, ``app keeps``, ``keeps crashing``. Counting and time words ("two",
"weeks", "without", "back") are stop words too: a manager reading the top topics cannot act on
them, and they only ever rank because waiting is the commonest complaint.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_LINK = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"@[\w.]+")
_WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)
MAX_PHRASES = 12  # per mention, so one rant cannot dominate the day

_STOP_TEXT = """
    a about above after again against all also am an and any are aren't as at be because been before
    being below between both but by can can't cannot could couldn't did didn't do does doesn't doing
    don't down during each even ever every few for from further get gets got had hadn't has hasn't have
    haven't having he he'd he'll he's her here here's hers herself him himself his how how's i i'd i'll
    i'm i've if in into is isn't it it's its itself just let's like me more most much must mustn't my
    myself no nor not now of off on once one only or other ought our ours ourselves out over own please
    really same shan't she she'd she'll she's should shouldn't so some still such than that that's the
    their theirs them themselves then there there's these they they'd they'll they're they've this
    those through to too under until up us very was wasn't we we'd we'll we're we've were weren't what
    what's when when's where where's which while who who's whom why why's will with won't would
    wouldn't yet you you'd you'll you're you've your yours yourself yourselves im dont cant wont ive
    thanks thank hey hi hello lol omg yes ok okay via rt amp gonna wanna going today day days again
    anyone someone something anything nothing everyone thing things way time times people guys since
    without within across around another many lot lots back got make made two three four five six
    seven eight nine ten zero first second last minute minutes hour hours week weeks month months
    year years
    """
STOP_WORDS = frozenset(_STOP_TEXT.split())


def _words(text: str) -> list[str]:
    text = _HANDLE.sub(" ", _LINK.sub(" ", text.lower()))
    return [w.strip("'’-") for w in _WORD.findall(text)]


def key_phrases(text: str, ignore: Iterable[str] = ()) -> list[str]:
    """Distinct content words and adjacent-word pairs of ``text``; ``ignore`` = brand terms."""
    skip = {w.lower() for term in ignore for w in _words(term)}
    phrases: list[str] = []
    seen: set[str] = set()
    previous: str | None = None
    for word in _words(text):
        if len(word) < 3 or word in STOP_WORDS or word in skip:
            previous = None
            continue
        for phrase in (word, f"{previous} {word}" if previous else None):
            if phrase and phrase not in seen and len(phrase) <= 128:
                seen.add(phrase)
                phrases.append(phrase)
        previous = word
    # Pairs say more than single words; keep them first when the cap bites.
    pairs = [p for p in phrases if " " in p]
    singles = [p for p in phrases if " " not in p]
    return (pairs + singles)[:MAX_PHRASES]
