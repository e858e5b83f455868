"""Hand-made mentions written through the store's own tables (what the pipeline and responder store)."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine

from monitor.store import models as m

_ids = itertools.count(1)


def add_mention(
    engine: Engine, *, platform: str = "mastodon", source: str | None = None, **fields: Any
) -> int:
    """Store one mention with the given triage/workflow fields; returns its id."""
    n = next(_ids)
    row: dict[str, Any] = {
        "platform": platform,
        "external_id": f"t{n}",
        "source": source or platform,
        "author_handle": f"author{n}",
        "text": "hello",
        "created_at": fields["created_at"],
        "fetched_at": fields["created_at"],
        "label": "neutral",
        "priority": "P3",
        "polarity": 0.0,
        "status": "new",
    }
    row.update(fields)
    with engine.begin() as conn:
        return int(conn.execute(m.Mention.__table__.insert().values(**row)).inserted_primary_key[0])


def first_response(engine: Engine, mention_id: int, at: datetime, responder: str) -> None:
    """What the responder records when the platform confirms a person's reply."""
    t = m.Mention.__table__
    with engine.begin() as conn:
        conn.execute(
            update(t)
            .where(t.c.id == mention_id)
            .values(first_response_at=at, first_responder=responder, status="replied", updated_at=at)
        )
