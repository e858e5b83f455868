"""The ingest pipeline: ``normalize → dedupe → triage → store → route`` for one page of mentions.

:meth:`Pipeline.ingest` commits the new mentions, their alert rows (with one
delivery row per destination) and the source's cursor advance in ONE
transaction. A crash before the commit leaves the old cursor, so the page is
fetched again and dedupe drops what was already stored: nothing lost, nothing
doubled. Inserts use ``ON CONFLICT DO NOTHING`` so two instances racing on the
same post store it once and alert once.

A page costs one statement per table (:mod:`monitor.store.bulk`): the dedupe
read, the author-history read, the mention insert and the author upsert; its
cost beyond triage is mostly the database's own index and trigger upkeep.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from monitor import workflow
from monitor.alerts.plan import plan_alerts
from monitor.alerts.routing import Destination, destinations
from monitor.config import Config
from monitor.mention import Mention
from monitor.sources.base import Page
from monitor.store import bulk
from monitor.store import models as m
from monitor.store.db import insert_for
from monitor.triage import AuthorHistory, TriageContext, Triager, Verdict
from monitor.triage.learned import load_model

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


# "3rd complaint in 24 h": each author row keeps its complaint times of this window (at most RECENT_KEPT),
# so history costs one indexed lookup per author instead of a count over all their mentions.
RECENT_WINDOW = timedelta(hours=24)
RECENT_KEPT = 50


# One upsert per page for its authors (the page's rows are already summed per author).
AUTHOR_UPSERT = (
    "ON CONFLICT (platform, handle) DO UPDATE SET "
    "mentions_total = author.mentions_total + excluded.mentions_total, "
    "complaints_total = author.complaints_total + excluded.complaints_total, "
    "followers = coalesce(excluded.followers, author.followers), "
    "name = coalesce(excluded.name, author.name), "
    "author_id = coalesce(excluded.author_id, author.author_id), "
    "last_mention_at = excluded.last_mention_at, "
    "last_complaint_at = coalesce(excluded.last_complaint_at, author.last_complaint_at), "
    # Read and pruned in this transaction; a source is polled by one instance at a time.
    "recent_complaints = excluded.recent_complaints"
)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class IngestResult:
    """What one page did; summed by callers for logs, summaries and metrics."""

    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    filtered: Counter[str] = field(default_factory=Counter)
    alerts: int = 0
    stored_ids: list[int] = field(default_factory=list)
    labels: Counter[str] = field(default_factory=Counter)

    def add(self, other: IngestResult) -> None:
        self.fetched += other.fetched
        self.stored += other.stored
        self.duplicates += other.duplicates
        self.filtered.update(other.filtered)
        self.alerts += other.alerts
        self.stored_ids.extend(other.stored_ids)
        self.labels.update(other.labels)


class Pipeline:
    """Holds what is built once per process (triager, route destinations) and ingests pages."""

    def __init__(
        self,
        engine: Engine,
        config: Config,
        *,
        triager: Triager | None = None,
        alerts_enabled: bool = True,
        clock: Clock = utcnow,
        on_alerts: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        self.config = config
        self.triager = triager or Triager(
            config.triage, brand_terms=config.brand.terms, learned=load_model(config.triage.model_path)
        )
        self.alerts_enabled = alerts_enabled
        self.clock = clock
        self.on_alerts = on_alerts
        self._destinations: dict[str, list[Destination]] = {
            r.name: destinations(r) for r in config.alerts.routes
        }
        insert_for(engine)  # names an unsupported database now, not at the first page (bulk.py writes)

    # -- normalize -------------------------------------------------------
    def noise_reason(self, mention: Mention) -> str | None:
        """Why a mention is noise for this brand, or None to keep it."""
        brand = self.config.brand
        if brand.is_own(mention.platform, mention.author_handle):
            return "own_post"
        if brand.is_muted(mention.platform, mention.author_handle):
            return "muted_author"
        if brand.excluded_term(mention.text):
            return "excluded_term"
        if not brand.language_wanted(mention.language):
            return "language"
        return None

    # -- the whole step --------------------------------------------------
    def ingest(
        self,
        mentions: Iterable[Mention],
        *,
        source: str,
        cursor_update: dict[str, Any] | None = None,
        page: Page | None = None,
    ) -> IngestResult:
        """Store new mentions (+ alerts + cursor) in one transaction; returns counts."""
        now = self.clock()
        result = IngestResult()
        fresh: dict[tuple[str, str], Mention] = {}
        for mention in mentions:
            result.fetched += 1
            reason = self.noise_reason(mention)
            if reason:
                result.filtered[reason] += 1
            elif mention.key in fresh:
                result.duplicates += 1
            else:
                fresh[mention.key] = mention
        with self.engine.begin() as conn:
            known = self._existing_keys(conn, fresh)
            result.duplicates += len(known)
            todo = sorted((mm for k, mm in fresh.items() if k not in known), key=lambda x: x.created_at)
            if todo:
                self._store(conn, todo, source=source, now=now, result=result)
            if cursor_update is not None:
                self._save_cursor(conn, source, cursor_update, page, result, now)
        if result.alerts and self.on_alerts:
            self.on_alerts()
        return result

    # -- dedupe ----------------------------------------------------------
    def _existing_keys(self, conn: Connection, fresh: dict[tuple[str, str], Mention]) -> set[tuple[str, str]]:
        by_platform: dict[str, list[str]] = {}
        for platform, ext in fresh:
            by_platform.setdefault(platform, []).append(ext)
        found: set[tuple[str, str]] = set()
        for platform, ids in by_platform.items():
            rows = bulk.rows_in(
                conn,
                m.Mention.__table__,
                ["external_id"],
                where={"platform": platform},
                column="external_id",
                values=ids,
            )
            found.update((platform, r[0]) for r in rows)
        return found

    # -- triage + store + route -----------------------------------------
    def _store(
        self, conn: Connection, todo: list[Mention], *, source: str, now: datetime, result: IngestResult
    ) -> None:
        histories, recent = self._author_histories(conn, todo, now)
        rows: list[dict[str, Any]] = []
        verdicts: dict[tuple[str, str], Verdict] = {}
        for mention in todo:
            akey = (mention.platform, mention.author_handle)
            history = histories.get(akey, AuthorHistory())
            verdict = self.triager.assess(mention, TriageContext(author=history))
            verdicts[mention.key] = verdict
            if verdict.label == "complaint":  # later mentions in this page see this one
                histories[akey] = AuthorHistory(
                    history.mentions_total + 1, history.complaints_total + 1, history.complaints_24h + 1
                )
            else:
                histories[akey] = AuthorHistory(
                    history.mentions_total + 1, history.complaints_total, history.complaints_24h
                )
            rows.append(_mention_row(mention, verdict, source=source, now=now))
        # One statement for the page; a post another instance stored meanwhile is skipped, not doubled.
        inserted = bulk.insert_rows(
            conn,
            m.Mention.__table__,
            rows,
            on_conflict="ON CONFLICT (platform, external_id) DO NOTHING",
            returning=("id", "platform", "external_id"),
        )
        result.duplicates += len(rows) - len(inserted)
        by_key = {mm.key: mm for mm in todo}
        stored = [(mention_id, by_key[(platform, ext)]) for mention_id, platform, ext in sorted(inserted)]
        result.stored += len(stored)
        result.stored_ids.extend(i for i, _ in stored)
        for _, mention in stored:
            result.labels[verdicts[mention.key].label] += 1
        self._update_authors(conn, [(mm, verdicts[mm.key]) for _, mm in stored], recent, now)
        # A follow-up from an author we answered joins that conversation and re-opens it (responder).
        workflow.attach_followups(conn, stored, now)
        if self.alerts_enabled:
            result.alerts += self._route(conn, [(i, mm, verdicts[mm.key]) for i, mm in stored], now)

    def _author_histories(
        self, conn: Connection, todo: list[Mention], now: datetime
    ) -> tuple[dict[tuple[str, str], AuthorHistory], dict[tuple[str, str], list[str]]]:
        """History per author, and their complaint times of the last 24 h (kept on the author row)."""
        authors = m.Author.__table__
        by_platform: dict[str, list[str]] = {}
        for platform, handle in {(mm.platform, mm.author_handle) for mm in todo}:
            by_platform.setdefault(platform, []).append(handle)
        since = (now - RECENT_WINDOW).isoformat()
        histories: dict[tuple[str, str], AuthorHistory] = {}
        recent: dict[tuple[str, str], list[str]] = {}
        for platform, handles in by_platform.items():
            rows = bulk.rows_in(
                conn,
                authors,
                ["handle", "mentions_total", "complaints_total", "recent_complaints"],
                where={"platform": platform},
                column="handle",
                values=handles,
            )
            for handle, mentions_total, complaints_total, recent_complaints in rows:
                # ISO UTC strings compare as the times they name.
                times = [t for t in recent_complaints or [] if t >= since]
                recent[(platform, handle)] = times
                histories[(platform, handle)] = AuthorHistory(mentions_total, complaints_total, len(times))
        return histories, recent

    def _update_authors(
        self,
        conn: Connection,
        stored: list[tuple[Mention, Verdict]],
        recent: dict[tuple[str, str], list[str]],
        now: datetime,
    ) -> None:
        if not stored:
            return
        agg: dict[tuple[str, str], dict[str, Any]] = {}
        for mention, verdict in stored:
            key = (mention.platform, mention.author_handle)
            row = agg.setdefault(
                key,
                {
                    "platform": mention.platform,
                    "handle": mention.author_handle,
                    "author_id": mention.author_id,
                    "name": mention.author_name,
                    "followers": mention.author_followers,
                    "mentions_total": 0,
                    "complaints_total": 0,
                    "first_seen_at": mention.created_at,
                    "last_mention_at": mention.created_at,
                    "last_complaint_at": None,
                    "recent_complaints": list(recent.get(key, [])),
                },
            )
            row["mentions_total"] += 1
            row["last_mention_at"] = max(row["last_mention_at"], mention.created_at)
            if mention.author_followers is not None:
                row["followers"] = mention.author_followers
            if verdict.label == "complaint":
                row["complaints_total"] += 1
                row["last_complaint_at"] = mention.created_at
                row["recent_complaints"].append(mention.created_at.isoformat())
        for row in agg.values():
            row["recent_complaints"] = sorted(row["recent_complaints"])[-RECENT_KEPT:]
        bulk.insert_rows(conn, m.Author.__table__, list(agg.values()), on_conflict=AUTHOR_UPSERT)

    def _route(self, conn: Connection, stored: list[tuple[int, Mention, Verdict]], now: datetime) -> int:
        # Routing, storm folding, digest hold and the per-author window: monitor.alerts.plan,
        # still inside this transaction so alerts exist exactly when their mentions do.
        return plan_alerts(conn, stored, self.config.alerts, self._destinations, now)

    # -- cursor ----------------------------------------------------------
    def _save_cursor(
        self,
        conn: Connection,
        source: str,
        update: dict[str, Any],
        page: Page | None,
        result: IngestResult,
        now: datetime,
    ) -> None:
        table = m.SourceCursor.__table__
        current = conn.execute(select(table).where(table.c.source == source)).mappings().first()
        values = dict(update)
        values["updated_at"] = now
        values["mentions_total"] = (current["mentions_total"] if current else 0) + result.stored
        if page is not None:
            skipped = Counter(current["skipped"] if current else {})
            skipped.update(page.skipped)
            skipped.update(result.filtered)
            values["skipped"] = dict(skipped)
            values["items_read_total"] = (current["items_read_total"] if current else 0) + page.items_read
            values["requests_total"] = (current["requests_total"] if current else 0) + page.requests
            gaps_t = m.CoverageGap.__table__
            for gap in page.gaps:
                conn.execute(
                    gaps_t.insert().values(
                        source=source,
                        start=gap.start,
                        end=gap.end,
                        reason=gap.reason,
                        estimated_missed=gap.estimated_missed,
                    )
                )
        if current is None:
            values.setdefault("platform", update.get("platform", source))
            conn.execute(table.insert().values(source=source, **values))
        else:
            conn.execute(table.update().where(table.c.source == source).values(**values))


def _mention_row(mention: Mention, verdict: Verdict, *, source: str, now: datetime) -> dict[str, Any]:
    return {
        "platform": mention.platform,
        "external_id": mention.external_id,
        "source": source,
        "url": mention.url,
        "author_handle": mention.author_handle,
        "author_name": mention.author_name,
        "author_id": mention.author_id,
        "author_followers": mention.author_followers,
        "text": mention.text,
        "language": mention.language,
        "created_at": mention.created_at,
        "fetched_at": now,
        "in_reply_to_id": mention.in_reply_to_id,
        "conversation_id": mention.conversation_id,
        "addressed_to_brand": mention.addressed_to_brand,
        "raw": mention.raw,
        "polarity": verdict.polarity,
        "subjectivity": verdict.subjectivity,
        "label": verdict.label,
        "urgency": verdict.urgency,
        "priority": verdict.priority,
        "severity": verdict.severity,
        "reasons": list(verdict.reasons),
        "status": "new",
        "updated_at": now,
    }
