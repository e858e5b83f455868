"""A simulated platform: a realistic, reproducible stream of brand mentions, no credentials needed.

It powers ``mention-monitor demo``, the ingest benchmark and the tests. The mix is
what a support team sees: praise, questions, complaints, an angry influencer, a
repeat complainer, spam, non-English posts, and the brand's own posts (noise).
Mention ``n`` is always the same text for the same seed, so runs can be compared.

Each mention draws from its own small counter-based generator (splitmix64 over seed and
``n``): building a ``random.Random`` per mention cost ~20-45 µs, a tenth of the ingest
benchmark's time per mention outside triage. A page's posts are spread over the last poll
interval in sequence order, as a platform's newest posts are: scattering each one over a
fixed two minutes made every time-keyed index take random inserts when pages come faster
than that (the ingest benchmark's 100k mentions all fell in one two-minute window).
"""

from __future__ import annotations

import math
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from pydantic import Field

from monitor.mention import Mention
from monitor.sources.base import Clock, Page, Source, SourceSettings

_PRAISE = [
    "Just got my order from {brand} a day early. Packaging was perfect, thank you!",
    "Shout-out to the {brand} support team, sorted my issue in five minutes 🙌",
    "Loving the new {brand} app update, so much faster",
    "{brand} never disappoints. Best purchase I made this year.",
]
_QUESTIONS = [
    "@{handle} does the {product} work with older chargers?",
    "@{handle} when will the {product} be back in stock?",
    "Anyone know if {brand} ships to Canada?",
    "@{handle} how do I change the email on my account?",
]
_COMPLAINTS = [
    "@{handle} I was charged twice for order {order} and nobody answers my emails. I want a refund.",
    "@{handle} still waiting for my {product}, 3 weeks now. Tracking hasn't moved since Monday.",
    "@{handle} your app keeps crashing when I try to pay. This is ridiculous.",
    "@{handle} the {product} stopped working after two days and support hung up on me",
    "Great, another {brand} delivery 'delayed'. Third time this month. Thanks for nothing.",
    "@{handle} cancelled my order without telling me and kept the money?! Call me back.",
]
_INFLUENCER = [
    "@{handle} 12 days without my {product}, 4 emails, zero answers. {brand} is a scam. "
    "Talking to a lawyer and the press tomorrow.",
    "Warning to my followers: @{handle} charged me twice and refuses a refund. Never again.",
]
_REPEAT = [
    "@{handle} still no reply about my broken {product}. Why is nobody answering?",
    "@{handle} day 5. The {product} still doesn't work and your chat closes on me.",
    "@{handle} I have asked three times now. Fix my order or refund me.",
]
_SPAM = [
    "🔥 {brand} giveaway!!! Claim your free {product} now → http://free-prizes.example/{order} 🔥",
    "Make $5000/week from home, better than any {brand} job! DM me http://cash.example",
]
_FOREIGN = [
    ("es", "@{handle} mi pedido {order} no ha llegado y nadie responde. Quiero un reembolso."),
    ("de", "@{handle} seit zwei Wochen warte ich auf mein Paket. Sehr enttäuschend."),
    ("fr", "J'adore mon nouveau {product} de {brand}, merci !"),
    ("pt", "@{handle} o aplicativo não funciona desde ontem, alguém pode ajudar?"),
]
_OWN = ["Our spring sale starts today! 20% off every {product} at {brand}.", "We're here to help, DM us."]
_NEUTRAL = [
    "Saw the {brand} delivery van on the highway this morning",
    "Reading an article about {brand}'s new factory",
    "{brand} announced their quarterly results today",
]
_PRODUCTS = ["Blender X2", "SmartKettle", "AirPod case", "Pro subscription", "Toaster 3000"]
_FIRST = ["sam", "alex", "jo", "maria", "li", "noah", "fatima", "omar", "kate", "ines", "tom", "yuki"]

# Weighted mix of what the stream produces.
_KINDS = [
    ("praise", 20),
    ("question", 15),
    ("complaint", 22),
    ("neutral", 15),
    ("spam", 6),
    ("foreign", 8),
    ("repeat", 5),
    ("influencer", 2),
    ("own", 4),
    ("retweet", 3),
]
_KIND_NAMES = [k for k, _ in _KINDS]
_KIND_CUM = [sum(w for _, w in _KINDS[: i + 1]) for i in range(len(_KINDS))]

_MASK = (1 << 64) - 1


class _Draws:
    """Reproducible draws for one mention: three splitmix64 outputs over (seed, n), then each draw
    takes what it needs from those 192 bits (a mention uses about 70 of them)."""

    __slots__ = ("pool",)

    def __init__(self, key: int) -> None:
        pool = 0
        state = key & _MASK
        for _ in range(3):
            state = (state + 0x9E3779B97F4A7C15) & _MASK
            z = ((state ^ (state >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
            pool = (pool << 64) | (z ^ (z >> 31))
        self.pool = pool

    def below(self, n: int) -> int:
        self.pool, r = divmod(self.pool, n)
        return r

    def random(self) -> float:
        return self.below(1 << 26) / (1 << 26)  # uniform in [0, 1), 26 bits: plenty for a simulation

    def choice(self, seq: list) -> Any:
        return seq[self.below(len(seq))]

    def randint(self, a: int, b: int) -> int:
        return a + self.below(b - a + 1)

    def lognormvariate(self, mu: float, sigma: float) -> float:
        u1 = 1.0 - self.random()  # (0, 1]
        gauss = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * self.random())  # Box-Muller
        return math.exp(mu + sigma * gauss)

    def kind(self) -> str:
        pick = self.below(_KIND_CUM[-1])
        for name, top in zip(_KIND_NAMES, _KIND_CUM, strict=True):
            if pick < top:
                return name
        return _KIND_NAMES[-1]


class SimulatedSettings(SourceSettings):
    interval: float = Field(default=5.0, ge=0.05, description="seconds between polls")
    per_poll: int = Field(default=5, ge=1, le=10_000, description="mentions produced per page")
    seed: int = 7
    # Stop producing after this many mentions (None: never stop).
    total: int | None = Field(default=None, ge=0)
    # Pretend the platform answers slowly (seconds), for timeout tests.
    latency: float = Field(default=0.0, ge=0)


class SimulatedSource(Source):
    """Yields ``per_poll`` mentions per fetch; the cursor is the next sequence number."""

    platform: ClassVar[str] = "simulated"
    Settings: ClassVar[type[SourceSettings]] = SimulatedSettings

    def __init__(self, name: str, settings: SourceSettings, brand: Any, *, clock: Clock = time.time) -> None:
        super().__init__(name, settings, brand, clock=clock)
        self._brand_name = brand.names[0]
        handles = brand.handles.get("simulated") or [self._brand_name.lower().replace(" ", "")]
        self._handle = handles[0].lstrip("@")

    def fetch(self, cursor: dict[str, Any]) -> Page:
        s: SimulatedSettings = self.settings  # type: ignore[assignment]
        self.budget.spend(self.name)
        if s.latency:
            time.sleep(s.latency)
        seq = int(cursor.get("seq", 0))
        count = s.per_poll if s.total is None else max(0, min(s.per_poll, s.total - seq))
        now = datetime.now(UTC)
        # The page's posts, oldest first, evenly over the last poll interval (two minutes at most).
        step = min(s.interval, 120.0) / max(count, 1)
        mentions: list[Mention] = []
        skipped: Counter[str] = Counter()
        for n in range(seq, seq + count):
            item = self.make(n, now=now - timedelta(seconds=step * (seq + count - 1 - n)), spread=0.0)
            if item is None:
                skipped["retweet"] += 1
                continue
            if self.brand.is_own(self.platform, item.author_handle) or item.author_handle == self._handle:
                skipped["own_post"] += 1
                continue
            mentions.append(item)
        more = s.total is not None and seq + count < s.total and count == s.per_poll
        return Page(mentions, {"seq": seq + count}, more=more, skipped=skipped, items_read=count)

    def make(self, n: int, *, now: datetime, spread: float = 120.0) -> Mention | None:
        """Mention number ``n`` (None for a plain repost, which real sources filter too), posted
        up to ``spread`` seconds before ``now``."""
        rng = _Draws(self.settings.seed * 1_000_003 + n)  # type: ignore[attr-defined]
        kind = rng.kind()
        if kind == "retweet":
            return None
        fill = {
            "brand": self._brand_name,
            "handle": self._handle,
            "product": rng.choice(_PRODUCTS),
            "order": f"#{rng.randint(10000, 99999)}",
        }
        language = "en"
        followers = int(rng.lognormvariate(5, 1.5))
        author = f"{rng.choice(_FIRST)}_{rng.randint(1, 999)}"
        if kind == "praise":
            text = rng.choice(_PRAISE)
        elif kind == "question":
            text = rng.choice(_QUESTIONS)
        elif kind == "complaint":
            text = rng.choice(_COMPLAINTS)
        elif kind == "neutral":
            text = rng.choice(_NEUTRAL)
        elif kind == "spam":
            text, author, followers = rng.choice(_SPAM), f"promo_{rng.randint(1, 50)}", rng.randint(0, 20)
        elif kind == "foreign":
            language, text = rng.choice(_FOREIGN)
        elif kind == "repeat":
            text, author, followers = rng.choice(_REPEAT), "frustrated_fran", 840
        elif kind == "influencer":
            text, author, followers = rng.choice(_INFLUENCER), "techreviewer_max", 48_200
        else:  # own
            text, author, followers = rng.choice(_OWN), self._handle, 120_000
        external_id = f"sim-{self.settings.seed}-{n}"  # type: ignore[attr-defined]
        text = text.format(**fill)
        return Mention(
            platform=self.platform,
            external_id=external_id,
            text=text,
            created_at=now - timedelta(seconds=rng.randint(0, int(spread))) if spread else now,
            author_handle=author,
            author_name=author.replace("_", " ").title(),
            author_id=f"u-{author}",
            author_followers=followers,
            language=language,
            url=f"https://simulated.example/{author}/posts/{external_id}",
            addressed_to_brand=f"@{self._handle}" in text,
            raw={"kind": kind, "seq": n},
        )
