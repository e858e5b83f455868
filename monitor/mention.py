"""The normalized mention every source yields, whatever the platform.

Sources turn platform payloads into :class:`Mention`; everything after them
(dedupe, triage, store, routing) only ever sees this shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass(slots=True)
class Mention:
    """One post that mentions the brand, as read from a platform.

    ``platform`` + ``external_id`` identify it everywhere (the database enforces
    that pair as unique). ``created_at`` is timezone-aware UTC.
    """

    platform: str
    external_id: str
    text: str
    created_at: datetime
    author_handle: str
    url: str | None = None
    author_id: str | None = None
    author_name: str | None = None
    author_followers: int | None = None
    language: str | None = None
    in_reply_to_id: str | None = None
    conversation_id: str | None = None
    # True when the post is aimed at the brand: it @-mentions or replies to one of
    # the brand's handles (not merely names the brand). Set by the source.
    addressed_to_brand: bool = False
    raw: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.created_at.tzinfo is None:
            self.created_at = self.created_at.replace(tzinfo=UTC)
        else:
            self.created_at = self.created_at.astimezone(UTC)

    @property
    def key(self) -> tuple[str, str]:
        """The identity used by dedupe: ``(platform, external_id)``."""
        return (self.platform, self.external_id)
