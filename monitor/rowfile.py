"""Rows of a CSV or JSON Lines file, with line numbers: what ``import``, ``label --file`` and
``triage-train --from`` read.

The format comes from the file name (``.jsonl``, ``.ndjson``, ``.json``: JSON Lines, one object
per line; anything else: CSV with a header row) unless the caller names it. A CSV file may be
separated by semicolons or tabs (what spreadsheets in many locales save) when its header has
no comma. Each row comes with its line number. A line that is not a JSON object, or a CSV row
with more values than the header has columns, becomes a :class:`RowError` and the reading goes
on; a file that cannot be read at all (missing, a directory, not UTF-8, no header, a header the
caller rejects) raises the caller's error class before any row is yielded, so each command keeps
its own message and exception and applies nothing from such a file.
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


def check_file(path: Path, *, error: type[ValueError] = RowFileError) -> None:
    """Raise ``error`` unless ``path`` is a readable UTF-8 file (a BOM is fine), naming the first bad line.

    Read once up front, so that a command stops before it applies any row of a file it could not
    finish reading (a spreadsheet saved as Latin-1 fails on its first accented letter, which may
    be thousands of rows in).
    """
    if path.is_dir():
        raise error(f"{path} is a directory, not a file: give the CSV or JSON Lines file itself")
    if not path.is_file():
        raise error(f"no such file: {path}")
    try:
        with path.open("rb") as fh:
            for n, raw in enumerate(fh, start=1):
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise error(
                        f"{path}: line {n} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at column "
                        f'{exc.start + 1}); save the file as UTF-8 (in a spreadsheet: "CSV UTF-8") '
                        "and run again (nothing in it was used)"
                    ) from None
    except OSError as exc:
        raise error(f"{path}: cannot read it ({exc.strerror or exc})") from None


def _delimiter(header: str) -> str:
    """``,`` unless the header line has no comma but semicolons or tabs."""
    if "," in header:
        return ","
    counts = {d: header.count(d) for d in (";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


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
    check_file(path, error=error)
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        if kind == "jsonl":
            empty = True
            for n, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                empty = False
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield n, RowError(n, f"not valid JSON ({exc.msg} at column {exc.colno})")
                    continue
                yield n, obj if isinstance(obj, dict) else RowError(n, "a line must be a JSON object")
            if empty:
                raise error(f"{path}: empty file (JSON Lines: one object per line)")
            return
        delimiter = _delimiter(handle.readline())
        handle.seek(0)
        reader = csv.DictReader(handle, delimiter=delimiter)
        if not reader.fieldnames:
            raise error(f"{path}: empty file or no header row")
        if check_header is not None:
            check_header(reader.fieldnames)
        columns = len(reader.fieldnames)
        for row in reader:
            extra = row.pop(None, None)  # values beyond the header's columns
            if extra and any(str(v).strip() for v in extra):
                sep = "a comma" if delimiter == "," else ("a semicolon" if delimiter == ";" else "a tab")
                yield (
                    reader.line_num,
                    RowError(
                        reader.line_num,
                        f"{columns + len(extra)} values for {columns} columns: a value with {sep} "
                        "in it must be in double quotes",
                    ),
                )
                continue
            yield reader.line_num, row


def count_rows(path: Path) -> int:
    """Rough row count for a progress bar: lines, less the header for CSV."""
    lines, last = 0, b"\n"
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    if last != b"\n":  # a last line without a newline is a row too
        lines += 1
    return max(0, lines - (0 if path.suffix.lower() in JSONL_SUFFIXES else 1))
