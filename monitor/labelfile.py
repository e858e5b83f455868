"""Label files: the team's labels in bulk, as CSV or JSON Lines.

Two uses:

* ``mention-monitor label --file labels.csv`` — stored mentions, named by ``id`` (or
  ``mention_id``) or by ``platform`` + ``external_id``, with a ``label`` and an optional
  ``severity`` (severe, moderate, mild). See :func:`read_label_file`.
* ``mention-monitor triage-train --from FILE`` — any labelled texts (``text`` + ``label``
  columns, names configurable), for training the optional classifier. See :func:`read_training_file`.

A bad row becomes a :class:`RowError` with its line number and reason; it never stops the
file. A file that cannot be read at all (no header, missing columns: checked on the CSV header
or on the first JSON object) raises :class:`LabelFileError` naming the file and what to do,
before any row is yielded.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.rowfile import JSONL_SUFFIXES, RowError, read_rows
from monitor.triage.model import LABELS, SEVERITIES

# Values of a yes/no complaint column, read as "complaint" / "neutral".
_YES = {"1", "true", "yes", "y", "complaint"}
_NO = {"0", "false", "no", "n", "not", "non-complaint", "not_complaint", "none"}


# Fewer rows than this of either side (complaint / the rest) and a model learns nothing usable.
MIN_PER_CLASS = 10


class LabelFileError(ValueError):
    """The file as a whole cannot be used."""


@dataclass(frozen=True, slots=True)
class LabelRow:
    """One row of a label file for stored mentions."""

    line: int
    mention_id: int | None
    platform: str
    external_id: str
    label: str
    severity: str | None = None


@dataclass(frozen=True, slots=True)
class TrainingRow:
    line: int
    text: str
    label: str


def _rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """(line, row with lower-case keys) for a CSV (header row) or JSON Lines file (by extension)."""
    for line, row in read_rows(path, error=LabelFileError):
        if not isinstance(row, RowError):
            row = {str(k or "").strip().lower(): v for k, v in row.items()}
        yield line, row


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def normalise_label(value: Any) -> str:
    """A label as triage names it; yes/no complaint columns become complaint/neutral."""
    raw = _text(value).lower()
    if raw in LABELS:
        return raw
    if raw in _YES:
        return "complaint"
    if raw in _NO:
        return "neutral"
    raise ValueError(f"label {raw!r} is not one of {', '.join(LABELS)} (or yes/no, 1/0 for complaint)")


def _check_columns(path: Path, row: dict[str, Any], wanted: list[str], hint: str) -> None:
    """Raise :class:`LabelFileError` when the first row (the CSV header, or the first JSON object)
    lacks one of ``wanted``: every row would fail for the same reason."""
    missing = [c for c in wanted if c.strip().lower() not in row]
    if missing:
        jsonl = path.suffix.lower() in JSONL_SUFFIXES
        where = "key" if jsonl else "column"
        first = " in the first object" if jsonl else ""
        raise LabelFileError(
            f"{path}: no {where} {', '.join(repr(c) for c in missing)}{first}; found "
            f"{', '.join(k for k in row if k) or 'nothing'}. {hint}"
        )


_LABEL_HINT = "A label file has id (or platform and external_id), label and optionally severity"


def read_label_file(path: Path) -> Iterator[LabelRow | RowError]:
    """Rows for ``label --file``: id or platform+external_id, label, optional severity.

    Raises :class:`LabelFileError` before any row when the header (or the first JSON object) has
    no ``label`` or nothing to find the mention by, instead of failing every row alike.
    """
    checked = False
    for line, row in _rows(path):
        if isinstance(row, RowError):
            yield row
            continue
        if not checked:
            _check_columns(path, row, ["label"], _LABEL_HINT)
            if not ({"id", "mention_id"} & row.keys() or {"platform", "external_id"} <= row.keys()):
                found = ", ".join(k for k in row if k) or "nothing"
                raise LabelFileError(
                    f"{path}: no column to find the mention by (id, mention_id, or platform and "
                    f"external_id); found {found}. {_LABEL_HINT}"
                )
            checked = True
        try:
            label = normalise_label(row.get("label"))
            severity = _text(row.get("severity")).lower() or None
            if severity is not None and severity not in SEVERITIES:
                raise ValueError(f"severity {severity!r} is not one of {', '.join(SEVERITIES)} (or empty)")
            raw_id = _text(row.get("id") or row.get("mention_id"))
            if raw_id.endswith(".0") and raw_id[:-2].isdigit():  # pandas writes ids with a gap as floats
                raw_id = raw_id[:-2]
            platform, external = _text(row.get("platform")).lower(), _text(row.get("external_id"))
            if raw_id:
                if not raw_id.isdigit():
                    raise ValueError(f"id {raw_id!r} is not a mention id (a number)")
                yield LabelRow(line, int(raw_id), platform, external, label, severity)
            elif platform and external:
                yield LabelRow(line, None, platform, external, label, severity)
            else:
                raise ValueError("needs an id, or platform and external_id, to find the mention")
        except ValueError as exc:
            yield RowError(line, str(exc))


def read_training_file(
    path: Path, *, text_column: str = "text", label_column: str = "label"
) -> Iterator[TrainingRow | RowError]:
    """(text, label) rows of any labelled CSV/JSONL file; column names are case-insensitive."""
    text_key, label_key = text_column.strip().lower(), label_column.strip().lower()
    checked = False
    for line, row in _rows(path):
        if isinstance(row, RowError):
            yield row
            continue
        if not checked:
            _check_columns(
                path, row, [text_column, label_column], "Name them with --text-column/--label-column"
            )
            checked = True
        text = _text(row.get(text_key))
        if not text:
            yield RowError(line, f"{text_column} is missing or empty")
            continue
        try:
            yield TrainingRow(line, text, normalise_label(row.get(label_key)))
        except ValueError as exc:
            yield RowError(line, str(exc))


def training_problem(examples: list[tuple[str, str]], label_column: str = "label") -> str | None:
    """Why ``examples`` (text, label) cannot train a complaint model, or None when they can.

    The model learns complaint against the rest, so it needs both, and at least
    :data:`MIN_PER_CLASS` of each.
    """
    complaints = sum(1 for _, label in examples if label == "complaint")
    others = len(examples) - complaints
    if not examples:
        return (
            f"no usable row (see the lines above; is --label-column {label_column!r} the column with the "
            "labels?)"
        )
    if others == 0:
        return (
            f"all {complaints:,} usable rows are complaints: the model learns complaints against the rest "
            f"and needs both (is --label-column {label_column!r} the right column?)"
        )
    if complaints == 0:
        seen = Counter(label for _, label in examples)
        found = ", ".join(f"{label} {n:,}" for label, n in seen.most_common())
        return (
            f"none of the {others:,} usable rows is a complaint ({found}): the model learns complaints "
            f"against the rest and needs both (is --label-column {label_column!r} the right column?)"
        )
    if min(complaints, others) < MIN_PER_CLASS:
        return (
            f"only {complaints:,} complaint(s) and {others:,} other row(s): a model needs at least "
            f"{MIN_PER_CLASS} of each to learn anything (a few hundred to help triage)"
        )
    return None
