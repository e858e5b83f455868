"""Import historical mentions from CSV or JSON Lines through the normal triage and store path.

Known columns: text, author, created_at, platform, external_id, url, followers
(plus optional author_name, language, in_reply_to_id, conversation_id,
in_reply_to_user, addressed_to_brand); every other column is kept in the
mention's raw payload. Whether a post is aimed at the brand is worked out as the
sources do: it @-mentions or replies to one of the brand's configured handles
(an explicit ``addressed_to_brand`` column wins). Re-importing a file adds
nothing twice: rows without an external_id get a stable one derived from their
content. A bad row is reported with its line number and reason and skipped;
the file itself is never changed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor import rowfile
from monitor.brand import BrandSettings
from monitor.mention import Mention
from monitor.pipeline import IngestResult, Pipeline
from monitor.rowfile import RowError

KNOWN = {
    "text",
    "author",
    "created_at",
    "platform",
    "external_id",
    "url",
    "followers",
    "author_name",
    "language",
    "in_reply_to_id",
    "conversation_id",
    "in_reply_to_user",
    "addressed_to_brand",
}
# "@name", "@name.bsky.social", "@name@instance.social" (Mastodon); "u/name" (Reddit).
_MENTION = re.compile(r"(?<![\w@])[@＠]([\w.]+(?:@[\w.-]+)?)")
_REDDIT_USER = re.compile(r"(?<![\w/])/?u/([\w-]+)", re.IGNORECASE)
_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f", ""}
_FORMATS = ("%a %b %d %H:%M:%S %z %Y", "%Y-%m-%d %H:%M:%S %z", "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M")


class ImportFormatError(ValueError):
    """The file as a whole cannot be read (unknown format, no header, missing required columns)."""


@dataclass
class ImportReport:
    rows: int = 0
    result: IngestResult = field(default_factory=IngestResult)
    errors: list[RowError] = field(default_factory=list)
    interrupted: bool = False  # Ctrl-C: ``result`` counts the batches stored before it


def parse_time(value: Any) -> datetime:
    """ISO 8601, epoch seconds, Twitter's ``Mon Dec 01 19:30:03 +0000 2014`` and a few common forms."""
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.strip().isdigit()):
        return datetime.fromtimestamp(float(value), UTC)
    text = str(value).strip()
    if not text:
        raise ValueError("created_at is empty")
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        for fmt in _FORMATS:
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            raise ValueError(
                f"created_at {text!r} is not a date/time (use ISO 8601, e.g. 2026-11-01T09:30:00Z)"
            )
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def brand_handles(brand: BrandSettings | None, platform: str) -> set[str]:
    """The brand's handles for ``platform`` (all platforms' handles when it has none listed), lower case."""
    if brand is None:
        return set()
    own = brand.own_handles(platform)
    if own:
        return own
    return {h.strip().lstrip("@").lower() for hs in brand.handles.values() for h in hs}


def is_addressed(text: str, reply_to: str | None, handles: set[str]) -> bool:
    """True when ``text`` @-mentions one of ``handles`` or the post replies to one (as sources decide).

    Forms: ``@acme``, ``@acme.bsky.social``, ``@acme@mastodon.social`` and Reddit's ``u/acme``.
    A configured Mastodon handle ``acme@mastodon.social`` is also mentioned by a local ``@acme``
    (how people on the brand's instance write it), not by ``@acme@other.example``.
    """
    if not handles:
        return False
    if reply_to and reply_to.strip().lstrip("@").lower() in handles:
        return True
    local = {h.split("@")[0] for h in handles if "@" in h}
    for name in _MENTION.findall(text):
        name = name.lower().rstrip(".-")
        if name in handles:
            return True
        user, _, instance = name.partition("@")
        # "@acme.bsky.social" and "@acme@mastodon.social" count for a configured "acme" too.
        if user.split(".")[0] in handles:
            return True
        if not instance and user in local:
            return True
    return any(name.lower() in handles for name in _REDDIT_USER.findall(text))


def row_to_mention(
    row: dict[str, Any], *, default_platform: str, brand: BrandSettings | None = None
) -> Mention:
    """One input row → Mention; ``ValueError`` says what is wrong with it."""
    for key in KNOWN:
        value = row.get(key)
        if isinstance(value, (list, dict)):
            kind = "list" if isinstance(value, list) else "object"
            raise ValueError(f"{key} must be text, not a JSON {kind}")
    text = row.get("text")
    if text is None or not str(text).strip():
        raise ValueError("text is missing or empty")
    author = row.get("author")
    if author is None or not str(author).strip():
        raise ValueError("author is missing or empty")
    if row.get("created_at") in (None, ""):
        raise ValueError("created_at is missing")
    created = parse_time(row["created_at"])
    platform = str(row.get("platform") or default_platform).strip().lower()
    followers_raw = row.get("followers")
    followers = None
    if followers_raw not in (None, ""):
        try:
            followers = int(float(followers_raw))
        except (TypeError, ValueError):
            raise ValueError(f"followers {followers_raw!r} is not a number") from None
    external_id = str(row.get("external_id") or "").strip()
    if not external_id:
        digest = hashlib.sha256(f"{platform}\0{author}\0{created.isoformat()}\0{text}".encode()).hexdigest()
        external_id = f"import-{digest[:24]}"
    explicit = row.get("addressed_to_brand")
    if isinstance(explicit, bool):
        addressed = explicit
    elif explicit is not None and str(explicit).strip().lower() in _TRUE | _FALSE - {""}:
        addressed = str(explicit).strip().lower() in _TRUE
    elif explicit is not None and str(explicit).strip():
        raise ValueError(
            f"addressed_to_brand {explicit!r} is not true or false (leave it empty to work it out "
            "from the brand's handles)"
        )
    else:
        reply_to = str(row["in_reply_to_user"]) if row.get("in_reply_to_user") else None
        addressed = is_addressed(str(text), reply_to, brand_handles(brand, platform))
    extra = {k: v for k, v in row.items() if k not in KNOWN and k is not None}
    return Mention(
        platform=platform,
        external_id=external_id,
        text=str(text),
        created_at=created,
        author_handle=str(author).strip().lstrip("@"),
        url=(str(row["url"]).strip() or None) if row.get("url") else None,
        author_name=row.get("author_name") or None,
        author_followers=followers,
        language=row.get("language") or None,
        in_reply_to_id=str(row["in_reply_to_id"]) if row.get("in_reply_to_id") else None,
        conversation_id=str(row["conversation_id"]) if row.get("conversation_id") else None,
        addressed_to_brand=addressed,
        raw={"imported": extra} if extra else {},
    )


def _column(name: Any) -> Any:
    """A known column as this module names it ("Created At" -> created_at); other columns as written."""
    norm = re.sub(r"[\s\-]+", "_", str(name).strip().lower())
    return norm if norm in KNOWN else name


def _required_columns(path: Path) -> Callable[[Sequence[str]], None]:
    def check(fieldnames: Sequence[str]) -> None:
        missing = {"text", "author", "created_at"} - {_column(f) for f in fieldnames}
        if missing:
            raise ImportFormatError(
                f"{path}: missing column(s) {', '.join(sorted(missing))}; "
                f"found {', '.join(fieldnames)}. "
                "Rename the columns (text, author, created_at are required)"
            )

    return check


def read_rows(path: Path, fmt: str | None = None) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """Yield ``(line number, row or RowError)``; raises ImportFormatError for a file it cannot read at all.

    Known columns are matched whatever their case, spacing or dashes (other tools' exports).
    """
    for line, row in rowfile.read_rows(
        path, fmt, error=ImportFormatError, check_header=_required_columns(path)
    ):
        yield line, row if isinstance(row, RowError) else {_column(k): v for k, v in row.items()}


def import_file(
    path: Path,
    pipeline: Pipeline,
    *,
    default_platform: str = "import",
    fmt: str | None = None,
    batch_size: int = 500,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import every good row; bad rows are listed in the report, nothing is half-stored.

    A KeyboardInterrupt stops the import between or inside a batch (the batch in progress is
    rolled back) and returns the report of what was stored, with ``interrupted`` set; importing
    the file again stores the rest and counts the rest as already stored.
    """
    report = ImportReport()
    brand = getattr(getattr(pipeline, "config", None), "brand", None)
    batch: list[Mention] = []
    source = f"import:{path.name}"

    def flush() -> None:
        if batch:
            report.result.add(pipeline.ingest(batch, source=source))
            batch.clear()

    try:
        for line, row in read_rows(path, fmt):
            report.rows += 1
            if isinstance(row, RowError):
                report.errors.append(row)
            else:
                try:
                    batch.append(row_to_mention(row, default_platform=default_platform, brand=brand))
                except ValueError as exc:
                    report.errors.append(RowError(line, str(exc)))
            if len(batch) >= batch_size:
                flush()
            if progress:
                progress(1)
        flush()
    except KeyboardInterrupt:
        report.interrupted = True
    return report


def write_rejects(errors: list[RowError]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["line", "reason"])
    for e in errors:
        w.writerow([e.line, e.reason])
    return buf.getvalue()
