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
from typing import Any


def round_todo(saved: object, streams: Iterable[str]) -> list[str]:
    """The streams left in this round: the saved list (minus streams no longer configured) or all."""
    wanted = list(streams)
    todo = [s for s in saved if s in wanted] if isinstance(saved, list) else []
    return todo or wanted


def advance_round(
    states: object, todo: list[str], streams: list[str], stream: str, state: Any, more: bool
) -> tuple[dict[str, Any], list[str]]:
    """After one page of ``stream`` (the head of ``todo``): the per-stream states and the rest of the round.

    States of streams no longer configured are dropped rather than carried forever. A stream with
    more to read goes to the back of the round, so one stream's backlog never starves the others.
    """
    kept = {k: v for k, v in states.items() if k in streams} if isinstance(states, dict) else {}
    kept[stream] = state
    return kept, todo[1:] + ([stream] if more else [])


def prune_seen(seen: dict[str, float], floor: float) -> dict[str, float]:
    """Keep the ids created at or after ``floor``: older ones can no longer come back in a search."""
    return {key: t for key, t in seen.items() if t >= floor}
