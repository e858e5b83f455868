"""The Reports pages: charts of every report in :mod:`monitor.reports`, and each one as CSV or JSON.

``/reports`` shows them all, ``/reports/<name>`` one of them, and
``/reports/<name>.csv`` / ``.json`` export it (``gaps`` exports the coverage
gaps). Every page and export takes the same form values: ``range`` (24h, 7d,
30d, 90d) or ``from``/``to`` dates, ``platform``, and ``hours`` (business or
all). Viewers may read and export. Handlers only parse, call and render.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import select

from monitor import reports
from monitor.reports.gaps import coverage_gaps
from monitor.reports.period import RANGES, PeriodError, ReportQuery, parse_query
from monitor.reports.settings import ReportSettings
from monitor.store import models as m
from monitor.web.auth import Viewer
from monitor.web.context import WebContext, get_ctx
from monitor.web.pages import render

router = APIRouter()

Ctx = Annotated[WebContext, Depends(get_ctx)]

PLATFORM_COLOURS = {
    "mastodon": "#6364ff",
    "bluesky": "#1185fe",
    "reddit": "#ff4500",
    "hackernews": "#f59e0b",
    "x": "#111827",
}
PALETTE = ("#0ea5e9", "#10b981", "#a855f7", "#ef4444", "#64748b", "#eab308")
STATUS_COLOURS = {"new": "#4f46e5", "acknowledged": "#d97706", "replied": "#0ea5e9"}


def _settings(ctx: WebContext) -> ReportSettings:
    cached = ctx.extras.get("report_settings")
    if cached is None:
        cached = ctx.extras["report_settings"] = ReportSettings.from_config(ctx.config)
    return cached


def _query(request: Request, ctx: WebContext, settings: ReportSettings) -> ReportQuery:
    p = request.query_params
    return parse_query(
        now=ctx.clock(),
        range_name=p.get("range") or None,
        start=p.get("from") or None,
        end=p.get("to") or None,
        platform=p.get("platform") or None,
        hours=p.get("hours") or None,
        timezone=settings.business_hours.timezone,
    )


def _platforms(ctx: WebContext) -> list[str]:
    c = m.SourceCursor.__table__
    with ctx.engine.connect() as conn:
        seen = {r[0] for r in conn.execute(select(c.c.platform).distinct())}
    configured = {ctx.config.platform_of(name) for name in ctx.config.sources}
    return sorted(p for p in seen | configured if p)


def _colour(platform: str, i: int) -> str:
    return PLATFORM_COLOURS.get(platform, PALETTE[i % len(PALETTE)])


def _period_text(query: ReportQuery, tz: str) -> str:
    zone = ZoneInfo(tz)
    a, b = query.start.astimezone(zone), query.end.astimezone(zone)
    return f"{a:%a %d %b %Y %H:%M} – {b:%a %d %b %Y %H:%M} ({tz})"


def _label(bucket: datetime, by_day: bool, tz: str) -> str:
    local = bucket.astimezone(ZoneInfo(tz))
    return local.strftime("%a %d %b") if by_day else local.strftime("%d %b %H:00")


def _charts(built: dict[str, Any], settings: ReportSettings, now: datetime) -> dict[str, Any]:
    """Chart.js-ready data per report (read by static/reports.js from a JSON script tag)."""
    tz = settings.business_hours.timezone
    out: dict[str, Any] = {}
    if "volume" in built:
        v = built["volume"]
        labels = [_label(b, v.query.by_day, tz) for b in v.buckets]
        out["volume"] = {
            "type": "volume",
            "labels": labels,
            "gaps": v.gap_buckets(now),
            "datasets": [
                {
                    "label": p,
                    "data": [v.point(b, p).mentions for b in v.buckets],
                    "color": _colour(p, i),
                }
                for i, p in enumerate(v.platforms)
            ],
        }
        out["sentiment"] = {
            "type": "sentiment",
            "labels": labels,
            "gaps": v.gap_buckets(now),
            "datasets": [
                {
                    "label": p,
                    "data": [v.point(b, p).avg_polarity for b in v.buckets],
                    "color": _colour(p, i),
                }
                for i, p in enumerate(v.platforms)
            ],
        }
    if "response" in built:
        r = built["response"]
        out["response"] = {
            "type": "histogram",
            "labels": [label for label, _ in r.histogram],
            "data": [n for _, n in r.histogram],
        }
        people = [a for a in r.agents if a.responded][:15]
        out["agents"] = {
            "type": "sla",
            "labels": [a.name for a in people],
            "data": [a.sla_pct for a in people],
            "counts": [a.responded for a in people],
        }
    if "open" in built:
        o = built["open"]
        out["open"] = {
            "type": "stacked",
            "labels": o.bands,
            "datasets": [
                {"label": s, "data": [o.counts[b][s] for b in o.bands], "color": STATUS_COLOURS[s]}
                for s in STATUS_COLOURS
            ],
        }
    if "topics" in built:
        t = built["topics"]
        out["topics"] = {
            "type": "bars",
            "labels": [x.phrase for x in t.topics],
            "data": [x.complaints for x in t.topics],
            "color": "#ef4444",
        }
    if "recovery" in built:
        rec = built["recovery"]
        out["recovery"] = {
            "type": "recovery",
            "labels": [s.platform for s in rec.platforms],
            "data": [s.pct for s in rec.platforms],
            "counts": [s.followed_up for s in rec.platforms],
        }
    return out


def _page(request: Request, ctx: WebContext, user: Any, names: list[str], single: str | None) -> HTMLResponse:
    settings = _settings(ctx)
    now = ctx.clock()
    form = dict(request.query_params)
    context: dict[str, Any] = {
        "title": reports.REPORTS[single][0] if single else "Reports",
        "active": "reports",
        "form": form,
        "ranges": list(RANGES),
        "platforms": _platforms(ctx),
        "titles": {k: v[0] for k, v in reports.REPORTS.items()},
        "single": single,
        "tz": settings.business_hours.timezone,
        "settings": settings,
        "export_qs": request.url.query,
        "query_string": lambda **kw: urlencode({k: v for k, v in kw.items() if v}),
    }
    try:
        query = _query(request, ctx, settings)
    except PeriodError as exc:
        context.update(built={}, charts={}, error_field=exc.field, query=None)
        note = ("error", str(exc))
        return render(request, ctx, "reports.html", context, status=400, user=user, message=note)
    behind = _catch_up(ctx, settings)
    built = reports.read(ctx.engine, names, query, settings, now)
    message: tuple[str, str] | None = None
    if behind:
        message = (
            "warning",
            f"Reports are still reading {behind:,} stored mentions into their summaries; "
            "figures grow as you reload.",
        )
    context.update(
        built=built,
        charts=_charts(built, settings, now),
        query=query,
        error_field=None,
        period_text=_period_text(query, settings.business_hours.timezone),
    )
    return render(request, ctx, "reports.html", context, user=user, message=message)


@router.get("/reports", response_class=HTMLResponse)
def overview(request: Request, ctx: Ctx, user: Viewer) -> HTMLResponse:
    return _page(request, ctx, user, list(reports.REPORTS), None)


# One page view reads at most this many new mentions into the roll-ups (after a big import the
# first views each take a share instead of one view taking minutes).
CATCH_UP_PER_REQUEST = 50_000


def _catch_up(ctx: WebContext, settings: ReportSettings) -> int:
    """Roll up what is new; returns how many stored mentions are still waiting."""
    return reports.catch_up(ctx.engine, settings.rollup, max_rows=CATCH_UP_PER_REQUEST).behind


def _export_rows(ctx: WebContext, request: Request, name: str) -> tuple[ReportQuery, list[dict], list[dict]]:
    settings = _settings(ctx)
    now = ctx.clock()
    query = _query(request, ctx, settings)
    _catch_up(ctx, settings)
    if name == "gaps":
        with ctx.engine.connect() as conn:
            gaps = [g.row() for g in coverage_gaps(conn, query, now)]
        return query, gaps, gaps
    built = reports.read(ctx.engine, [name], query, settings, now)[name]
    return query, built.rows(), [g.row() for g in built.gaps]


def _filename(name: str, query: ReportQuery, ext: str) -> str:
    platform = f"-{query.platform}" if query.platform else ""
    return f"mention-monitor-{name}-{query.start:%Y%m%d}-{query.end:%Y%m%d}{platform}.{ext}"


@router.get("/reports/{name}.csv")
def export_csv(name: str, request: Request, ctx: Ctx, user: Viewer) -> Response:
    if name not in reports.REPORTS and name != "gaps":
        raise HTTPException(404, f"There is no report called {name!r}.")
    try:
        query, rows, _ = _export_rows(ctx, request, name)
    except PeriodError as exc:
        return Response(f"{exc}\n", status_code=400, media_type="text/plain")
    buf = io.StringIO()
    columns = list(rows[0]) if rows else ["(no rows)"]
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        # A leading = + - @ makes spreadsheets run the cell as a formula: quote it as text.
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return Response(
        buf.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{_filename(name, query, "csv")}"'},
    )


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@router.get("/reports/{name}.json")
def export_json(name: str, request: Request, ctx: Ctx, user: Viewer) -> Response:
    if name not in reports.REPORTS and name != "gaps":
        raise HTTPException(404, f"There is no report called {name!r}.")
    try:
        query, rows, gaps = _export_rows(ctx, request, name)
    except PeriodError as exc:
        return JSONResponse({"error": str(exc), "field": exc.field}, status_code=400)
    body = {
        "report": name,
        "start": query.start.isoformat(),
        "end": query.end.isoformat(),
        "platform": query.platform,
        "hours": "business" if query.business_hours else "all",
        "rows": rows,
        "coverage_gaps": gaps,
    }
    return Response(
        json.dumps(body, ensure_ascii=False, default=str),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{_filename(name, query, "json")}"'},
    )


@router.get("/reports/{name}", response_class=HTMLResponse)
def one(name: str, request: Request, ctx: Ctx, user: Viewer) -> HTMLResponse:
    if name not in reports.REPORTS:
        raise HTTPException(404, f"There is no report called {name!r}.")
    return _page(request, ctx, user, [name], name)
