"""Learning from the team: agents' label corrections scored against triage, and trained on.

``triage-eval`` re-runs the current triage settings over every corrected mention
and reports precision/recall per label, and, for the complaints the team rated
(``label … --severity``, a label file's severity column), how triage's severity and
priority agree with the rating (a table, precision/recall per level, and the agreement of the
severity triage had stored, kept on the correction as ``predicted_severity``); ``triage-train``
fits the optional local classifier on those corrections (the team's own labels, nothing else).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from monitor.store import models as m
from monitor.store.queries import to_mention
from monitor.triage import Triager
from monitor.triage.evaluation import EvalReport, LabelScore, evaluate
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


SEVERITIES = ("severe", "moderate", "mild")


@dataclass
class SeverityReport:
    """Triage's severity and priority on the complaints the team rated (latest correction each)."""

    # team severity -> Counter of triage severity ("—" when triage does not call it a complaint)
    agreement: dict[str, Counter[str]] = field(default_factory=lambda: {s: Counter() for s in SEVERITIES})
    # team severity -> Counter of triage priority
    priority: dict[str, Counter[str]] = field(default_factory=lambda: {s: Counter() for s in SEVERITIES})
    # team severity -> Counter of the severity the mention had before the team's first correction
    # (label_correction.predicted_severity: triage's when it stored the mention; "—" none)
    recorded: dict[str, Counter[str]] = field(default_factory=lambda: {s: Counter() for s in SEVERITIES})

    def scores(self) -> tuple[LabelScore, ...]:
        """Per level: precision (of the complaints triage calls it, the share the team rated it) and
        recall (of those the team rated it, the share triage calls it)."""
        return tuple(
            LabelScore(
                level,
                self.agreement[level][level],
                sum(self.agreement[team][level] for team in SEVERITIES),
                sum(self.agreement[level].values()),
            )
            for level in SEVERITIES
        )

    @property
    def rated(self) -> int:
        return sum(sum(c.values()) for c in self.agreement.values())

    def format(self) -> str:
        def share(part: int, whole: int) -> str:
            return f"{part} of {whole} ({part / whole:.0%})" if whole else "0 of 0"

        lines = [f"severity: {self.rated} complaint(s) your team rated", ""]
        lines.append(
            f"{'team says':<10} " + " ".join(f"{h:>9}" for h in (*SEVERITIES, "—", "P1", "P2", "P3"))
        )
        for team in SEVERITIES:
            got, pri = self.agreement[team], self.priority[team]
            cells = [got[s] for s in (*SEVERITIES, "—")] + [pri[p] for p in ("P1", "P2", "P3")]
            lines.append(f"{team:<10} " + " ".join(f"{c:>9}" for c in cells))
        lines.append("(columns: triage's severity, — not a complaint for triage; then triage's priority)")
        severe = self.priority["severe"]
        n = sum(severe.values())
        lines.append(
            f"rated severe in P1: {share(severe['P1'], n)}; in P1/P2: {share(severe['P1'] + severe['P2'], n)}"
        )
        p1 = sum(self.priority[t]["P1"] for t in SEVERITIES)
        lines.append(f"P1 posts your team rated severe: {share(severe['P1'], p1)}")
        lines += ["", f"{'severity':<10} {'precision':>9} {'recall':>7} {'F1':>6} {'triage':>7} {'team':>5}"]
        for sc in self.scores():
            lines.append(
                f"{sc.label:<10} {_pct(sc.precision):>9} {_pct(sc.recall):>7} {_num(sc.f1):>6} "
                f"{sc.predicted:>7} {sc.actual:>5}"
            )
        agreed = sum(self.agreement[s][s] for s in SEVERITIES)
        then = sum(self.recorded[s][s] for s in SEVERITIES)
        stored = sum(sum(c.values()) for c in self.recorded.values())
        lines.append(f"same severity as your team: {share(agreed, self.rated)} with the current settings")
        lines.append(f"  (as triage stored them, before your team's corrections: {share(then, stored)})")
        return "\n".join(lines)


def evaluate_severity(engine: Engine, triager: Triager) -> SeverityReport:
    """The current settings' severity and priority against the team's ratings (latest correction each,
    when it is a complaint with a severity)."""
    corr = m.LabelCorrection.__table__
    ment = m.Mention.__table__
    latest = (
        select(corr.c.mention_id, func.max(corr.c.id).label("cid")).group_by(corr.c.mention_id).subquery()
    )
    first = select(corr.c.mention_id, func.min(corr.c.id).label("fid")).group_by(corr.c.mention_id).subquery()
    before = corr.alias("before")
    q = (
        select(
            ment,
            corr.c.severity.label("team_severity"),
            before.c.predicted_severity.label("stored_severity"),
        )
        .join(latest, latest.c.mention_id == ment.c.id)
        .join(corr, corr.c.id == latest.c.cid)
        .join(first, first.c.mention_id == ment.c.id)
        .join(before, before.c.id == first.c.fid)
        .where(corr.c.corrected == "complaint", corr.c.severity.is_not(None))
        .order_by(ment.c.id)
    )
    report = SeverityReport()
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(q).mappings()]
    for row in rows:
        team = row["team_severity"]
        if team not in report.agreement:
            continue
        verdict = triager.assess(to_mention(row))
        said = verdict.severity if verdict.label == "complaint" and verdict.severity else "—"
        report.agreement[team][said] += 1
        report.priority[team][verdict.priority] += 1
        report.recorded[team][row["stored_severity"] or "—"] += 1
    return report


def _pct(value: float | None) -> str:  # as the label table (monitor.triage.evaluation) writes them
    return "–" if value is None else f"{value:.1%}"


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def train_from_corrections(engine: Engine, out: Path) -> LearnedModel:
    """Fit the local classifier on the corrections and save it to ``out``."""
    model = train((row["text"], corrected) for row, corrected in corrected_mentions(engine))
    model.save(out)
    return model
