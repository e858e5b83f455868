"""Is the post aimed at the brand? Streams are not only brand-directed.

A keyword search brings in posts that merely name the brand, or are not about it at all
("delta variant", "an apple a day"). There a negative tone is about the world, not a
breach by the brand, and the complaint label's precision falls towards the lexicons'.
What the platforms tell us decides first: a reply to the brand, a mention of its handle or a
quote of its post (the sources set ``addressed_to_brand``). Without that:

* a mildly negative tone alone is not a complaint: it takes a stated cue (a failure, a
  demand, frustration, blame, a threat) or a clearly negative tone (``unaddressed_tone``);
* when the brand's name does not occur in the text at all (the post matched a product word
  or a handle the source searched for), the complaint evidence must clear a higher bar.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.mention import Mention
from monitor.triage.normalize import PreparedText


@dataclass(frozen=True, slots=True)
class Direction:
    """How the post relates to the brand."""

    aimed: bool
    # The brand's name occurs in the text; None when no brand terms are configured.
    named: bool | None

    @property
    def reason(self) -> str:
        if self.aimed:
            return ""
        if self.named:
            return "names the brand without addressing it"
        return "not addressed to the brand"


def direction(mention: Mention, text: PreparedText) -> Direction:
    return Direction(aimed=bool(mention.addressed_to_brand), named=text.brand_named)


def complaint_allowed(
    d: Direction,
    stated: bool,
    score: float,
    threshold: float,
    margin: float,
    tone: float = 0.0,
    tone_floor: float = -0.4,
) -> bool:
    """Whether complaint evidence ``score`` may make the label ``complaint`` for a post so directed.

    ``tone`` is the combined sentiment; at or below ``tone_floor`` a clearly negative post about
    the brand counts even without a stated cue.
    """
    if d.aimed:
        return True
    if not stated and tone > tone_floor:
        return False
    if d.named is False:
        return score >= threshold + margin
    return True
