"""Bookkeeping shared by the search-style sources: rounds over streams and the ids already seen.

A source that searches several things per poll (Reddit posts, comments and inbox;
Hacker News one query per brand term) reads one page of one *stream* per ``fetch``.
The cursor lists the streams still to read in the current round, so a restart
resumes the round instead of skipping a stream. Each stream keeps the ids it saw
inside the overlap window, so re-reading that window for late or skewed posts
does not hand the same mention to the scheduler twice.
"""

from __future__ import annotations

from collections.abc import Iterable


def round_todo(saved: object, streams: Iterable[str]) -> list[str]:
    """The streams left in this round: the saved list (minus streams no longer configured) or all."""
    wanted = list(streams)
    todo = [s for s in saved if s in wanted] if isinstance(saved, list) else []
    return todo or wanted


def prune_seen(seen: dict[str, float], floor: float) -> dict[str, float]:
    """Keep the ids created at or after ``floor``: older ones can no longer come back in a search."""
    return {key: t for key, t in seen.items() if t >= floor}
