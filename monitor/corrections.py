"""Learning from the team: agents' label corrections scored against triage, and trained on.

``triage-eval`` re-runs the current triage settings over every corrected mention
and reports precision/recall per label; ``triage-train`` fits the optional local
classifier on those corrections (the team's own labels, nothing else).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from monitor.store import models as m
from monitor.store.queries import to_mention
from monitor.triage import Triager
from monitor.triage.evaluation import EvalReport, evaluate
from monitor.triage.learned import LearnedModel, train


def corrected_mentions(engine: Engine) -> list[tuple[dict[str, Any], str]]:
    """Each corrected mention with its latest correction, oldest first."""
    corr = m.LabelCorrection.__table__
    ment = m.Mention.__table__
    latest = (
        select(corr.c.mention_id, func.max(corr.c.id).label("cid")).group_by(corr.c.mention_id).subquery()
    )
    q = (
        select(ment, corr.c.corrected)
        .join(latest, latest.c.mention_id == ment.c.id)
        .join(corr, corr.c.id == latest.c.cid)
        .order_by(ment.c.id)
    )
    with engine.connect() as conn:
        return [(dict(r), r["corrected"]) for r in conn.execute(q).mappings()]


def evaluate_corrections(engine: Engine, triager: Triager) -> tuple[EvalReport, int]:
    """(report, number of corrections) of the current settings against the team's labels."""
    rows = corrected_mentions(engine)
    pairs = [(triager.assess(to_mention(row)).label, corrected) for row, corrected in rows]
    return evaluate(pairs), len(rows)


def train_from_corrections(engine: Engine, out: Path) -> LearnedModel:
    """Fit the local classifier on the corrections and save it to ``out``."""
    model = train((row["text"], corrected) for row, corrected in corrected_mentions(engine))
    model.save(out)
    return model
