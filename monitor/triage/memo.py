"""A bounded memo of per-word work, for the words that recur post after post.

Per-word results (TextBlob's tokens of a chunk, a learned model's n-gram terms of a word) are
worked out once and looked up after that. When the memo holds ``size`` words it forgets them all
at once and starts again: the words in steady use come back within a few posts, and memory stays
bounded without the bookkeeping of a least-recently-used list.

Callers read ``memo.current.get(word)`` themselves (one dictionary lookup on the hot path) and
call :meth:`WordMemo.miss` only when that returns None.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class WordMemo(Generic[V]):
    """``compute(word)`` remembered for up to ``size`` words."""

    def __init__(self, compute: Callable[[str], V], size: int) -> None:
        self.compute = compute
        self.size = size
        self.current: dict[str, V] = {}

    def miss(self, word: str) -> V:
        """The value for a word the memo does not hold (computed, then remembered)."""
        value = self.compute(word)
        if len(self.current) >= self.size:
            self.current = {}
        self.current[word] = value
        return value

    def __len__(self) -> int:
        return len(self.current)
