"""Exactly-once accounting: what the platforms served vs what the store holds vs what the receiver got."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from monitor.store import models as m
from tests.harness.platforms import TOKEN
from tests.harness.receiver import AlertReceiver


def stored_tokens(engine: Engine, sources: list[str]) -> Counter[str]:
    """Mention rows per token (more than 1 would be a duplicate) among the bench's sources."""
    t = m.Mention.__table__
    out: Counter[str] = Counter()
    with engine.connect() as conn:
        for (text,) in conn.execute(select(t.c.text).where(t.c.source.in_(sources))):
            found = TOKEN.search(text or "")
            if found:
                out[found.group(0)] += 1
    return out


def alert_tokens(engine: Engine, sources: list[str]) -> Counter[str]:
    """Mention alerts per token (the alerts that are due to reach the receiver)."""
    a = m.AlertOutbox.__table__
    t = m.Mention.__table__
    out: Counter[str] = Counter()
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.c.text)
            .select_from(a.join(t, t.c.id == a.c.mention_id))
            .where(a.c.kind == "mention", t.c.source.in_(sources))
        )
        for (text,) in rows:
            found = TOKEN.search(text or "")
            if found:
                out[found.group(0)] += 1
    return out


def delivery_states(engine: Engine) -> dict[str, int]:
    d = m.AlertDelivery.__table__
    with engine.connect() as conn:
        states = {s: n for s, n in conn.execute(select(d.c.status, func.count()).group_by(d.c.status))}
        for f, n in conn.execute(
            select(d.c.followup, func.count()).where(d.c.followup.is_not(None)).group_by(d.c.followup)
        ):
            states[f"followup:{f}"] = n
    return states


def next_polls(engine: Engine, sources: list[str]) -> dict[str, datetime | None]:
    sc = m.SourceCursor.__table__
    with engine.connect() as conn:
        return {
            r.source: r.next_poll_at
            for r in conn.execute(select(sc.c.source, sc.c.next_poll_at).where(sc.c.source.in_(sources)))
        }


@dataclass
class Tally:
    served: int
    stored: int
    lost: int
    duplicated: int
    alerts_due: int
    alerts_received: int
    alerts_lost: int
    alerts_duplicated: int  # unmarked copies beyond the first: must be 0
    marked_repeats: int
    unknown_left: int
    states: dict[str, int]

    @property
    def clean(self) -> bool:
        return not (self.lost or self.duplicated or self.alerts_lost or self.alerts_duplicated)

    def lines(self) -> list[str]:
        return [
            f"mentions served {self.served}, stored {self.stored}: "
            f"lost {self.lost}, duplicated {self.duplicated}",
            f"alerts due {self.alerts_due}, received {self.alerts_received}: lost {self.alerts_lost}, "
            f"duplicated (unmarked) {self.alerts_duplicated}, marked repeats {self.marked_repeats}",
            f"alert ledger: {', '.join(f'{k} {v}' for k, v in sorted(self.states.items()))}",
        ]


def tally(engine: Engine, served: list[str], sources: list[str], receiver: AlertReceiver) -> Tally:
    stored = stored_tokens(engine, sources)
    due = alert_tokens(engine, sources)
    plain, marked = receiver.by_token()
    states = delivery_states(engine)
    served_set = set(served)
    return Tally(
        served=len(served_set),
        stored=sum(stored.values()),
        lost=len(served_set - set(stored)),
        duplicated=sum(n - 1 for n in stored.values() if n > 1) + sum(n - 1 for n in due.values() if n > 1),
        alerts_due=len(due),
        alerts_received=sum(1 for tok in due if plain[tok] or marked[tok]),
        alerts_lost=sum(1 for tok in due if not plain[tok] and not marked[tok]),
        alerts_duplicated=sum(n - 1 for n in plain.values() if n > 1),
        marked_repeats=sum(marked.values()),
        unknown_left=states.get("unknown", 0),
        states=states,
    )


def summary(t: Tally) -> dict[str, Any]:
    return {k: getattr(t, k) for k in t.__dataclass_fields__}
