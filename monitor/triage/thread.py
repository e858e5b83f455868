"""Thread state: a post in a conversation the brand already answered, or aimed at the brand."""

from __future__ import annotations

from monitor.triage.model import Evidence


def thread_evidence(brand_replied_in_thread: bool, points: int) -> list[Evidence]:
    """A follow-up after the brand's answer means the answer did not settle it."""
    if not brand_replied_in_thread:
        return []
    return [Evidence("thread", points, "follow-up in a thread the brand already answered")]


def addressed_evidence(addressed_to_brand: bool, points: int) -> list[Evidence]:
    """Posts aimed at the brand (an @-mention or reply) expect an answer; a mere name-drop does not."""
    if not addressed_to_brand:
        return []
    # No reason line: nearly every mention a brand receives is addressed to it, so it would be noise.
    return [Evidence("addressed", points, "")]
