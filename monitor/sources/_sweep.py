"""Reading a newest-first feed whose cursor only pages backwards, without loss or duplicates.

Bluesky notifications and search, and Mastodon status search, return the newest
items first and a cursor to the next *older* page. To catch up after a pause a
source starts at the top and pages down until it reaches what the previous sweep
already covered (its high-water mark ``hw``), then moves ``hw`` up to the newest
item of this sweep. The sweep state lives in the persisted cursor, so a restart
in the middle of it resumes at the saved page instead of skipping the rest.

Posts are not always indexed in order (clock skew, late federation), so a sweep
reads an overlap window below ``hw`` too and drops ids it already handed out
(``seen``). When the platform stops paging before the sweep gets down to ``hw``
the uncovered range is reported as a gap instead of silently skipped.

Keys are integers that grow with the feed order (epoch microseconds of
``indexedAt`` on Bluesky, snowflake ids on Mastodon); the platform module maps
its items to keys and ids.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

Item = TypeVar("Item")

# Enough to dedupe the overlap window of a very busy brand; beyond that the
# database's unique (platform, external_id) still catches repeats.
MAX_SEEN = 3000


@dataclass
class SweepState:
    """The persisted part of one stream: ``{"hw", "seen", "next", "top", "last"}`` in the cursor."""

    hw: int | None = None  # newest key fully covered by a finished sweep
    seen: dict[str, int] = field(default_factory=dict)  # id → key, within the overlap window
    next: str | None = None  # platform cursor of the next older page while a sweep is running
    top: int | None = None  # newest key met in the running sweep (the next hw)
    last: list[str] = field(default_factory=list)  # ids of the previous page, to drop offset shifts

    @classmethod
    def load(cls, raw: Any) -> SweepState:
        """Rebuild from the cursor; anything unreadable starts a fresh stream rather than failing the poll."""
        if not isinstance(raw, dict):
            return cls()
        seen = raw.get("seen")
        return cls(
            hw=raw["hw"] if isinstance(raw.get("hw"), int) else None,
            seen={str(k): v for k, v in seen.items() if isinstance(v, int)} if isinstance(seen, dict) else {},
            next=raw["next"] if isinstance(raw.get("next"), str) else None,
            top=raw["top"] if isinstance(raw.get("top"), int) else None,
            last=[str(x) for x in raw.get("last") or [] if isinstance(x, str)],
        )

    def dump(self) -> dict[str, Any]:
        return {"hw": self.hw, "seen": self.seen, "next": self.next, "top": self.top, "last": self.last}

    @property
    def running(self) -> bool:
        """True while a sweep is between pages (the next request continues it)."""
        return self.next is not None


@dataclass
class SweepStep(Generic[Item]):
    """What one page did: the items to hand out, the new state and whether to read on."""

    fresh: list[Item]
    state: SweepState
    more: bool
    # Keys (lowest, highest) of a range the platform would not page into, or None.
    gap: tuple[int, int] | None = None
    repeats: int = 0  # items in the overlap window handed out before


def step(
    state: SweepState,
    items: Sequence[Item],
    next_cursor: str | None,
    *,
    key: Callable[[Item], int],
    ident: Callable[[Item], str],
    overlap: int,
    page_size: int,
    now_key: int | None = None,
) -> SweepStep[Item]:
    """Advance ``state`` by one newest-first page of ``items`` whose older neighbour is ``next_cursor``.

    A first-ever sweep (no ``hw``) takes only the newest page: history from
    before the monitor started is not a gap. When that first sweep finds nothing,
    ``now_key`` (the key of "now" on the platform's scale) becomes the mark, so
    the next sweep pages all the way down to it instead of being "first" again.
    Otherwise the sweep goes on while the page is entirely above the overlap
    floor and the platform offers a cursor; a full page with no cursor above
    the floor is a gap.
    """
    floor = state.hw - overlap if state.hw is not None else None
    keyed = [(key(item), ident(item), item) for item in items]
    fresh: list[Item] = []
    repeats = 0
    top = state.top
    last = set(state.last)
    for k, i, item in keyed:
        top = k if top is None else max(top, k)
        if floor is not None and k < floor:
            continue  # covered by an earlier sweep
        if i in state.seen or i in last:
            repeats += 1
            continue
        fresh.append(item)
    new = SweepState(hw=state.hw, seen=dict(state.seen), top=top, last=[i for _, i, _ in keyed])
    if top is not None:
        # Only what can come back in the next sweep's window is worth remembering.
        for k, i, _ in keyed:
            if k >= top - overlap:
                new.seen[i] = k
    oldest = min((k for k, _, _ in keyed), default=None)
    reached = floor is None or oldest is None or oldest < floor
    gap = None
    if not reached and next_cursor is not None:
        new.next = next_cursor
        return SweepStep(fresh, new, True, None, repeats)
    if not reached and len(keyed) >= page_size and oldest is not None and state.hw is not None:
        gap = (state.hw, oldest)
    # Sweep finished: everything down to the old floor is covered.
    new.hw = top if state.hw is None or (top is not None and top > state.hw) else state.hw
    if new.hw is None:
        new.hw = now_key
    new.top = None
    new.next = None
    new.last = []
    cut = new.hw - overlap if new.hw is not None else None
    kept = {i: k for i, k in new.seen.items() if cut is None or k >= cut}
    if len(kept) > MAX_SEEN:
        kept = dict(sorted(kept.items(), key=lambda kv: kv[1])[-MAX_SEEN:])
    new.seen = kept
    return SweepStep(fresh, new, False, gap, repeats)
