"""Precision, recall and F1 per label of triage's predictions against agents' corrected labels."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from monitor.triage.model import LABELS


@dataclass(frozen=True, slots=True)
class LabelScore:
    """One label's counts and scores; a score is None when it is undefined (nothing to divide by)."""

    label: str
    true_positives: int
    predicted: int
    actual: int

    @property
    def precision(self) -> float | None:
        return self.true_positives / self.predicted if self.predicted else None

    @property
    def recall(self) -> float | None:
        return self.true_positives / self.actual if self.actual else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None or p + r == 0:
            return None if p is None or r is None else 0.0
        return 2 * p * r / (p + r)


@dataclass(frozen=True, slots=True)
class EvalReport:
    """Per-label scores over ``total`` (predicted, true) pairs, plus overall accuracy."""

    total: int
    correct: int
    labels: tuple[LabelScore, ...]
    # (predicted, true) -> count, for the confusion table.
    confusion: tuple[tuple[str, str, int], ...]

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.total if self.total else None

    def score(self, label: str) -> LabelScore:
        """The scores of ``label`` (all zero counts if it never occurred)."""
        for s in self.labels:
            if s.label == label:
                return s
        return LabelScore(label, 0, 0, 0)

    def format(self) -> str:
        """A plain-text table for the terminal."""
        if not self.total:
            return "No corrected labels yet: correct some triage labels, then run triage-eval again."
        lines = [
            f"{self.total} corrected mentions, {self.correct} labelled right "
            f"(accuracy {_pct(self.accuracy)})",
            "",
            f"{'label':<10} {'precision':>9} {'recall':>7} {'F1':>6} {'predicted':>9} {'actual':>6}",
        ]
        for s in self.labels:
            lines.append(
                f"{s.label:<10} {_pct(s.precision):>9} {_pct(s.recall):>7} {_num(s.f1):>6} "
                f"{s.predicted:>9} {s.actual:>6}"
            )
        misses = [(p, t, n) for p, t, n in self.confusion if p != t]
        if misses:
            lines += ["", "most common mistakes (predicted -> corrected):"]
            for p, t, n in misses[:5]:
                lines.append(f"  {p} -> {t}: {n}")
        return "\n".join(lines)


def evaluate(pairs: Iterable[tuple[str, str]]) -> EvalReport:
    """Score (predicted label, true label) pairs; labels outside the known set are reported too."""
    counts: Counter[tuple[str, str]] = Counter()
    for predicted, true in pairs:
        counts[(predicted, true)] += 1
    total = sum(counts.values())
    correct = sum(n for (p, t), n in counts.items() if p == t)
    seen = {p for p, _ in counts} | {t for _, t in counts}
    order = [label for label in LABELS if label in seen] + sorted(seen - set(LABELS))
    scores = tuple(
        LabelScore(
            label,
            counts.get((label, label), 0),
            sum(n for (p, _), n in counts.items() if p == label),
            sum(n for (_, t), n in counts.items() if t == label),
        )
        for label in order
    )
    confusion = tuple(sorted(((p, t, n) for (p, t), n in counts.items()), key=lambda x: (-x[2], x[0], x[1])))
    return EvalReport(total, correct, scores, confusion)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"
