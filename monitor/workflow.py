"""The support workflow on stored mentions: acknowledge, assign, claim, reply, resolve, ignore, relabel.

The CLI, signed chat links and the dashboard all call these functions, so every
change is validated the same way and written to the audit log (``event``) with
who and when, in the same transaction as the change itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection, Engine

from monitor.store import tables
from monitor.triage.model import LABELS, SEVERITIES

if TYPE_CHECKING:
    from monitor.triage.settings import TriageSettings


class WorkflowError(ValueError):
    """A workflow request that cannot be done as asked (unknown label, empty assignee…)."""


class Conflict(WorkflowError):
    """Someone else changed the mention since the caller looked: ``what`` was done ``by`` whom ``at`` when.

    The message names them, e.g. "mention 42 already claimed by alice 3 min ago".
    """

    def __init__(
        self,
        what: str,
        by: str,
        at: datetime | None,
        *,
        mention_id: int | None = None,
        now: datetime | None = None,
        hint: str = "",
    ) -> None:
        self.what = what
        self.by = by
        self.at = at
        self.mention_id = mention_id
        subject = f"mention {mention_id}" if mention_id is not None else "this mention"
        ago = f" {_ago(at, _now(now))}" if at is not None else ""
        super().__init__(f"{subject} already {what} by {by}{ago}{'; ' + hint if hint else ''}")


def _ago(at: datetime, now: datetime) -> str:
    seconds = max(0, int((now - at).total_seconds()))
    if seconds < 60:
        return "just now" if seconds < 5 else f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} d ago"


@dataclass(frozen=True, slots=True)
class Outcome:
    mention_id: int
    result: str  # "changed" | "unchanged" | "missing" | "refused" (a label file's row that cannot apply)
    status: str | None = None
    detail: str = ""
    version: int | None = None  # the mention's version after the action (for expect_version)


# Which statuses each action may leave; anything else is reported "unchanged".
_FROM = {
    "acknowledge": {"new"},
    "resolve": {"new", "acknowledged", "replied"},
    "ignore": {"new", "acknowledged", "replied", "resolved"},
    "reopen": {"resolved", "ignored"},
    "replied": {"new", "acknowledged"},
}
_TO = {
    "acknowledge": "acknowledged",
    "resolve": "resolved",
    "ignore": "ignored",
    "reopen": "acknowledged",
    "replied": "replied",
}


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _event(conn: Connection, mention_id: int, action: str, actor: str, at: datetime, **detail: Any) -> None:
    conn.execute(
        tables.event.insert().values(mention_id=mention_id, action=action, actor=actor, at=at, detail=detail)
    )


def transition(
    engine: Engine,
    ids: Iterable[int],
    action: str,
    *,
    actor: str,
    now: datetime | None = None,
    note: str | None = None,
    expect_version: int | None = None,
) -> list[Outcome]:
    """Move mentions through the workflow; one outcome per id, in the order given.

    ``expect_version`` (the version the caller's screen showed) raises :class:`Conflict`
    naming the last change when the mention changed since.
    """
    if action not in _TO:
        raise WorkflowError(f"unknown action {action!r}; use one of {', '.join(sorted(_TO))}")
    at = _now(now)
    table = tables.mention
    outcomes = []
    with engine.begin() as conn:
        for mention_id in ids:
            row = conn.execute(
                select(table.c.id, table.c.status, table.c.acknowledged_at, table.c.version).where(
                    table.c.id == mention_id
                )
            ).first()
            if row is None:
                outcomes.append(Outcome(mention_id, "missing", detail=f"no mention with id {mention_id}"))
                continue
            _stale(conn, row, expect_version, at)
            if row.status not in _FROM[action]:
                outcomes.append(
                    Outcome(mention_id, "unchanged", row.status, f"already {row.status}", row.version)
                )
                continue
            target = _TO[action]
            values: dict[str, Any] = {"status": target, "updated_at": at, "version": table.c.version + 1}
            if row.acknowledged_at is None and target in ("acknowledged", "replied", "resolved"):
                values["acknowledged_at"] = at
            # first_response_at is not set here: only a reply the platform confirmed stops that clock
            # (see reply_confirmed); marking "replied" by hand records the status only.
            if target == "resolved":
                values["resolved_at"] = at
            elif action == "reopen":
                values["resolved_at"] = None  # open again: time-to-resolve counts from the next resolve
            conn.execute(update(table).where(table.c.id == mention_id).values(**values))
            _event(
                conn,
                mention_id,
                action,
                actor,
                at,
                before=row.status,
                after=target,
                **({"note": note} if note else {}),
            )
            outcomes.append(Outcome(mention_id, "changed", target, version=row.version + 1))
    return outcomes


def acknowledge(
    engine: Engine,
    ids: Iterable[int],
    *,
    actor: str,
    now: datetime | None = None,
    expect_version: int | None = None,
) -> list[Outcome]:
    return transition(engine, ids, "acknowledge", actor=actor, now=now, expect_version=expect_version)


def resolve(
    engine: Engine,
    ids: Iterable[int],
    *,
    actor: str,
    now: datetime | None = None,
    note: str | None = None,
    expect_version: int | None = None,
) -> list[Outcome]:
    return transition(engine, ids, "resolve", actor=actor, now=now, note=note, expect_version=expect_version)


def ignore(
    engine: Engine,
    ids: Iterable[int],
    *,
    actor: str,
    now: datetime | None = None,
    note: str | None = None,
    expect_version: int | None = None,
) -> list[Outcome]:
    return transition(engine, ids, "ignore", actor=actor, now=now, note=note, expect_version=expect_version)


def assign(
    engine: Engine,
    ids: Iterable[int],
    assignee: str,
    *,
    actor: str,
    now: datetime | None = None,
    expect_version: int | None = None,
) -> list[Outcome]:
    """Give mentions an owner (empty string or ``-`` clears it). Status is left as it is."""
    who: str | None = assignee.strip()
    if who in ("", "-"):
        who = None
    at = _now(now)
    table = tables.mention
    outcomes = []
    with engine.begin() as conn:
        for mention_id in ids:
            row = conn.execute(
                select(table.c.id, table.c.status, table.c.assignee, table.c.version).where(
                    table.c.id == mention_id
                )
            ).first()
            if row is None:
                outcomes.append(Outcome(mention_id, "missing", detail=f"no mention with id {mention_id}"))
                continue
            _stale(conn, row, expect_version, at)
            if row.assignee == who:
                outcomes.append(
                    Outcome(
                        mention_id,
                        "unchanged",
                        row.status,
                        f"already assigned to {who or 'nobody'}",
                        row.version,
                    )
                )
                continue
            conn.execute(
                update(table)
                .where(table.c.id == mention_id)
                .values(assignee=who, updated_at=at, version=table.c.version + 1)
            )
            _event(conn, mention_id, "assign", actor, at, before=row.assignee, after=who)
            outcomes.append(
                Outcome(mention_id, "changed", row.status, f"assigned to {who or 'nobody'}", row.version + 1)
            )
    return outcomes


def correct_label(
    engine: Engine,
    mention_id: int,
    label: str,
    *,
    actor: str,
    now: datetime | None = None,
    expect_version: int | None = None,
    severity: str | None = None,
    triage: TriageSettings | None = None,
) -> Outcome:
    """Correct the triage label (and a complaint's severity): the mention shows the team's judgement.

    Every real change is also a ``label_correction`` row (evaluation and training data) that keeps
    what the mention had before (``predicted``, ``predicted_severity``: triage's, unless the team
    corrected it earlier), so ``triage-eval`` can compare the two. ``severity`` (severe, moderate,
    mild) is the team's severity of a complaint and becomes the mention's, as a label file's
    severity column does; it goes with the label ``complaint`` only. Another label clears the
    mention's severity (a complaint relabelled spam loses its badge); ``complaint`` without a
    severity keeps the one the mention has.

    The urgency and priority follow the label too (:func:`_ranked`): spam, praise and neutral get
    the urgency triage gives that label (its base in ``triage`` — the config's triage settings,
    defaults when None — P3 with the defaults), so a post the team called spam leaves the top of
    "most urgent first", the P1 counts and escalation. Triage's values stay in the audit event.
    """
    _check_label(label, severity)
    at = _now(now)
    with engine.begin() as conn:
        return _relabel(
            conn,
            mention_id,
            label,
            actor=actor,
            at=at,
            expect_version=expect_version,
            severity=severity,
            triage=triage,
        )


def correct_labels(
    engine: Engine,
    ids: Iterable[int],
    label: str,
    *,
    actor: str,
    now: datetime | None = None,
    severity: str | None = None,
    triage: TriageSettings | None = None,
) -> list[Outcome]:
    """:func:`correct_label` for many mentions in one transaction; one outcome per id, in order."""
    _check_label(label, severity)
    at = _now(now)
    with engine.begin() as conn:
        return [
            _relabel(conn, mention_id, label, actor=actor, at=at, severity=severity, triage=triage)
            for mention_id in ids
        ]


def _check_label(label: str, severity: str | None) -> None:
    if label not in LABELS:
        raise WorkflowError(f"unknown label {label!r}; use one of {', '.join(LABELS)}")
    if severity is not None and severity not in SEVERITIES:
        raise WorkflowError(f"unknown severity {severity!r}; use one of {', '.join(SEVERITIES)}")
    if severity is not None and label != "complaint":
        raise WorkflowError(_SEVERITY_ALONE.format(label=label))


_SEVERITY_ALONE = "a severity goes with the label complaint, not {label}; give {label} without one"


def _severity_said(given: str | None, before: str | None, after: str | None) -> str:
    """How an outcome names the severity: the team's rating, and what it replaced on the mention."""
    if after == before:
        return f", severity {given}" if given else ""
    if after is None:
        return f", no severity (was {before})"
    return f", severity {after}" + (f" (was {before})" if before else "")


def _relabel(
    conn: Connection,
    mention_id: int,
    label: str,
    *,
    actor: str,
    at: datetime,
    expect_version: int | None = None,
    severity: str | None = None,
    triage: TriageSettings | None = None,
) -> Outcome:
    table = tables.mention
    corrections = tables.label_correction
    row = conn.execute(
        select(
            table.c.id,
            table.c.label,
            table.c.severity,
            table.c.urgency,
            table.c.priority,
            table.c.status,
            table.c.version,
        ).where(table.c.id == mention_id)
    ).first()
    if row is None:
        return Outcome(mention_id, "missing", detail=f"no mention with id {mention_id}")
    _stale(conn, row, expect_version, at)
    if severity is not None and label != "complaint":  # a label file's row (the one-id forms check first)
        return Outcome(mention_id, "refused", row.status, _SEVERITY_ALONE.format(label=label), row.version)
    # The mention shows the team's judgement: only a complaint has a severity, the team's when
    # given, else the one it has (triage's, or an earlier rating).
    rated = (severity or row.severity) if label == "complaint" else None
    if row.label == label and rated == row.severity:
        # The mention does not change, so no audit event. The first agent's word on a label triage
        # got right is recorded once (triage-eval needs the right answers too, not only the
        # mistakes); after that, repeating it writes nothing.
        # The same severity as the latest correction is a repeat too (a label file run twice, or
        # after an interruption): recording it again would double the audit trail.
        judged = conn.execute(
            select(corrections.c.corrected, corrections.c.severity)
            .where(corrections.c.mention_id == mention_id)
            .order_by(corrections.c.id.desc())
            .limit(1)
        ).first()
        if judged is not None and (
            severity is None or (judged.corrected == label and judged.severity == severity)
        ):
            return Outcome(mention_id, "unchanged", row.status, f"already labelled {label}", row.version)
        said = f", severity {severity}" if severity else ""
        conn.execute(
            corrections.insert().values(
                mention_id=mention_id,
                predicted=label,
                corrected=label,
                actor=actor,
                at=at,
                severity=severity,
                predicted_severity=row.severity,
            )
        )
        # "changed": something was recorded (callers count it like any other relabel).
        return Outcome(
            mention_id,
            "changed",
            row.status,
            f"label {label}{said} confirmed (counts for triage-eval)",
            row.version,
        )
    conn.execute(
        corrections.insert().values(
            mention_id=mention_id,
            predicted=row.label,
            corrected=label,
            actor=actor,
            at=at,
            severity=severity,
            predicted_severity=row.severity,
        )
    )
    urgency, priority = _ranked(triage or _default_triage(), label, rated, row.urgency, row.priority)
    conn.execute(
        update(table)
        .where(table.c.id == mention_id)
        .values(
            label=label,
            severity=rated,
            urgency=urgency,
            priority=priority,
            updated_at=at,
            version=table.c.version + 1,
        )
    )
    # Triage's urgency and priority (or an earlier relabel's) stay in the event, so nothing is lost.
    ranked: dict[str, Any] = {}
    if (urgency, priority) != (row.urgency, row.priority):
        ranked = {
            "priority_before": row.priority,
            "priority_after": priority,
            "urgency_before": row.urgency,
            "urgency_after": urgency,
        }
    if row.label != label:
        moved = {"severity_before": row.severity, "severity_after": rated} if rated != row.severity else {}
        _event(conn, mention_id, "relabel", actor, at, before=row.label, after=label, **moved, **ranked)
    else:  # the same label, another severity
        _event(
            conn, mention_id, "severity", actor, at, before=row.severity, after=rated, label=label, **ranked
        )
    said = _severity_said(severity, row.severity, rated)
    if priority != row.priority:
        said += f", {priority or 'no priority'}" + (f" (was {row.priority})" if row.priority else "")
    return Outcome(mention_id, "changed", row.status, f"label {label}{said}", row.version + 1)


# Labels that ask nothing of the team: a relabel to one of them puts the mention where triage puts
# that label (its base urgency, no severity), whatever triage had made of it as a complaint.
_NO_ACTION = frozenset({"spam", "praise", "neutral"})


@cache
def _default_triage() -> TriageSettings:
    from monitor.triage.settings import TriageSettings

    return TriageSettings()


def _ranked(
    triage: TriageSettings, label: str, severity: str | None, urgency: int | None, priority: str | None
) -> tuple[int | None, str | None]:
    """The urgency and priority of a mention the team labelled ``label`` (``severity``: the mention's).

    - spam, praise, neutral: the base urgency of that label (``triage.urgency.base_*``) and the
      priority it gives (P3 with the defaults); the context triage added for a complaint (severity,
      escalation terms, reach, history) no longer applies: the team said nothing is to be done.
    - complaint, question, unscored: never lowered (triage's context — reach, history, thread —
      still holds), but at least that label's base, plus ``severe_points`` for a complaint the
      team rates severe (what a severe reading adds in triage): a praise the team calls a severe
      complaint reaches P2 with the defaults. A relabel never raises a mention to P1 (P1 pages
      now, and the person relabelling is already looking at it); a P1 stays P1.
    """
    u = triage.urgency
    base = u.base(label)
    if label == "complaint" and severity == "severe":
        base += round(u.severe_points * u.severity_scale)
    # At most P2 from a relabel, as triage caps a post not aimed at the brand.
    base = min(max(0, base), triage.highest_p2)
    level = "P2" if base >= triage.p2_urgency else "P3"  # never P1, even when p1 == p2
    if label in _NO_ACTION:
        return base, level
    if urgency is not None and urgency >= base:
        return urgency, priority or level
    return base, min(priority or "P3", level)  # "P1" < "P2" < "P3": the more urgent one


# -- bulk forms: many ids, one transaction per chunk ------------------------------------------------

BULK_CHUNK = 500
BULK_ACTIONS = ("acknowledge", "resolve", "ignore", "reopen", "assign", "label")


@dataclass
class BulkSummary:
    """What a bulk action did: counts by result, and the ids that do not exist."""

    action: str
    changed: int = 0
    unchanged: int = 0
    missing: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.changed + self.unchanged + len(self.missing)


def bulk(
    engine: Engine,
    ids: Iterable[int],
    action: str,
    *,
    actor: str,
    now: datetime | None = None,
    note: str | None = None,
    assignee: str | None = None,
    label: str | None = None,
    chunk: int = BULK_CHUNK,
    triage: TriageSettings | None = None,
) -> BulkSummary:
    """Apply ``action`` to every id, ``chunk`` ids per transaction (a failure keeps earlier chunks).

    The same validation and audit events as the one-id functions; duplicates in ``ids`` count once.
    ``triage``: the config's triage settings, for the priority a relabel gives (see :func:`correct_label`).
    """
    if action not in BULK_ACTIONS:
        raise WorkflowError(f"unknown action {action!r}; use one of {', '.join(BULK_ACTIONS)}")
    if action == "assign" and assignee is None:
        raise WorkflowError("assign needs an assignee ('-' clears the owner)")
    if action == "label" and (label is None or label not in LABELS):
        raise WorkflowError(f"unknown label {label!r}; use one of {', '.join(LABELS)}")
    at = _now(now)
    summary = BulkSummary(action)
    todo = list(dict.fromkeys(ids))
    for start in range(0, len(todo), chunk):
        part = todo[start : start + chunk]
        if action == "assign":
            outcomes = assign(engine, part, assignee or "", actor=actor, now=at)
        elif action == "label":
            outcomes = correct_labels(engine, part, label or "", actor=actor, now=at, triage=triage)
        else:
            outcomes = transition(engine, part, action, actor=actor, now=at, note=note)
        for o in outcomes:
            if o.result == "changed":
                summary.changed += 1
            elif o.result == "unchanged":
                summary.unchanged += 1
            else:
                summary.missing.append(o.mention_id)
    return summary


@dataclass
class LabelFileReport:
    """What ``label --file`` did: counts, and the rows that could not be applied (line, reason).

    ``interrupted``: Ctrl-C stopped it; the counts are those of the chunks committed before.
    """

    changed: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    interrupted: bool = False


def apply_label_rows(
    engine: Engine,
    rows: Iterable[Any],
    *,
    actor: str,
    now: datetime | None = None,
    chunk: int = BULK_CHUNK,
    progress: Any = None,
    triage: TriageSettings | None = None,
) -> LabelFileReport:
    """Apply a label file's rows (:class:`monitor.labelfile.LabelRow`), one transaction per ``chunk``.

    A row names its mention by ``mention_id`` or by ``platform`` + ``external_id``; a mention
    that does not exist is an error for that row (by line), and the other rows still apply.
    A mention named again later in the file with another label or severity is an error for the
    later row (the first stands); an exact repeat counts as unchanged.
    ``progress(n)`` is called after each chunk with the number of rows done. A KeyboardInterrupt
    rolls back the chunk in progress and returns the report of the committed chunks with
    ``interrupted`` set; running the file again applies the rest (the rest only: rows already
    applied count as unchanged). ``triage``: the config's triage settings (see :func:`correct_label`).
    """
    at = _now(now)
    report = LabelFileReport()
    table = tables.mention
    batch: list[Any] = []
    seen: dict[int, tuple[int, str, str | None]] = {}  # mention id -> (line, label, severity)

    def flush() -> None:
        if not batch:
            return
        part = LabelFileReport()  # counted into the report only once its transaction commits
        marked: dict[int, tuple[int, str, str | None]] = {}
        with engine.begin() as conn:
            keys = {(r.platform, r.external_id) for r in batch if r.mention_id is None}
            found: dict[tuple[str, str], int] = {}
            for platform in {p for p, _ in keys}:
                wanted = [e for p, e in keys if p == platform]
                for i in range(0, len(wanted), 500):
                    q = select(table.c.id, table.c.external_id).where(
                        table.c.platform == platform, table.c.external_id.in_(wanted[i : i + 500])
                    )
                    found.update({(platform, r.external_id): r.id for r in conn.execute(q)})
            # Keys not found: is the post stored under another platform name ("twitter" for "x")?
            lost = sorted({e for p, e in keys if (p, e) not in found})
            elsewhere: dict[str, list[str]] = {}
            for i in range(0, len(lost), 500):
                q = select(table.c.platform, table.c.external_id).where(
                    table.c.external_id.in_(lost[i : i + 500])
                )
                for hit in conn.execute(q):
                    elsewhere.setdefault(hit.external_id, []).append(hit.platform)
            for r in batch:
                mention_id = r.mention_id
                if mention_id is None:
                    mention_id = found.get((r.platform, r.external_id))
                if mention_id is None:
                    there = ", ".join(
                        f"{p}/{r.external_id}" for p in sorted(elsewhere.get(r.external_id, []))
                    )
                    hint = f" (there is {there}: is the platform column right?)" if there else ""
                    part.errors.append((r.line, f"no mention {r.platform}/{r.external_id}{hint}"))
                    continue
                earlier = marked.get(mention_id) or seen.get(mention_id)
                if earlier is not None:
                    if earlier[1:] == (r.label, r.severity):
                        part.unchanged += 1
                    else:
                        part.errors.append(
                            (
                                r.line,
                                f"mention #{mention_id} is also on line {earlier[0]} with another "
                                "label or severity; that line stands (one row per mention)",
                            )
                        )
                    continue
                o = _relabel(
                    conn, mention_id, r.label, actor=actor, at=at, severity=r.severity, triage=triage
                )
                if o.result in ("changed", "unchanged"):
                    marked[mention_id] = (r.line, r.label, r.severity)
                if o.result == "changed":
                    part.changed += 1
                elif o.result == "unchanged":
                    part.unchanged += 1
                else:
                    part.errors.append((r.line, o.detail or f"no mention with id {mention_id}"))
        report.changed += part.changed
        report.unchanged += part.unchanged
        report.errors += part.errors
        seen.update(marked)
        if progress is not None:
            progress(len(batch))
        batch.clear()

    try:
        for row in rows:
            batch.append(row)
            if len(batch) >= chunk:
                flush()
        flush()
    except KeyboardInterrupt:
        report.interrupted = True
    return report


# -- internal notes -----------------------------------------------------------------------------

NOTE_MAX = 4000


def add_note(
    engine: Engine, mention_id: int, text: str, *, actor: str, now: datetime | None = None
) -> Outcome:
    """An internal note on a mention (never posted publicly); kept in the audit log as a ``note`` event.

    A note is not a change to the mention, so it does not bump ``version``: writing one
    never makes a colleague's open screen stale.
    """
    body = text.strip()
    if not body:
        raise WorkflowError("the note is empty; write something for your colleagues")
    if len(body) > NOTE_MAX:
        raise WorkflowError(f"the note is {len(body)} characters; keep it under {NOTE_MAX}")
    at = _now(now)
    table = tables.mention
    with engine.begin() as conn:
        row = conn.execute(select(table.c.status, table.c.version).where(table.c.id == mention_id)).first()
        if row is None:
            return Outcome(mention_id, "missing", detail=f"no mention with id {mention_id}")
        _event(conn, mention_id, "note", actor, at, text=body)
    return Outcome(mention_id, "changed", row.status, "note added", row.version)


# -- claims -------------------------------------------------------------------------------------

_PAST = {
    "acknowledge": "acknowledged",
    "resolve": "resolved",
    "ignore": "ignored",
    "reopen": "reopened",
    "assign": "reassigned",
    "relabel": "relabelled",
    "severity": "given another severity",
    "claim": "claimed",
    "release_claim": "released",
    "reply_requested": "answered",
    "replied": "replied to",
    "reply_failed": "tried to reply to",
}


def _locked(conn: Connection, mention_id: int) -> Any:
    """The mention row, locked for the rest of the transaction on PostgreSQL (SQLite locks on write)."""
    t = tables.mention
    query = select(t).where(t.c.id == mention_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return conn.execute(query).first()


def _stale(conn: Connection, row: Any, expect_version: int | None, now: datetime) -> None:
    """Raise :class:`Conflict` naming the last change when the caller looked at an older version."""
    if expect_version is None or row.version == expect_version:
        return
    ev = tables.event
    last = conn.execute(
        select(ev.c.action, ev.c.actor, ev.c.at)
        .where(ev.c.mention_id == row.id)
        .order_by(ev.c.at.desc(), ev.c.id.desc())
        .limit(1)
    ).first()
    hint = f"reload it (now version {row.version}, you saw {expect_version}) and decide again"
    if last is None:
        raise Conflict("changed", "someone", None, mention_id=row.id, now=now, hint=hint)
    raise Conflict(
        _PAST.get(last.action, last.action), last.actor, last.at, mention_id=row.id, now=now, hint=hint
    )


def claim(
    engine: Engine,
    ids: Iterable[int],
    *,
    actor: str,
    expect_version: int | None = None,
    now: datetime | None = None,
) -> list[Outcome]:
    """Claim mentions for ``actor`` ("I am answering these"); all or none.

    A mention claimed by someone else raises :class:`Conflict` naming them (nothing is
    claimed); so does ``expect_version`` when the mention changed since it was read.
    Claiming a new mention acknowledges it.
    """
    actor = actor.strip()
    if not actor:
        raise WorkflowError("a claim needs an agent name (--as NAME)")
    at = _now(now)
    table = tables.mention
    outcomes = []
    with engine.begin() as conn:
        for mention_id in ids:
            row = _locked(conn, mention_id)
            if row is None:
                outcomes.append(Outcome(mention_id, "missing", detail=f"no mention with id {mention_id}"))
                continue
            _stale(conn, row, expect_version, at)
            if row.claimed_by == actor:
                outcomes.append(
                    Outcome(mention_id, "unchanged", row.status, "already claimed by you", row.version)
                )
                continue
            if row.claimed_by:
                raise Conflict(
                    "claimed",
                    row.claimed_by,
                    row.claimed_at,
                    mention_id=mention_id,
                    now=at,
                    hint=f"ask {row.claimed_by} to release it (`mention-monitor release {mention_id}`)",
                )
            values: dict[str, Any] = {
                "claimed_by": actor,
                "claimed_at": at,
                "updated_at": at,
                "version": table.c.version + 1,
            }
            status = row.status
            if row.status == "new":
                values["status"] = status = "acknowledged"
            if row.acknowledged_at is None:
                values["acknowledged_at"] = at
            conn.execute(update(table).where(table.c.id == mention_id).values(**values))
            _event(conn, mention_id, "claim", actor, at, before=row.status, after=status)
            outcomes.append(Outcome(mention_id, "changed", status, f"claimed by {actor}", row.version + 1))
    return outcomes


def release_claim(
    engine: Engine, ids: Iterable[int], *, actor: str, now: datetime | None = None
) -> list[Outcome]:
    """Drop the claim on mentions (anyone may; the audit log says who released whose claim)."""
    at = _now(now)
    table = tables.mention
    outcomes = []
    with engine.begin() as conn:
        for mention_id in ids:
            row = _locked(conn, mention_id)
            if row is None:
                outcomes.append(Outcome(mention_id, "missing", detail=f"no mention with id {mention_id}"))
                continue
            if row.claimed_by is None:
                outcomes.append(Outcome(mention_id, "unchanged", row.status, "not claimed", row.version))
                continue
            conn.execute(
                update(table)
                .where(table.c.id == mention_id)
                .values(claimed_by=None, claimed_at=None, updated_at=at, version=table.c.version + 1)
            )
            _event(conn, mention_id, "release_claim", actor, at, before=row.claimed_by, after=None)
            outcomes.append(
                Outcome(
                    mention_id, "changed", row.status, f"released {row.claimed_by}'s claim", row.version + 1
                )
            )
    return outcomes


# -- replies ------------------------------------------------------------------------------------

# Reply rows in these states are (or may be) on the platform or about to be.
LIVE_REPLY = ("pending", "sending", "sent", "unknown")


@dataclass(frozen=True, slots=True)
class ReplyRequest:
    """A queued reply: ``status`` is the outbox row's; ``duplicate`` when the same request existed."""

    reply_id: int
    mention_id: int
    status: str
    text: str
    platform: str
    automatic: bool = False
    duplicate: bool = False
    version: int | None = None


def agent_name(config: Any, actor: str) -> str:
    """The first name for ``{agent}``: ``responder.agents`` or the login's first part, capitalised."""
    mapped = config.responder.agents.get(actor)
    if mapped:
        return mapped
    first = actor.split("@")[0].replace(".", " ").replace("_", " ").split()
    return first[0].capitalize() if first else actor


def render_reply(config: Any, mention: Any, *, text: str | None, template: str | None, actor: str) -> str:
    """The reply text: ``text`` as given or ``template`` rendered; WorkflowError if neither."""
    from monitor.responder import templates

    if (text is None) == (template is None):
        raise WorkflowError("give the reply text (--text) or a template name (--template), exactly one")
    if template is not None:
        known = config.responder.templates
        if template not in known:
            raise WorkflowError(
                f"no reply template named {template!r}; known: {', '.join(sorted(known)) or 'none'} "
                "(add it under responder.templates)"
            )
        values = templates.values_for(
            author_name=mention.author_name,
            author_handle=mention.author_handle,
            brand=config.brand.names[0],
            product=config.responder.product,
            agent=agent_name(config, actor),
            window=config.responder.window,
            ticket_link=config.responder.ticket_link,
            mention_id=mention.id,
        )
        try:
            text = templates.render(known[template], values, name=f"template {template!r}")
        except templates.TemplateError as exc:
            raise WorkflowError(str(exc)) from exc
    assert text is not None
    return text


def check_reply(config: Any, mention: Any, text: str) -> tuple[str, str]:
    """``(prepared text, source account)`` for a reply to ``mention``, or WorkflowError saying why not."""
    from monitor.responder.accounts import account_for, replier_class
    from monitor.responder.base import ReplyError

    body = text.strip()
    if not body:
        raise WorkflowError(
            f"mention {mention.id}: the reply text is empty or only whitespace; nothing was queued"
        )
    try:
        cls = replier_class(mention.platform)
    except ReplyError as exc:
        raise WorkflowError(f"mention {mention.id}: {exc}") from exc
    target = target_of(mention)
    prepared = cls.prepare(body, target)
    problems = cls.check(prepared, target)
    if problems:
        raise WorkflowError(f"mention {mention.id} ({mention.platform}): " + "; ".join(problems))
    try:
        account = account_for(config, mention.platform, mention.source)
    except ReplyError as exc:
        raise WorkflowError(f"mention {mention.id}: {exc}") from exc
    return prepared, account


def target_of(mention: Any) -> Any:
    from monitor.responder.base import ReplyTarget

    return ReplyTarget(
        mention_id=mention.id,
        platform=mention.platform,
        external_id=mention.external_id,
        author_handle=mention.author_handle,
        url=mention.url,
        conversation_id=mention.conversation_id,
        in_reply_to_id=mention.in_reply_to_id,
        raw=mention.raw or {},
    )


def request_reply(
    engine: Engine,
    config: Any,
    mention_id: int,
    *,
    text: str | None = None,
    template: str | None = None,
    actor: str,
    expect_version: int | None = None,
    automatic: bool = False,
    now: datetime | None = None,
    incident_id: int | None = None,
) -> ReplyRequest:
    """Check a reply and queue it in the reply outbox, recording who asked, in one transaction.

    Refused with :class:`WorkflowError` (empty text, too long, unknown template or variable,
    a read-only platform) before anything is written, and with :class:`Conflict` when another
    agent claimed or answered the mention (or it changed since ``expect_version``). The same
    request twice (a double click, a retried form) returns the first one: ``duplicate=True``.
    """
    actor = actor.strip()
    if not actor:
        raise WorkflowError("a reply needs an agent name (--as NAME)")
    at = _now(now)
    mt = tables.mention
    rt = tables.reply_outbox
    with engine.connect() as conn:
        mention = conn.execute(select(mt).where(mt.c.id == mention_id)).first()
    if mention is None:
        raise WorkflowError(f"no mention with id {mention_id}")
    body = render_reply(config, mention, text=text, template=template, actor=actor)
    prepared, account = check_reply(config, mention, body)
    if automatic:
        key = f"auto:{mention_id}"
    elif incident_id is not None:
        key = f"incident:{incident_id}"
    else:
        digest = hashlib.sha256(f"{actor}\n{prepared}".encode()).hexdigest()[:24]
        key = f"reply:{mention_id}:{digest}"
    with engine.begin() as conn:
        row = _locked(conn, mention_id)
        if row is None:
            raise WorkflowError(f"no mention with id {mention_id} (deleted meanwhile)")
        existing = conn.execute(select(rt).where(rt.c.key == key)).first()
        if existing is not None:
            if existing.status in ("failed", "cancelled") and existing.platform_reply_id is None:
                # Asked again after a definite failure (e.g. the token was renewed): send it again.
                conn.execute(
                    update(rt)
                    .where(rt.c.id == existing.id)
                    .values(status="pending", attempts=0, next_attempt_at=at, last_error=None)
                )
                conn.execute(
                    update(mt)
                    .where(mt.c.id == mention_id)
                    .values(reply_status="pending", reply_error=None, version=mt.c.version + 1, updated_at=at)
                )
                _event(conn, mention_id, "reply_requested", actor, at, reply_id=existing.id, again=True)
                return ReplyRequest(
                    existing.id,
                    mention_id,
                    "pending",
                    existing.body,
                    row.platform,
                    existing.automatic,
                    False,
                    row.version + 1,
                )
            return ReplyRequest(
                existing.id,
                mention_id,
                existing.status,
                existing.body,
                row.platform,
                existing.automatic,
                True,
                row.version,
            )
        _stale(conn, row, expect_version, at)
        if automatic:
            if conn.execute(
                select(func.count()).select_from(rt).where(rt.c.mention_id == mention_id)
            ).scalar():
                raise WorkflowError(f"mention {mention_id} already has a reply; no automatic one is added")
        else:
            if row.claimed_by and row.claimed_by != actor:
                raise Conflict(
                    "claimed",
                    row.claimed_by,
                    row.claimed_at,
                    mention_id=mention_id,
                    now=at,
                    hint=f"leave it to {row.claimed_by} or ask them to release it",
                )
            other = conn.execute(
                select(rt.c.author, rt.c.status, rt.c.created_at, rt.c.sent_at)
                .where(
                    rt.c.mention_id == mention_id,
                    rt.c.author != actor,
                    rt.c.automatic.is_(False),
                    rt.c.status.in_(LIVE_REPLY),
                )
                .order_by(rt.c.id.desc())
                .limit(1)
            ).first()
            if other is not None and expect_version is None:
                raise Conflict(
                    "replied to" if other.status == "sent" else "being answered",
                    other.author,
                    other.sent_at or other.created_at,
                    mention_id=mention_id,
                    now=at,
                    hint=f"read their reply; to add yours anyway pass --expect-version {row.version}",
                )
        reply_id = conn.execute(
            rt.insert()
            .values(
                key=key,
                mention_id=mention_id,
                body=prepared,
                author=actor,
                status="pending",
                attempts=0,
                next_attempt_at=at,
                created_at=at,
                platform=row.platform,
                source=account,
                automatic=automatic,
                template=template,
                incident_id=incident_id,
                log=[],
            )
            .returning(rt.c.id)
        ).scalar_one()
        values: dict[str, Any] = {
            "reply_status": "pending",
            "reply_error": None,
            "updated_at": at,
            "version": mt.c.version + 1,
        }
        if not automatic and row.claimed_by is None:
            values.update(claimed_by=actor, claimed_at=at)
        conn.execute(update(mt).where(mt.c.id == mention_id).values(**values))
        _event(
            conn,
            mention_id,
            "reply_requested",
            actor,
            at,
            reply_id=reply_id,
            automatic=automatic,
            **({"template": template} if template else {}),
            **({"incident_id": incident_id} if incident_id is not None else {}),
        )
    return ReplyRequest(
        reply_id, mention_id, "pending", prepared, row.platform, automatic, False, row.version + 1
    )


def list_replies(
    engine: Engine, mention_id: int | None = None, status: str | None = None, *, limit: int = 200
) -> list[dict[str, Any]]:
    """Reply outbox rows, newest first, with the mention's platform/handle; ``automatic`` is marked."""
    rt = tables.reply_outbox
    mt = tables.mention
    query = (
        select(rt, mt.c.author_handle, mt.c.url.label("mention_url"), mt.c.status.label("mention_status"))
        .select_from(rt.join(mt, mt.c.id == rt.c.mention_id, isouter=True))
        .order_by(rt.c.id.desc())
        .limit(limit)
    )
    if mention_id is not None:
        query = query.where(rt.c.mention_id == mention_id)
    if status is not None:
        query = query.where(rt.c.status == status)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def reply_confirmed(conn: Connection, reply: Any, post_id: str, url: str | None, at: datetime) -> None:
    """Bookkeeping once the platform returned the reply's id (the sender calls this in its commit).

    A person's reply marks the mention ``replied`` and, the first time, stops the first-response
    clock (``first_response_at``/``first_responder``); an automatic one only records itself.
    """
    rt = tables.reply_outbox
    mt = tables.mention
    conn.execute(
        update(rt)
        .where(rt.c.id == reply.id)
        .values(
            status="sent",
            platform_reply_id=post_id,
            platform_reply_url=url,
            sent_at=at,
            last_error=None,
            next_attempt_at=None,
            claimed_by=None,
            claimed_at=None,
        )
    )
    row = conn.execute(select(mt).where(mt.c.id == reply.mention_id)).first()
    if row is None:
        return
    values: dict[str, Any] = {
        "reply_status": "sent",
        "reply_error": None,
        "updated_at": at,
        "version": mt.c.version + 1,
    }
    if not reply.automatic:
        if row.status in ("new", "acknowledged"):
            values["status"] = "replied"
        if row.acknowledged_at is None:
            values["acknowledged_at"] = at
        if row.first_response_at is None:
            values["first_response_at"] = at
            values["first_responder"] = reply.author
    conn.execute(update(mt).where(mt.c.id == row.id).values(**values))
    _event(
        conn,
        row.id,
        "replied",
        reply.author,
        at,
        reply_id=reply.id,
        platform_id=post_id,
        url=url,
        automatic=bool(reply.automatic),
        before=row.status,
        after=values.get("status", row.status),
    )


def reply_failed(conn: Connection, reply: Any, reason: str, at: datetime, *, status: str = "failed") -> None:
    """A reply that will not be retried: the mention shows ``reply failed`` with the platform's reason."""
    rt = tables.reply_outbox
    mt = tables.mention
    conn.execute(
        update(rt)
        .where(rt.c.id == reply.id)
        .values(status=status, last_error=reason, next_attempt_at=None, claimed_by=None, claimed_at=None)
    )
    conn.execute(
        update(mt)
        .where(mt.c.id == reply.mention_id)
        .values(reply_status="failed", reply_error=reason, updated_at=at, version=mt.c.version + 1)
    )
    _event(conn, reply.mention_id, "reply_failed", "responder", at, reply_id=reply.id, reason=reason[:500])


def attach_followups(conn: Connection, stored: Iterable[tuple[int, Any]], at: datetime) -> int:
    """Pipeline hook: a new mention from the same author answering our reply (or in the thread of a
    mention we replied to) joins that conversation and re-opens it. ``stored`` holds ``(id, mention)``
    pairs just inserted; returns how many conversations re-opened. Two queries per page at most
    (one when nothing was ever replied to), whatever its size."""
    mt = tables.mention
    rt = tables.reply_outbox
    stored = [(i, mm) for i, mm in stored if mm.in_reply_to_id is not None or mm.conversation_id is not None]
    if not stored or conn.execute(select(rt.c.id).where(rt.c.status == "sent").limit(1)).first() is None:
        return 0
    # One query for the page: what was answered for its authors; matched here, not per mention.
    rows = conn.execute(
        select(
            mt.c.id,
            mt.c.platform,
            mt.c.author_handle,
            mt.c.status,
            mt.c.conversation_id,
            mt.c.external_id,
            rt.c.platform_reply_id,
            rt.c.sent_at,
        )
        .select_from(rt.join(mt, mt.c.id == rt.c.mention_id))
        .where(rt.c.status == "sent", mt.c.author_handle.in_({mm.author_handle for _, mm in stored}))
        .order_by(rt.c.sent_at.desc())
    ).all()
    by_author: dict[tuple[str, str], list[Any]] = {}
    for row in rows:
        by_author.setdefault((row.platform, row.author_handle), []).append(row)
    reopened = 0
    done: set[int] = set()
    for mention_id, new in stored:
        # The mention we answered: the new post replies to our reply, or shares its thread.
        original = next(
            (
                r
                for r in by_author.get((new.platform, new.author_handle), [])
                if r.id != mention_id
                and (
                    (new.in_reply_to_id is not None and r.platform_reply_id == new.in_reply_to_id)
                    or (
                        new.conversation_id is not None
                        and new.conversation_id in (r.conversation_id, r.external_id)
                    )
                )
            ),
            None,
        )
        if original is None:
            continue
        conversation = original.conversation_id or original.external_id
        conn.execute(update(mt).where(mt.c.id == mention_id).values(conversation_id=conversation))
        _event(conn, mention_id, "followup", "responder", at, conversation_of=original.id)
        if original.status in ("replied", "resolved") and original.id not in done:
            done.add(original.id)
            conn.execute(
                update(mt)
                .where(mt.c.id == original.id)
                .values(status="acknowledged", resolved_at=None, updated_at=at, version=mt.c.version + 1)
            )
            _event(
                conn,
                original.id,
                "reopen",
                "responder",
                at,
                before=original.status,
                after="acknowledged",
                followup=mention_id,
            )
            reopened += 1
    return reopened


def request_incident_reply(
    engine: Engine,
    config: Any,
    incident_id: int,
    *,
    text: str | None = None,
    template: str | None = None,
    actor: str,
    mention_id: int | None = None,
    now: datetime | None = None,
) -> ReplyRequest:
    """One public status reply for an incident (to ``mention_id``, default its earliest member).

    When the platform confirms it, the members are resolved in bulk, except those whose
    authors have at least ``responder.incidents.personal_min_followers`` followers: they stay
    open for a personal reply.
    """
    it = tables.incident
    mt = tables.mention
    with engine.connect() as conn:
        incident = conn.execute(select(it).where(it.c.id == incident_id)).first()
        if incident is None:
            raise WorkflowError(f"no incident with id {incident_id}")
        if mention_id is None:
            mention_id = conn.execute(
                select(mt.c.id)
                .where(mt.c.incident_id == incident_id)
                .order_by(mt.c.created_at, mt.c.id)
                .limit(1)
            ).scalar()
            if mention_id is None:
                raise WorkflowError(f"incident {incident_id} has no member mention to reply to")
    return request_reply(
        engine,
        config,
        mention_id,
        text=text,
        template=template,
        actor=actor,
        now=now,
        incident_id=incident_id,
    )


def personal_threshold(config: Any) -> int | None:
    chosen = config.responder.incidents.personal_min_followers
    return chosen if chosen is not None else config.alerts.incidents.individual_min_followers


def incident_reply_sent(conn: Connection, reply: Any, at: datetime, config: Any) -> int:
    """The incident's status reply is on the platform: resolve its members (big accounts stay open)."""
    mt = tables.mention
    threshold = personal_threshold(config)
    rows = conn.execute(
        select(mt.c.id, mt.c.status, mt.c.author_followers).where(
            mt.c.incident_id == reply.incident_id,
            mt.c.status.in_(("new", "acknowledged", "replied")),
        )
    ).all()
    resolved = 0
    for row in rows:
        if threshold is not None and (row.author_followers or 0) >= threshold:
            _event(
                conn,
                row.id,
                "kept_open",
                reply.author,
                at,
                note=f"{row.author_followers} followers: left open for a personal reply",
            )
            continue
        values: dict[str, Any] = {
            "status": "resolved",
            "resolved_at": at,
            "updated_at": at,
            "version": mt.c.version + 1,
        }
        conn.execute(update(mt).where(mt.c.id == row.id).values(**values))
        _event(
            conn,
            row.id,
            "resolve",
            reply.author,
            at,
            before=row.status,
            after="resolved",
            note=f"covered by the incident #{reply.incident_id} status reply {reply.id}",
        )
        resolved += 1
    return resolved


# -- incidents as a whole -----------------------------------------------------------------------

_INCIDENT_ACTIONS = {"acknowledge": ("new",), "resolve": ("new", "acknowledged", "replied")}


def incident_action(
    engine: Engine, incident_id: int, action: str, *, actor: str, now: datetime | None = None
) -> list[Outcome]:
    """Acknowledge or resolve an incident: the incident's own time stamp and every open member.

    Resolving also closes the incident. Members already past the step are left as they are.
    """
    if action not in _INCIDENT_ACTIONS:
        raise WorkflowError(f"unknown incident action {action!r}; use acknowledge or resolve")
    at = _now(now)
    it = tables.incident
    mt = tables.mention
    with engine.begin() as conn:
        incident = conn.execute(select(it).where(it.c.id == incident_id)).first()
        if incident is None:
            raise WorkflowError(f"no incident with id {incident_id}")
        values: dict[str, Any] = {}
        if incident.acknowledged_at is None:
            values["acknowledged_at"] = at
        if action == "resolve":
            values.update(status="resolved", resolved_at=incident.resolved_at or at)
            if incident.closed_at is None:
                values["closed_at"] = at
        if values:
            conn.execute(update(it).where(it.c.id == incident_id).values(**values))
        members = [
            r.id
            for r in conn.execute(
                select(mt.c.id).where(
                    mt.c.incident_id == incident_id, mt.c.status.in_(_INCIDENT_ACTIONS[action])
                )
            )
        ]
    if not members:
        return []
    return transition(engine, members, action, actor=actor, now=at, note=f"incident #{incident_id}")


def retry_reply(engine: Engine, reply_id: int, *, actor: str, now: datetime | None = None) -> ReplyRequest:
    """Queue a ``failed`` or ``unknown`` reply again (after fixing its cause, e.g. a renewed token).

    An ``unknown`` one keeps its history, so the sender first looks for it on the platform.
    """
    at = _now(now)
    rt = tables.reply_outbox
    mt = tables.mention
    with engine.begin() as conn:
        row = conn.execute(select(rt).where(rt.c.id == reply_id)).first()
        if row is None:
            raise WorkflowError(f"no reply with id {reply_id} (see `mention-monitor replies`)")
        if row.status not in ("failed", "unknown", "cancelled"):
            raise WorkflowError(f"reply {reply_id} is {row.status}; only failed or unknown ones are retried")
        conn.execute(
            update(rt)
            .where(rt.c.id == reply_id, rt.c.status == row.status)
            .values(status="pending", attempts=0, next_attempt_at=at, last_error=None)
        )
        conn.execute(
            update(mt)
            .where(mt.c.id == row.mention_id)
            .values(reply_status="pending", reply_error=None, updated_at=at, version=mt.c.version + 1)
        )
        _event(conn, row.mention_id, "reply_requested", actor, at, reply_id=reply_id, again=True)
        platform = row.platform or ""
    return ReplyRequest(reply_id, row.mention_id, "pending", row.body, platform, row.automatic)
