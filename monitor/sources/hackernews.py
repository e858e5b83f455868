"""Hacker News source: stories and comments naming the brand, via the Algolia search API (read-only).

One ``search_by_date`` query per brand term, limited with
``numericFilters=created_at_i>…`` to what is new since the last poll (minus an
overlap for indexing lag and clock skew). Algolia pages by number and stops at
1000 hits, so a run first freezes its upper bound (the newest hit it saw) to
keep pages stable, and when the reachable pages run out it moves that bound
down to the oldest hit read and starts again at page 0. Algolia's typo
tolerance returns near misses ("applauded" for "apple"); those are dropped here.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

import httpx
from pydantic import Field

from monitor.mention import Mention
from monitor.sources._noise import DELETED, SEEN, NoiseScreen
from monitor.sources._polling import advance_round, prune_seen, round_todo
from monitor.sources.base import Clock, Gap, MalformedResponse, Page, Source, SourceSettings
from monitor.sources.http import json_body, make_client, send
from monitor.sources.text import html_to_text

log = logging.getLogger(__name__)

ITEM_URL = "https://news.ycombinator.com/item?id="
CURSOR_VERSION = 1


class HackerNewsSettings(SourceSettings):
    """``sources.<name>:`` for Hacker News; no credentials exist or are needed."""

    tags: list[Literal["story", "comment", "poll", "show_hn", "ask_hn"]] = Field(
        default_factory=lambda: ["story", "comment"], description="item types to search (any of them)"
    )
    overlap_seconds: int = Field(default=120, ge=0, description="re-read this far behind the last hit seen")
    hits_per_page: int = Field(default=100, ge=1, le=1000)
    lookback_seconds: int = Field(default=3600, ge=0, description="how far back the very first poll reads")
    backlog_pages: int = Field(
        default=50, ge=1, description="pages one catch-up may read before the rest is recorded as a gap"
    )


@dataclass(slots=True)
class _Hit:
    object_id: str
    created: int
    author: str | None
    text: str
    mention: Mention
    deleted: bool


class HackerNewsSource(Source):
    """Polls ``search_by_date`` on hn.algolia.com for each brand term."""

    platform: ClassVar[str] = "hackernews"
    Settings: ClassVar[type[SourceSettings]] = HackerNewsSettings
    default_api_base: ClassVar[str | None] = "https://hn.algolia.com/api/v1"

    settings: HackerNewsSettings

    def __init__(
        self,
        name: str,
        settings: SourceSettings,
        brand: Any,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Clock = time.time,
    ) -> None:
        super().__init__(name, settings, brand, clock=clock)
        self._clock = clock
        self._screen = NoiseScreen(brand, self.platform)
        self._client = make_client(self.api_base or "", self.settings.timeout, transport)

    def fetch(self, cursor: dict[str, Any]) -> Page:
        """Read one page for the next brand term in this round."""
        terms = [t for t in self.brand.terms if t.strip()]
        saved = cursor.get("terms") if isinstance(cursor.get("terms"), dict) else {}
        todo = round_todo(cursor.get("todo"), terms)
        term = todo[0]
        page = Page(mentions=[], cursor={}, requests=0)
        state, done = self._step(term, _term_state(saved.get(term)), page)
        states, rest = advance_round(saved, todo, terms, term, state, not done)
        page.cursor = {"v": CURSOR_VERSION, "terms": states, "todo": rest}
        page.more = bool(rest)
        return page

    def close(self) -> None:
        self._client.close()

    def _step(self, term: str, state: dict[str, Any], page: Page) -> tuple[dict[str, Any], bool]:
        s = self.settings
        hw: int | None = state["hw"]
        seen: dict[str, float] = state["seen"]
        run = state["run"]
        if run is None:
            since = hw - s.overlap_seconds if hw is not None else int(self._clock()) - s.lookback_seconds
            # until: frozen upper bound; edge: ids read at the lowest second so far (for re-windowing).
            run = {
                "since": since,
                "until": None,
                "page": 0,
                "pages": 0,
                "top": hw,
                "low": None,
                "edge": [],
                "recent": {},
            }
        body = self._search(term, run, page)
        hits, nb_hits, nb_pages, at_page, per_page = self._result(body)
        page.items_read += len(hits)
        # Ids at the window's lower edge were read before the window moved down onto them.
        before_edge = set(run["edge"])
        edge = set(before_edge)
        recent: dict[str, float] = run["recent"]
        newest: int | None = None
        for raw in hits:
            try:
                hit = self._hit(raw)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                ident = raw.get("objectID") if isinstance(raw, dict) else None
                self.skip_malformed(page.skipped, f"search for {term!r}", ident, exc)
                continue
            newest = hit.created if newest is None else max(newest, hit.created)
            if run["low"] is None or hit.created < run["low"]:
                run["low"], edge = hit.created, set()
            if hit.created == run["low"]:
                edge.add(hit.object_id)
            if hit.object_id in seen or hit.object_id in recent or hit.object_id in before_edge:
                page.skipped[SEEN] += 1
                continue
            recent[hit.object_id] = hit.created
            if run["top"] is None or hit.created > run["top"]:
                run["top"] = hit.created
            reason = DELETED if hit.deleted else self._screen.reason(author=hit.author, text=hit.text)
            if reason:
                page.skipped[reason] += 1
            else:
                page.mentions.append(hit.mention)
        run["pages"] += 1
        run["edge"] = sorted(edge)
        if run["top"] is not None:
            run["recent"] = prune_seen(recent, run["top"] - s.overlap_seconds)
        if run["until"] is None and newest is not None:
            # Freeze the window so hits indexed during the run cannot shift later pages.
            run["until"] = newest

        reachable = (at_page + 1) * per_page
        if hits and at_page + 1 < nb_pages:
            run["page"] = at_page + 1
            done = False
        elif hits and nb_hits > reachable and run["low"] is not None and run["low"] != run["until"]:
            # Algolia stops at 1000 hits: continue below the oldest hit read instead.
            run["until"], run["page"] = run["low"], 0
            done = False
        else:
            done = True
            if hits and nb_hits > reachable:
                page.gaps.append(
                    Gap(
                        start=_ts(run["since"]),
                        end=_ts(run["low"] or run["since"]),
                        reason=f"hackernews {term!r}: more hits in one second than Algolia pages",
                        estimated_missed=nb_hits - reachable,
                    )
                )
        if not done and run["pages"] >= s.backlog_pages:
            page.gaps.append(
                Gap(
                    start=_ts(run["since"]),
                    end=_ts(run["low"] if run["low"] is not None else run["since"]),
                    reason=f"hackernews {term!r}: over {s.backlog_pages} pages since the last poll",
                    estimated_missed=max(0, nb_hits - reachable) or None,
                )
            )
            done = True
        if not done:
            return {"hw": hw, "seen": seen, "run": run}, False
        new_hw = run["top"] if run["top"] is not None else (hw if hw is not None else run["since"])
        merged = prune_seen({**seen, **run["recent"]}, new_hw - s.overlap_seconds)
        return {"hw": int(new_hw), "seen": merged, "run": None}, True

    def _search(self, term: str, run: dict[str, Any], page: Page) -> Any:
        s = self.settings
        filters = [f"created_at_i>{int(run['since'])}"]
        if run["until"] is not None:
            filters.append(f"created_at_i<={int(run['until'])}")
        params = {
            "query": term,
            # Parentheses make an OR group: stories or comments.
            "tags": "(" + ",".join(dict.fromkeys(s.tags)) + ")",
            "numericFilters": ",".join(filters),
            "page": run["page"],
            "hitsPerPage": s.hits_per_page,
        }
        self.budget.spend(self.name)
        page.requests += 1
        response = send(self._client, "GET", "/search_by_date", source=self.name, params=params)
        return json_body(response, source=self.name)

    def _result(self, body: Any) -> tuple[list[Any], int, int, int, int]:
        """``hits``, ``nbHits``, ``nbPages``, ``page``, ``hitsPerPage`` or MalformedResponse."""
        try:
            hits = body["hits"]
            numbers = [int(body[k]) for k in ("nbHits", "nbPages", "page", "hitsPerPage")]
            if not isinstance(hits, list):
                raise TypeError("hits is not a list")
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedResponse(
                f"{self.name}: unexpected Algolia search result ({type(exc).__name__}: {exc}): "
                f"{str(body)[:80]!r}"
            ) from exc
        nb_hits, nb_pages, at_page, per_page = numbers
        return hits, nb_hits, nb_pages, at_page, max(per_page, 1)

    def _hit(self, raw: Any) -> _Hit:
        object_id = raw["objectID"]
        if not isinstance(object_id, str | int) or isinstance(object_id, bool):
            raise TypeError("objectID is not a string")
        object_id = str(object_id)
        created_i = raw.get("created_at_i")
        if isinstance(created_i, int | float) and not isinstance(created_i, bool):
            created = int(created_i)
        else:
            created = int(datetime.fromisoformat(str(raw["created_at"]).replace("Z", "+00:00")).timestamp())
        tags = raw.get("_tags") or []
        author = raw.get("author") if isinstance(raw.get("author"), str) and raw.get("author") else None
        is_comment = "comment" in tags or (raw.get("comment_text") is not None and not raw.get("title"))
        if is_comment:
            html = raw.get("comment_text")
            text = html_to_text(html) if isinstance(html, str) else ""
            deleted = not text
            parent = raw.get("parent_id")
            story = raw.get("story_id")
            in_reply_to = str(parent) if isinstance(parent, int | str) and parent != "" else None
            conversation = str(story) if isinstance(story, int | str) and story != "" else None
        else:
            title = raw.get("title") if isinstance(raw.get("title"), str) else ""
            story_text = html_to_text(raw.get("story_text")) if isinstance(raw.get("story_text"), str) else ""
            link = raw.get("url") if isinstance(raw.get("url"), str) else ""
            text = "\n\n".join(part for part in (title, story_text, link) if part)
            deleted = not title
            in_reply_to, conversation = None, object_id
        clean = {k: v for k, v in raw.items() if k != "_highlightResult"}
        mention = Mention(
            platform=self.platform,
            external_id=object_id,
            text=text,
            created_at=_ts(created),
            author_handle=author or "[deleted]",
            url=ITEM_URL + object_id,
            author_id=author,
            in_reply_to_id=in_reply_to,
            conversation_id=conversation,
            raw=clean,
        )
        return _Hit(object_id, created, author, text, mention, deleted)


def _term_state(saved: Any) -> dict[str, Any]:
    if not isinstance(saved, dict):
        return {"hw": None, "seen": {}, "run": None}
    hw = saved.get("hw")
    seen = saved.get("seen")
    run = saved.get("run")
    return {
        "hw": int(hw) if isinstance(hw, int | float) else None,
        "seen": {k: float(v) for k, v in seen.items()} if isinstance(seen, dict) else {},
        "run": run if isinstance(run, dict) and "since" in run else None,
    }


def _ts(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
