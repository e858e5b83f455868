"""Rows of a CSV or JSON Lines file, with line numbers: what ``import``, ``label --file`` and
``triage-train --from`` read.

The format comes from the file name (``.jsonl``, ``.ndjson``, ``.json``: JSON Lines, one object
per line; anything else: CSV with a header row) unless the caller names it. Each row comes with
its line number. A line that is not a JSON object becomes a :class:`RowError` and the reading
goes on; a file that cannot be read at all (missing, no header, a header the caller rejects)
raises the caller's error class, so each command keeps its own message and exception.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")


class RowFileError(ValueError):
    """The file as a whole cannot be read."""


@dataclass(frozen=True, slots=True)
class RowError:
    """A row that could not be used: its line number and why."""

    line: int
    reason: str


def file_format(path: Path, fmt: str | None = None, *, error: type[ValueError] = RowFileError) -> str:
    """``"csv"`` or ``"jsonl"``: ``fmt`` when given, else from the file's suffix."""
    kind = fmt or ("jsonl" if path.suffix.lower() in JSONL_SUFFIXES else "csv")
    if kind not in ("csv", "jsonl"):
        raise error(f"unknown format {kind!r}: use csv or jsonl")
    return kind


def read_rows(
    path: Path,
    fmt: str | None = None,
    *,
    error: type[ValueError] = RowFileError,
    check_header: Callable[[Sequence[str]], None] | None = None,
) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """``(line number, row or RowError)`` for every non-blank row.

    CSV rows are the header's columns as written; ``check_header`` may reject the header (it
    raises). ``error`` is the exception raised for a file that cannot be read at all.
    """
    kind = file_format(path, fmt, error=error)
    if not path.is_file():
        raise error(f"no such file: {path}")
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        if kind == "jsonl":
            for n, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield n, RowError(n, f"not valid JSON ({exc.msg} at column {exc.colno})")
                    continue
                yield n, obj if isinstance(obj, dict) else RowError(n, "a line must be a JSON object")
            return
        reader = csv.DictReader(handle)
        if not reader.fieldnames:
            raise error(f"{path}: empty file or no header row")
        if check_header is not None:
            check_header(reader.fieldnames)
        for row in reader:
            yield reader.line_num, row


def count_rows(path: Path) -> int:
    """Rough row count for a progress bar: lines, less the header for CSV."""
    with path.open("rb") as fh:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
    return max(0, lines - (0 if path.suffix.lower() in JSONL_SUFFIXES else 1))
