"""Hacker News is read-only here: its public APIs (Firebase, Algolia) have no way to post a comment.

Every reply is refused before it is queued, saying so; answer on
news.ycombinator.com itself.
"""

from __future__ import annotations

from typing import Any, ClassVar

from monitor.responder.base import Posted, Replier, ReplyNotSupported, ReplyTarget

MESSAGE = (
    "Hacker News is read-only: it has no API for posting comments, so mention-monitor cannot reply there; "
    "answer on news.ycombinator.com and mark the mention replied or resolved"
)


class HackerNewsReplier(Replier):
    platform: ClassVar[str] = "hackernews"
    guarantee: ClassVar[str] = "nothing is ever posted (read-only platform)"

    @classmethod
    def from_config(cls, config: Any, source: str, *, transport: Any = None) -> HackerNewsReplier:
        return cls()

    @classmethod
    def check(cls, text: str, target: ReplyTarget) -> list[str]:
        return [MESSAGE]

    def post(self, text: str, target: ReplyTarget, key: str) -> Posted:
        raise ReplyNotSupported(MESSAGE)
