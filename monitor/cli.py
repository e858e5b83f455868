"""The ``mention-monitor`` command: one subcommand per job, each with --help and a clear exit status.

Exit status: 0 success; 1 the job ran but something failed (a source, a row, a
delivery); 2 bad usage or config; 3 the database cannot be used.

Start-up time: import heavy modules inside the command function that needs them (the triage
engine, TextBlob, Apprise, alembic, rich tables, the daemon, the web app), never at the top of
this file or in a parser-building function: every command, even ``--version``, pays for each
top-level import. Check with ``python -X importtime -m monitor --version`` and bench/cli.py.
"""

from __future__ import annotations

import argparse
import csv
import getpass
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor import __version__, logs

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.triage.settings import TriageSettings

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_STORAGE = 0, 1, 2, 3

log = logging.getLogger("monitor")


class _LazyConsole:
    """A rich Console made on first use (importing rich costs every command ~50 ms)."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Any = None

    def get(self) -> Any:
        """The rich Console itself, for what needs the object (``Progress(console=…)`` enters it
        as a context manager, which attribute forwarding cannot provide)."""
        if self._console is None:
            from rich.console import Console

            options = dict(self._options)
            if options.pop("wide_when_piped", False):
                # Piped output (less, grep, a file) gets a wide page instead of 80 squashed columns.
                # COLUMNS, when set, is the width asked for, piped or not.
                options["width"] = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160
            self._console = Console(**options)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.get(), name)


out: Any = _LazyConsole(highlight=False, soft_wrap=True, wide_when_piped=True)
# soft_wrap: messages are not cut at 80 columns when stderr is a pipe or a log (a wrapped path or
# command cannot be copied); a terminal wraps them itself.
err: Any = _LazyConsole(stderr=True, highlight=False, soft_wrap=True)

Handler = Callable[[argparse.Namespace], int]
_HANDLERS: dict[str, Handler] = {}


def command(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        _HANDLERS[name] = fn
        return fn

    return register


# ----------------------------------------------------------------------------- helpers


def _config(args: argparse.Namespace) -> Config:
    from monitor.config import ConfigError, load_config

    if not getattr(args, "config", None):
        raise ConfigError(["no config file given: pass -c /etc/mention-monitor/config.yaml"])
    config = load_config(args.config)
    logs.register_config(config)  # its secrets are masked in every log line and message from here on
    return config


# Commands that print only stored mentions and what they did to them: with -c they read the
# config's storage.url alone (monitor.configfile), not the whole validated config (~0.3-0.5 s).
# Commands that print config-derived text (sources, alerts) load it all, so its secrets are masked.
_STORAGE_ONLY = frozenset({"mentions", "ack", "resolve", "ignore", "reopen", "assign", "label"})


def _or_dash(value: Any) -> str:
    return "—" if value is None else str(value)


def _triage_settings(args: argparse.Namespace) -> TriageSettings | None:
    """The config's triage settings (the urgency a relabel gives); None (the defaults) without -c."""
    if not getattr(args, "config", None):
        return None
    from monitor.configfile import triage_settings

    found = triage_settings(args.config)
    if found is None:  # the full loader says what is wrong
        from monitor.config import load_config

        found = load_config(args.config, check_targets=False).triage
    return found


def _engine(args: argparse.Namespace, *, create: bool = False):  # type: ignore[no-untyped-def]
    """The database from --db, else the config's storage.url, else the default SQLite file.

    Only commands that write pass ``create=True``; the others refuse a SQLite file that does
    not exist (exit 3) rather than create an empty one at a mistyped path.
    """
    from monitor.store.db import make_engine, migrate

    if getattr(args, "db", None):
        url = args.db
    elif getattr(args, "config", None):
        url = None
        if getattr(args, "command", None) in _STORAGE_ONLY:
            from monitor.configfile import storage_url

            url = storage_url(args.config)  # None: the full loader below says what is wrong
            if url is not None:
                logs.register_secrets([url])  # the URL's password, if any, stays masked
        if url is None:
            from monitor.config import load_config

            loaded = load_config(args.config, check_targets=False)
            logs.register_config(loaded)  # its secrets are masked in what the command prints
            url = loaded.storage.url.get_secret_value()
    else:
        from monitor.store.location import database_to_read, default_database_url

        env_url = os.environ.get("MENTION_MONITOR_DB")
        url = (env_url or default_database_url()) if create else database_to_read()
    engine = make_engine(url, create=create)
    migrate(engine)
    return engine


def _actor(args: argparse.Namespace) -> str:
    if getattr(args, "actor", None):
        return args.actor
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def _ago(ts: datetime | None, now: datetime) -> str:
    if ts is None:
        return "—"
    secs = int((now - ts).total_seconds())
    if secs < 60:
        return f"{secs}s ago"
    if secs < 3600:
        return f"{secs // 60}m ago"
    if secs < 86400:
        return f"{secs // 3600}h ago"
    return f"{secs // 86400}d ago"


def _positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {n}")
    return n


_LABEL_CHOICES = ("complaint", "question", "praise", "neutral", "spam", "unscored")


def _add_bulk_args(p: argparse.ArgumentParser) -> None:
    """The bulk forms of a per-id workflow command (one transaction per 500 mentions)."""
    p.add_argument(
        "--from-file",
        metavar="FILE",
        help="mention ids, one per line, or a CSV exported by `mentions --format csv` ('-': stdin)",
    )
    p.add_argument(
        "--where",
        metavar="FILTERS",
        help="every mention matching mentions' filters, e.g. 'label=spam since=7d search=\"free prize\"' "
        "(keys: platform, label, priority, status, assignee, since, search)",
    )
    p.add_argument("--dry-run", action="store_true", help="with --from-file/--where: count, change nothing")


def _add_db_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("-c", "--config", help="config file (its storage.url is used)")
    p.add_argument("--db", help="database URL, overriding the config (e.g. sqlite:////path/mentions.db)")


# ----------------------------------------------------------------------------- config


@command("check-config")
def cmd_check_config(args: argparse.Namespace) -> int:
    import yaml

    from monitor.config import masked

    config = _config(args)
    out.print(yaml.safe_dump(masked(config), sort_keys=False, allow_unicode=True).rstrip())
    if config.triage.model_path:
        from rich.markup import escape

        from monitor.config import model_path_problem

        # Optional: `run` goes on without it (rules only), so a warning, not a refusal to start.
        problem = model_path_problem(config.triage.model_path, args.config)
        if problem:
            err.print(f"[yellow]warning[/]: {escape(problem)}; until then triage runs on rules only")
    enabled = ", ".join(config.enabled_sources()) or "none"
    err.print(f"[green]config OK[/]: {args.config} (sources enabled: {enabled})")
    return EXIT_OK


# ----------------------------------------------------------------------------- running


@command("run")
def cmd_run(args: argparse.Namespace) -> int:
    from monitor.daemon import Daemon

    config = _config(args)
    logs.setup(args.log_level or config.logging.level, config.logging.format)
    daemon = Daemon(config, config_path=args.config)
    clean = daemon.run_forever()
    return EXIT_OK if clean else EXIT_FAILED


@command("poll-once")
def cmd_poll_once(args: argparse.Namespace) -> int:
    from monitor.alerts.outbox import undelivered_since
    from monitor.daemon import Daemon

    config = _config(args)
    logs.setup(args.log_level or config.logging.level, config.logging.format)
    daemon = Daemon(config)
    # A second of slack: a database may keep timestamps to the second.
    started = datetime.now(UTC) - timedelta(seconds=1)
    outcomes = daemon.poll_once()
    undelivered = undelivered_since(daemon.engine, started)
    daemon.engine.dispose()
    failed = 0
    for o in outcomes:
        r = o.result
        if o.skipped_lease:
            out.print(f"{o.source}: skipped (another instance holds its lease)")
        elif o.error:
            failed += 1
            out.print(f"{o.source}: [red]{o.state}[/] — {o.error}")
        else:
            out.print(
                f"{o.source}: {r.stored} new, {r.duplicates} already stored, "
                f"{sum(r.filtered.values())} filtered, {r.alerts} alert(s), {o.pages} page(s)"
            )
    if undelivered:
        failed += 1
        out.print(f"[red]{len(undelivered)} alert delivery(ies) failed[/]:")
        for d in undelivered[:10]:
            line = f"  alert #{d['alert_id']} to {d['destination_label']}: {d['status']}"
            out.print(line + (f" — {d['last_error']}" if d["last_error"] else ""), markup=False)
        out.print("  details: mention-monitor alerts --status failed (failed ones are retried by the daemon)")
    return EXIT_FAILED if failed else EXIT_OK


@command("demo")
def cmd_demo(args: argparse.Namespace) -> int:
    from monitor.demo import run_demo

    return run_demo(
        duration=args.duration, once=args.once, db=args.db, keep=args.keep, out=out, web=not args.no_web
    )


# ----------------------------------------------------------------------------- mentions


_COLUMNS = [
    "id",
    "created_at",
    "platform",
    "priority",
    "urgency",
    "label",
    "status",
    "author_handle",
    "author_followers",
    "text",
]


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


@command("mentions")
def cmd_mentions(args: argparse.Namespace) -> int:
    from monitor.store.queries import MentionFilter, find_mentions, parse_since

    try:
        since = parse_since(args.since) if args.since else None
    except ValueError as exc:
        err.print(f"[red]error[/]: {exc}")
        return EXIT_USAGE
    engine = _engine(args)
    rows = find_mentions(
        engine,
        MentionFilter(
            platform=args.platform,
            label=args.label,
            priority=args.priority,
            severity=args.severity,
            status=args.status,
            since=since,
            search=args.search,
            assignee=args.assignee,
            limit=args.limit,
        ),
    )
    if args.format == "json":
        for row in rows:
            sys.stdout.write(json.dumps(row, default=_json_default, ensure_ascii=False) + "\n")
    elif args.format == "csv":
        if rows:
            w = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]))
            w.writeheader()
            for row in rows:
                w.writerow(
                    {
                        k: json.dumps(v, ensure_ascii=False)
                        if isinstance(v, (dict, list))
                        else v.isoformat()
                        if isinstance(v, datetime)
                        else v
                        for k, v in row.items()
                    }
                )
    else:
        for line in _mentions_table(rows, _console_width(), datetime.now(UTC)):
            _say(line.rstrip())
    limit = " (limit reached: use --limit)" if len(rows) == args.limit else ""
    sys.stdout.flush()
    sys.stderr.write(f"{len(rows)} mention(s){limit} from {_where(engine)}\n")
    return EXIT_OK


def _console_width() -> int:
    """The width ``out`` would print at: COLUMNS when set, the terminal's, else 160 when piped."""
    if os.environ.get("COLUMNS", "").isdigit():
        return int(os.environ["COLUMNS"])
    if not sys.stdout.isatty():
        return 160
    try:
        return os.get_terminal_size(sys.stdout.fileno()).columns
    except (OSError, ValueError):
        return 80


def _where(engine: Any) -> str:
    """The database a command read, as a person would find it: the file, or the URL without password."""
    if engine.dialect.name == "sqlite" and engine.url.database:
        return engine.url.database
    return engine.url.render_as_string(hide_password=True)


# The table's columns, most useful first: at any width the first ones are kept and the text fills
# what is left; narrower consoles drop columns from the end instead of squeezing every column.
_TABLE_COLUMNS = ("id", "pri", "label", "sev", "platform", "author", "when", "status", "urg")
_AUTHOR_MAX = 20


def _mentions_table(rows: Sequence[dict[str, Any]], width: int, now: datetime) -> list[str]:
    """One line per mention at ``width`` cells: the columns that fit, then the text cut with "…"."""
    cells: dict[str, list[str]] = {c: [] for c in _TABLE_COLUMNS}
    texts = []
    for r in rows:
        followers = f" ({r['author_followers']:,})" if r["author_followers"] else ""
        cells["id"].append(str(r["id"]))
        cells["pri"].append(r["priority"] or "")
        cells["label"].append(r["label"] or "")
        cells["sev"].append(r.get("severity") or "")
        cells["platform"].append(r["platform"])
        cells["author"].append(f"@{r['author_handle']}{followers}")
        cells["when"].append(_ago(r["created_at"], now))
        # The claim and a failed reply show in the listing (responder).
        status = "reply failed" if r.get("reply_status") == "failed" else r["status"]
        cells["status"].append(status + (f" ({r['claimed_by']})" if r.get("claimed_by") else ""))
        cells["urg"].append(str(r["urgency"] if r["urgency"] is not None else ""))
        texts.append(" ".join(r["text"].split()))
    widths = {c: max([len(c), *(len(v) for v in cells[c])]) for c in _TABLE_COLUMNS}
    author_max = min(_AUTHOR_MAX, max(12, width // 6))
    if widths["author"] > author_max:
        # Too narrow for "@handle (followers)": the handle alone reads better than a cut count.
        cells["author"] = [f"@{r['author_handle']}" for r in rows]
        widths["author"] = min(author_max, max([6, *(len(v) for v in cells["author"])]))
    text_min = max(24, int(width * 0.3))
    chosen: list[str] = []
    used = 0
    for col in _TABLE_COLUMNS:
        need = widths[col] + 2  # one space of padding each side
        if chosen and width - (used + need) - 2 < text_min:
            break
        chosen.append(col)
        used += need
    text_width = max(10, width - used - 2)
    columns = [*((c, widths[c]) for c in chosen), ("text", text_width)]
    body = [[*(cells[c][i] for c in chosen), text] for i, text in enumerate(texts)]
    return _table_lines(columns, body)


def _table_lines(columns: Sequence[tuple[str, int]], body: Sequence[Sequence[str]]) -> list[str]:
    """A header, a rule and one line per row, columns two spaces apart, each cell cut to its
    column's width with "…" (as rich's SIMPLE_HEAD table, without loading rich.console: ~0.1 s)."""
    from rich.cells import cell_len, set_cell_size

    utf = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "").startswith("utf")
    ellipsis, rule = ("…", "─") if utf else ("...", "-")
    sizes = [
        min(limit, max(cell_len(name), *(cell_len(row[i]) for row in body)) if body else cell_len(name))
        for i, (name, limit) in enumerate(columns)
    ]

    def fit(value: str, size: int) -> str:
        if cell_len(value) <= size:
            return set_cell_size(value, size)
        cut = max(0, size - cell_len(ellipsis))
        return set_cell_size(set_cell_size(value, cut) + ellipsis, size)

    def line(values: Sequence[str]) -> str:
        return "  ".join(fit(v, size) for v, size in zip(values, sizes, strict=True))

    return [line([name for name, _ in columns]), rule * (sum(sizes) + 2 * (len(sizes) - 1))] + [
        line(row) for row in body
    ]


def _say(line: str) -> None:
    """One plain line on stdout: what a workflow command did (rich is not loaded for it: ~50 ms)."""
    sys.stdout.write(line + "\n")


def _print_outcomes(outcomes: Sequence[Any]) -> int:
    failed = 0
    for o in outcomes:
        if o.result == "missing":
            failed += 1
            err.print(f"[red]#{o.mention_id}[/]: {o.detail}")
        elif o.result == "unchanged":
            _say(f"#{o.mention_id}: unchanged ({o.detail})")
        else:
            _say(f"#{o.mention_id}: {o.status}" + (f" — {o.detail}" if o.detail else ""))
    return EXIT_FAILED if failed else EXIT_OK


class _BadTargets(ValueError):
    """The ids/--from-file/--where given to a workflow command cannot be used (usage error)."""


def _read_ids(name: str) -> list[int]:
    """Mention ids from a file (``-``: stdin): one per line, or the ``id`` column of an exported CSV.

    Blank lines and ``#`` comments are skipped; the first field of a line counts.
    """
    try:
        if name == "-":
            lines = sys.stdin.read().splitlines()
        else:
            lines = Path(name).read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise _BadTargets(f"--from-file {name}: cannot read it ({exc.strerror})") from None
    ids = []
    for number, line in enumerate(lines, 1):
        first = line.strip().replace(",", " ").replace("\t", " ").split(" ", 1)[0].strip('"')
        if not first or first.startswith("#") or (number == 1 and first.lower() == "id"):
            continue
        try:
            ids.append(int(first))
        except ValueError:
            raise _BadTargets(
                f"--from-file {name}, line {number}: {first!r} is not a mention id "
                "(one id per line, or a CSV from `mentions --format csv`)"
            ) from None
    return ids


def _selection(args: argparse.Namespace, ids: list[int]) -> tuple[list[int] | None, Any]:
    """(ids from --from-file, or None; the --where filter, or None), checked before the database opens."""
    if sum([bool(ids), bool(args.from_file), bool(args.where)]) != 1:
        raise _BadTargets("give mention ids, or --from-file FILE, or --where FILTERS (exactly one of them)")
    if args.from_file:
        return _read_ids(args.from_file), None
    from monitor.store.queries import parse_where

    try:
        return None, parse_where(args.where)
    except ValueError as exc:
        raise _BadTargets(str(exc)) from None


def _print_bulk(summary: Any, verb: str) -> int:
    """One summary line; missing ids listed (the first 20) on stderr; exit 1 when some were missing."""
    _say(
        f"{verb}: {summary.changed:,} changed, {summary.unchanged:,} unchanged, "
        f"{len(summary.missing):,} missing (of {summary.total:,})"
    )
    if summary.missing:
        shown = ", ".join(str(i) for i in summary.missing[:20])
        more = f" and {len(summary.missing) - 20:,} more" if len(summary.missing) > 20 else ""
        err.print(f"no mention with id {shown}{more}", markup=False)
        return EXIT_FAILED
    return EXIT_OK


def _run_bulk(args: argparse.Namespace, action: str, ids: list[int], **kwargs: Any) -> int | None:
    """Handle the --from-file/--where forms of a workflow command; None when ids came as arguments."""
    from monitor import workflow

    if ids and not (args.from_file or args.where):
        return None
    try:
        targets, where = _selection(args, ids)
    except _BadTargets as exc:
        err.print(f"[red]error[/]: {exc}", highlight=False)
        return EXIT_USAGE
    engine = _engine(args)
    if targets is None:
        from monitor.store.queries import mention_ids

        targets = mention_ids(engine, where)
    if args.dry_run:
        out.print(f"would {action} {len(set(targets)):,} mention(s); nothing changed (--dry-run)")
        return EXIT_OK
    summary = workflow.bulk(engine, targets, action, actor=_actor(args), **kwargs)
    return _print_bulk(summary, action)


def _workflow(action: str) -> Handler:
    def handler(args: argparse.Namespace) -> int:
        from monitor import workflow

        extra = {"assignee": args.to} if action == "assign" else {"note": getattr(args, "note", None)}
        done = _run_bulk(args, action, args.ids, **extra)
        if done is not None:
            return done
        engine = _engine(args)
        if action == "assign":
            return _print_outcomes(workflow.assign(engine, args.ids, args.to, actor=_actor(args)))
        return _print_outcomes(
            workflow.transition(
                engine, args.ids, action, actor=_actor(args), note=getattr(args, "note", None)
            )
        )

    return handler


for _name, _action in (
    ("ack", "acknowledge"),
    ("resolve", "resolve"),
    ("ignore", "ignore"),
    ("reopen", "reopen"),
    ("assign", "assign"),
):
    _HANDLERS[_name] = _workflow(_action)


@command("label")
def cmd_label(args: argparse.Namespace) -> int:
    from monitor import workflow
    from monitor.triage.model import LABELS

    if args.file:
        if args.words or args.from_file or args.where or args.severity:
            err.print("[red]error[/]: label --file reads ids and labels from the file; give no others")
            return EXIT_USAGE
        return _label_from_file(args)
    # `label [ID…] LABEL`; the bulk forms take only LABEL (`label spam --where 'search=prize'`).
    *raw_ids, label = args.words or [""]
    if label not in LABELS:
        err.print(f"[red]error[/]: label {label!r} is not one of {', '.join(LABELS)}", highlight=False)
        return EXIT_USAGE
    try:
        ids = [int(i) for i in raw_ids]
    except ValueError:
        err.print(f"[red]error[/]: mention ids are numbers, got {' '.join(raw_ids)!r}", highlight=False)
        return EXIT_USAGE
    severity = args.severity
    if severity and (not ids or args.from_file or args.where):
        err.print("[red]error[/]: --severity goes with label ID [ID …] LABEL (--file has a severity column)")
        return EXIT_USAGE
    triage = _triage_settings(args)
    done = _run_bulk(args, "label", ids, label=label, triage=triage)
    if done is not None:
        return done
    engine = _engine(args)
    try:
        if len(ids) == 1:
            one = workflow.correct_label(
                engine, ids[0], label, actor=_actor(args), severity=severity, triage=triage
            )
            return _print_outcomes([one])
        outcomes = workflow.correct_labels(
            engine, ids, label, actor=_actor(args), severity=severity, triage=triage
        )
    except workflow.WorkflowError as exc:  # e.g. a severity with a label other than complaint
        err.print(f"[red]error[/]: {exc}", highlight=False)
        return EXIT_USAGE
    return _print_outcomes(outcomes)


@command("show")
def cmd_show(args: argparse.Namespace) -> int:
    from monitor.store.queries import mention_detail

    engine = _engine(args)
    window = 30.0
    if getattr(args, "config", None) and not getattr(args, "db", None):
        from monitor.config import load_config

        window = load_config(args.config, check_targets=False).alerts.author_window_minutes
    detail = mention_detail(engine, args.id, author_window_minutes=window)
    if detail is None:
        err.print(f"no mention with id {args.id} in {_where(engine)}", markup=False)
        return EXIT_FAILED
    if args.format == "json":
        sys.stdout.write(json.dumps(detail, default=_json_default, ensure_ascii=False, indent=2) + "\n")
        return EXIT_OK
    for line in _show_lines(detail, datetime.now(UTC)):
        out.print(line, markup=False)
    return EXIT_OK


def _when(ts: datetime | None, now: datetime) -> str:
    return f"{ts:%Y-%m-%d %H:%M} UTC ({_ago(ts, now)})" if ts else "—"


def _show_lines(detail: dict[str, Any], now: datetime) -> list[str]:
    """``show``: the whole mention, then what happened to it, oldest first."""
    r = detail["mention"]
    followers = f", {r['author_followers']:,} followers" if r.get("author_followers") is not None else ""
    name = f" ({r['author_name']})" if r.get("author_name") else ""
    lines = [
        f"#{r['id']} · {r['platform']} · {r.get('priority') or '—'} {r.get('label') or 'unscored'}"
        + (f" ({r['severity']})" if r.get("severity") else "")
        + f" · urgency {r.get('urgency') if r.get('urgency') is not None else '—'} · {r['status']}",
        f"author:   @{r['author_handle']}{name}{followers}",
        f"posted:   {_when(r['created_at'], now)}",
        f"url:      {r.get('url') or '—'}",
    ]
    if r.get("language"):
        lines.append(f"language: {r['language']}")
    if r.get("assignee"):
        lines.append(f"assignee: {r['assignee']}")
    if r.get("claimed_by"):
        lines.append(f"claimed:  by {r['claimed_by']} {_when(r.get('claimed_at'), now)}")
    for key in ("acknowledged_at", "first_response_at", "resolved_at"):
        if r.get(key):
            lines.append(f"{key.removesuffix('_at').replace('_', ' ')}: {_when(r[key], now)}")
    lines += ["", "text:"] + [f"  {t}" for t in (r["text"] or "").splitlines()]
    lines += ["", "why (triage reasons):"]
    lines += [f"  - {reason}" for reason in (r.get("reasons") or [])] or ["  none recorded"]
    lines += ["", "alerts:"]
    if not detail["deliveries"]:
        earlier = detail.get("earlier_author_alert")
        if r.get("incident_id") is not None:
            lines.append(f"  none of its own: part of incident #{r['incident_id']} (a storm alerts once)")
        elif earlier:
            gap = _ago(earlier["created_at"], r.get("fetched_at") or r["created_at"]).removesuffix(" ago")
            when = "in the same batch" if gap == "0s" else f"{gap} before"
            lines.append(
                f"  none: @{r['author_handle']} already alerted {when} (alert #{earlier['alert_id']} for "
                f"mention #{earlier['mention_id']}): one alert per author within alerts.author_window_minutes"
            )
        else:
            lines.append("  none (no route matched it, P3 waits for the digest, or alerts were off)")
    for d in detail["deliveries"]:
        where = d["destination_label"] or "(no destination)"
        got = f" {_when(d['delivered_at'], now)}" if d.get("delivered_at") else ""
        error = f" — {d['last_error']}" if d.get("last_error") and d["status"] != "delivered" else ""
        lines.append(
            f"  alert #{d['alert_id']} ({d['kind']}, route {d['route']}) → {where}: "
            f"{d['status'] or 'not queued'}{got} after {d['attempts'] or 0} attempt(s){error}"
        )
    if detail["replies"]:
        lines += ["", "replies:"]
        for rep in detail["replies"]:
            link = f" {rep['platform_reply_url']}" if rep.get("platform_reply_url") else ""
            lines.append(f"  {_when(rep['created_at'], now)} by {rep['author']}: {rep['status']}{link}")
            lines.append(f"    {' '.join(rep['body'].split())}")
    lines += ["", "history:"]
    history: list[tuple[datetime, str]] = []
    for ev in detail["events"]:
        info = ev.get("detail") or {}
        change = f" {info.get('before') or '—'} → {info.get('after') or '—'}" if "after" in info else ""
        if "severity_after" in info:  # a relabel that changed the severity too
            change += (
                f" (severity {info.get('severity_before') or '—'} → {info.get('severity_after') or '—'})"
            )
        if "priority_after" in info:  # a relabel that moved the priority (triage's is kept here)
            change += (
                f" (priority {info.get('priority_before') or '—'} → {info.get('priority_after') or '—'},"
                f" urgency {_or_dash(info.get('urgency_before'))} → {_or_dash(info.get('urgency_after'))})"
            )
        note = f" ({info['note']})" if info.get("note") else ""
        history.append((ev["at"], f"{ev['actor']}: {ev['action']}{change}{note}"))
    # A relabel is an audit event already; a confirmation of triage's label is only a correction row.
    # A new severity with the same label is an audit event too ("severity"), written with its row.
    rated_at = {ev["at"] for ev in detail["events"] if ev["action"] == "severity"}
    for c in detail["corrections"]:
        if c["predicted"] == c["corrected"] and c["at"] not in rated_at:
            said = f", severity {c['severity']}" if c.get("severity") else ""
            history.append((c["at"], f"{c['actor']}: confirmed label {c['corrected']}{said}"))
    history.sort(key=lambda item: item[0])
    lines += [f"  {_when(at, now)} {what}" for at, what in history] or ["  nothing done yet"]
    return lines


# ----------------------------------------------------------------------------- triage feedback


@command("triage-eval")
def cmd_triage_eval(args: argparse.Namespace) -> int:
    from monitor.corrections import evaluate_corrections, evaluate_severity
    from monitor.triage import Triager
    from monitor.triage.learned import load_model

    config = _config(args)
    triager = Triager(
        config.triage, brand_terms=config.brand.terms, learned=load_model(config.triage.model_path)
    )
    report, n = evaluate_corrections(_engine(args), triager)
    if n == 0:
        err.print("no label corrections yet: correct labels with `mention-monitor label ID LABEL` first")
        return EXIT_FAILED
    out.print(f"current triage settings against {n} label correction(s) by your team:")
    out.print(report.format(), markup=False)
    severity = evaluate_severity(_engine(args), triager)
    out.print("")
    if severity.rated:
        out.print(severity.format(), markup=False)
    else:
        out.print(
            "severity: none of the corrections rates a complaint's severity yet "
            "(label ID complaint --severity severe|moderate|mild, or a label file's severity column)",
            markup=False,
        )
    return EXIT_OK


@command("triage-train")
def cmd_triage_train(args: argparse.Namespace) -> int:
    from monitor.corrections import train_from_corrections
    from monitor.triage.learned import LearnedModelError

    if args.from_file:
        return _train_from_file(args)
    if not args.config:
        err.print("triage-train needs -c CONFIG (to train on the team's corrections) or --from FILE")
        return EXIT_USAGE
    config = _config(args)
    target = args.out or config.triage.model_path
    if not target:
        err.print("where should the model go? pass --out PATH, or set triage.model_path in the config")
        return EXIT_USAGE
    problem = _model_target_problem(target) or _learn_missing()
    if problem:
        err.print(problem, markup=False)
        return EXIT_USAGE if problem.startswith("--out") else EXIT_FAILED
    try:
        model = train_from_corrections(_engine(args), Path(target).expanduser())
    except ImportError as exc:
        err.print(str(exc), markup=False)
        return EXIT_FAILED
    except LearnedModelError as exc:
        err.print(f"cannot train: {exc}", markup=False)
        return EXIT_FAILED
    except OSError as exc:
        err.print(f"cannot write the model to {target}: {exc.strerror or exc}", markup=False)
        return EXIT_FAILED
    meta = model.meta
    out.print(
        f"trained on {meta.get('examples')} correction(s) ({meta.get('complaints')} complaints); "
        f"saved to {target}"
    )
    if (
        not config.triage.model_path
        or Path(config.triage.model_path).expanduser() != Path(target).expanduser()
    ):
        out.print(f"to use it, set triage.model_path: {target} in the config and restart the daemon")
    return EXIT_OK


def _model_target_problem(target: str) -> str | None:
    """Why the model cannot be saved at ``target`` (checked before any reading or fitting)."""
    path = Path(target).expanduser()
    if path.is_dir():
        return f"--out {target} is a directory: name the model file, e.g. {path / 'model.json.gz'}"
    return None


def _learn_missing() -> str | None:
    """The install hint when scikit-learn (the ``learn`` extra) cannot be imported, else None."""
    try:
        import sklearn  # noqa: F401
    except ImportError:
        return "triage-train needs scikit-learn: install the learn extra (pip install '.[learn]')"
    return None


def _escape(text: str) -> str:
    """``text`` with rich markup characters escaped (file names and values may hold "[...]")."""
    from rich.markup import escape

    return escape(text)


def _progress(label: str, quiet: bool) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    return Progress(*columns, console=err.get(), disable=quiet or not err.is_terminal)


def _train_from_file(args: argparse.Namespace) -> int:
    """``triage-train --from FILE``: fit the classifier on any labelled CSV/JSONL file."""
    from monitor.labelfile import LabelFileError, read_training_file, training_problem
    from monitor.rowfile import RowError, count_rows
    from monitor.triage.learned import LearnedModelError, train

    path = Path(args.from_file).expanduser()
    target = args.out
    if not target and args.config:
        target = _config(args).triage.model_path
    if not target:
        err.print("where should the model go? pass --out PATH (or -c CONFIG with triage.model_path)")
        return EXIT_USAGE
    problem = _model_target_problem(target) or _learn_missing()
    if problem:
        err.print(problem, markup=False)
        return EXIT_USAGE if problem.startswith("--out") else EXIT_FAILED
    examples: list[tuple[str, str]] = []
    errors: list[RowError] = []
    try:
        with _progress("reading", args.quiet) as progress:
            task = progress.add_task("read", total=count_rows(path) if path.is_file() else None)
            for row in read_training_file(path, text_column=args.text_column, label_column=args.label_column):
                if isinstance(row, RowError):
                    errors.append(row)
                else:
                    examples.append((row.text, row.label))
                progress.advance(task)
    except LabelFileError as exc:
        err.print(f"[red]error[/]: {_escape(str(exc))}", highlight=False)
        return EXIT_USAGE
    for e in errors[:10]:
        err.print(f"line {e.line}: {e.reason}", markup=False)
    if len(errors) > 10:
        err.print(f"… and {len(errors) - 10} more rows skipped", markup=False)
    problem = training_problem(examples, args.label_column)
    if problem:
        err.print(f"cannot train on {path.name}: {problem}", markup=False)
        return EXIT_FAILED
    try:
        with err.status(f"fitting on {len(examples):,} labelled texts…"):
            model = train(examples)
        model.meta["source"] = path.name
        model.save(Path(target).expanduser())
    except ImportError as exc:
        err.print(str(exc), markup=False)
        return EXIT_FAILED
    except LearnedModelError as exc:
        err.print(f"cannot train: {exc}", markup=False)
        return EXIT_FAILED
    except OSError as exc:
        err.print(f"cannot write the model to {target}: {exc.strerror or exc}", markup=False)
        return EXIT_FAILED
    meta = model.meta
    out.print(
        f"trained on {meta.get('examples'):,} row(s) of {path.name} ({meta.get('complaints'):,} complaints; "
        f"{len(errors):,} row(s) skipped); saved to {target}"
    )
    out.print(f"to use it, set triage.model_path: {target} in the config and restart the daemon")
    return EXIT_FAILED if not examples else EXIT_OK


def _label_from_file(args: argparse.Namespace) -> int:
    """``label --file FILE``: many labels (and severities) from CSV/JSONL, one transaction per chunk."""
    from monitor import workflow
    from monitor.labelfile import LabelFileError, read_label_file
    from monitor.rowfile import RowError, count_rows

    path = Path(args.file).expanduser()
    bad: list[tuple[int, str]] = []

    engine = _engine(args)
    triage = _triage_settings(args)
    try:
        with _progress("labelling", args.quiet) as progress:
            task = progress.add_task("label", total=count_rows(path) if path.is_file() else None)

            def good_rows():  # type: ignore[no-untyped-def]
                for row in read_label_file(path):
                    if isinstance(row, RowError):
                        bad.append((row.line, row.reason))
                        progress.advance(task)  # the bar counts every row of the file, bad ones too
                    else:
                        yield row

            report = workflow.apply_label_rows(
                engine,
                good_rows(),
                actor=_actor(args),
                progress=lambda n: progress.advance(task, n),
                triage=triage,
            )
    except LabelFileError as exc:
        err.print(f"[red]error[/]: {_escape(str(exc))}", highlight=False)
        return EXIT_USAGE
    errors = sorted(bad + report.errors)
    stopped = "interrupted: " if report.interrupted else ""
    out.print(
        f"{path.name}: {stopped}{report.changed:,} changed, {report.unchanged:,} unchanged, "
        f"{len(errors):,} row(s) not applied",
        markup=False,
    )
    for line, reason in errors[:20]:
        err.print(f"line {line}: {reason}", markup=False)
    if len(errors) > 20:
        err.print(f"… and {len(errors) - 20:,} more", markup=False)
    if report.interrupted:
        err.print(
            "stopped before the end of the file (the rows counted above are saved, the rest are not): "
            "run the same command again to finish; rows already applied count as unchanged",
            markup=False,
        )
        return 130
    return EXIT_FAILED if errors else EXIT_OK


# ----------------------------------------------------------------------------- sources


def _budget_text(budget: dict[str, Any]) -> str:
    if not budget:
        return ""
    used, limit = budget.get("requests_last_hour", 0), budget.get("per_hour")
    return f"{used}/{limit} req/h" if limit else f"{used} req/h"


@command("sources")
def cmd_sources(args: argparse.Namespace) -> int:
    from monitor.store.queries import source_health

    rows = source_health(_engine(args))
    if args.format == "json":
        sys.stdout.write(json.dumps(rows, default=_json_default, indent=2) + "\n")
        return EXIT_OK
    now = datetime.now(UTC)
    if not rows:
        out.print("no source has polled yet (start the daemon or run poll-once)")
    for r in rows:
        style = "green" if r["state"] == "ok" else "red"
        since = _ago(r["state_since"], now)
        out.print(f"[bold]{r['source']}[/] ({r['platform']}): [{style}]{r['state']}[/] since {since}")
        budget = _budget_text(r["budget"] or {})
        out.print(
            f"  last success {_ago(r['last_success_at'], now)} · {r['mentions_total']} mentions · "
            f"{r['requests_total']} requests" + (f" · budget {budget}" if budget else "")
        )
        if r["last_error"] and r["state"] != "ok":
            out.print(f"  error: {r['last_error']}", markup=False)
        skipped = ", ".join(f"{k} {v}" for k, v in sorted((r["skipped"] or {}).items()))
        if skipped:
            out.print(f"  skipped: {skipped}", markup=False)
        gaps = "; ".join(
            f"{g['start']:%Y-%m-%d %H:%M}–{g['end']:%H:%M} UTC"
            if g["end"]
            else f"{g['start']:%Y-%m-%d %H:%M} UTC–now (open)"
            for g in r["gaps"][:3]
        )
        out.print(f"  coverage gaps: {gaps or 'none'}")
        out.print(f"  cursor: {json.dumps(r['cursor'], default=str)[:300]}", markup=False)
    return EXIT_OK


# ----------------------------------------------------------------------------- import


@command("import")
def cmd_import(args: argparse.Namespace) -> int:
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from monitor.config import load_config, parse_config
    from monitor.importer import ImportFormatError, import_file, write_rejects
    from monitor.pipeline import Pipeline
    from monitor.rowfile import check_file, count_rows

    path = Path(args.file)
    try:
        check_file(path, error=ImportFormatError)  # before a database is made or a row stored
    except ImportFormatError as exc:
        err.print(f"[red]error[/]: {escape(str(exc))}", highlight=False)
        return EXIT_USAGE
    config = load_config(args.config) if args.config else parse_config({"brand": {"names": [args.brand]}})
    engine = _engine(args, create=True)
    pipeline = Pipeline(engine, config, alerts_enabled=args.alerts)
    total = count_rows(path)
    columns = (TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err.get(), disable=args.quiet or not err.is_terminal) as progress:
        task = progress.add_task("import", total=total)
        try:
            report = import_file(
                path,
                pipeline,
                default_platform=args.platform,
                fmt=args.format,
                progress=lambda n: progress.advance(task, n),
            )
        except ImportFormatError as exc:
            err.print(f"[red]error[/]: {escape(str(exc))}", highlight=False)
            return EXIT_USAGE
    r = report.result
    stopped = "interrupted: " if report.interrupted else ""
    out.print(
        f"{path.name}: {stopped}{report.rows} row(s) read, {r.stored} new mention(s), "
        f"{r.duplicates} already stored, {sum(r.filtered.values())} filtered, {len(report.errors)} rejected, "
        f"{r.alerts} alert(s)",
        markup=False,
    )
    if r.labels:
        out.print("labels: " + ", ".join(f"{k} {v}" for k, v in r.labels.most_common()))
    if report.interrupted:
        err.print(
            "stopped before the end of the file (the new mentions counted above are stored): import the "
            "file again to finish; rows already stored are not duplicated",
            markup=False,
        )
        return 130
    if report.errors:
        for e in report.errors[:10]:
            err.print(f"[yellow]line {e.line}[/]: {e.reason}")
        if len(report.errors) > 10:
            err.print(f"… and {len(report.errors) - 10} more")
        if args.rejects:
            Path(args.rejects).write_text(write_rejects(report.errors), encoding="utf-8")
            err.print(f"rejected rows listed in {args.rejects}")
        err.print("fix those rows and import the file again: rows already stored are not duplicated")
        return EXIT_FAILED
    return EXIT_OK


# ----------------------------------------------------------------------------- parser


def build_parser(*, extras: bool = True) -> argparse.ArgumentParser:
    """Every subcommand; ``extras=False`` leaves out those registered by other packages (alerts,
    responder, web, db): their modules load for --help and their own commands only."""
    parser = argparse.ArgumentParser(
        prog="mention-monitor",
        description="Watch social platforms for brand mentions, triage them and alert the support team.",
    )
    parser.add_argument("--version", action="version", version=f"mention-monitor {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "demo",
        help="run on a simulated platform with zero configuration",
        description="A simulated platform posts brand mentions; they are triaged, stored in a "
        "SQLite file and urgent complaints are printed as alerts, then a summary.",
    )
    p.add_argument("--duration", type=float, default=20.0, help="seconds to run (default 20)")
    p.add_argument("--once", action="store_true", help="one batch of mentions, then the summary")
    p.add_argument("--db", help="database URL (default: a demo.db in your user data dir)")
    p.add_argument(
        "--keep", action="store_true", help="keep the previous demo database instead of starting afresh"
    )
    p.add_argument(
        "--no-web", action="store_true", help="do not start the dashboard (it serves on 127.0.0.1:8765)"
    )

    for name, text in (
        ("run", "run the daemon until SIGTERM/SIGINT"),
        ("poll-once", "poll every enabled source once (for cron and debugging)"),
        ("check-config", "validate the config and print it with secrets masked"),
    ):
        p = sub.add_parser(name, help=text, description=text)
        p.add_argument("-c", "--config", required=True, help="the YAML config file")
        if name != "check-config":
            p.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"])

    p = sub.add_parser(
        "mentions",
        help="list and filter stored mentions",
        description="List stored mentions, newest first. json/csv carry every stored field.",
    )
    _add_db_args(p)
    p.add_argument("--platform")
    p.add_argument("--label", choices=["complaint", "question", "praise", "neutral", "spam", "unscored"])
    p.add_argument("--priority", choices=["P1", "P2", "P3"])
    p.add_argument("--severity", choices=["severe", "moderate", "mild"], help="a complaint's severity")
    p.add_argument("--status", choices=["new", "acknowledged", "replied", "resolved", "ignored"])
    p.add_argument("--assignee")
    p.add_argument("--since", help="30m, 2h, 7d or an ISO date")
    p.add_argument("--search", help="text or author contains this (case-insensitive)")
    p.add_argument("--limit", type=_positive_int, default=50, help="at most this many (default 50)")
    p.add_argument("--format", choices=["table", "json", "csv"], default="table")

    for name, text in (
        ("ack", "acknowledge mentions"),
        ("resolve", "mark mentions resolved"),
        ("ignore", "mark mentions as not needing an answer"),
        ("reopen", "reopen resolved or ignored mentions"),
        ("assign", "give mentions an owner"),
    ):
        p = sub.add_parser(
            name, help=text, description=f"{text[0].upper()}{text[1:]}; recorded in the audit log."
        )
        p.add_argument("ids", nargs="*", type=int, metavar="ID")
        if name == "assign":
            p.add_argument("--to", required=True, help="the agent's name ('-' clears the owner)")
        if name in ("resolve", "ignore"):
            p.add_argument("--note", help="why, for the audit log")
        p.add_argument("--as", dest="actor", help="who is acting (default: your login name)")
        _add_bulk_args(p)
        _add_db_args(p)

    p = sub.add_parser(
        "label",
        help="correct mentions' triage label (feeds triage-eval/-train)",
        description="label ID LABEL, label ID ID … LABEL, or label LABEL --from-file/--where. "
        f"Labels: {', '.join(_LABEL_CHOICES)}.",
    )
    p.add_argument("words", nargs="*", metavar="[ID …] LABEL")
    p.add_argument("--as", dest="actor")
    p.add_argument(
        "--severity",
        choices=["severe", "moderate", "mild"],
        help="with ID … LABEL: the team's severity of the complaint (recorded with the correction)",
    )
    p.add_argument(
        "--file",
        metavar="LABELS",
        help="CSV or JSON Lines with id (or platform and external_id), label and optional severity "
        "(severe/moderate/mild); one transaction per 500 rows, bad rows reported by line",
    )
    p.add_argument("--quiet", action="store_true", help="with --file: no progress bar")
    _add_bulk_args(p)
    _add_db_args(p)

    p = sub.add_parser(
        "show",
        help="one mention in full: text, URL, triage reasons, alert deliveries and history",
        description="Everything about one mention: the whole text, its URL, why triage scored it so, "
        "each alert delivery and the audit history (who did what, when).",
    )
    p.add_argument("id", type=int)
    p.add_argument("--format", choices=["text", "json"], default="text")
    _add_db_args(p)

    p = sub.add_parser(
        "triage-eval", help="precision/recall of the current triage on your team's label corrections"
    )
    p.add_argument(
        "-c", "--config", required=True, help="the YAML config file (its triage settings are scored)"
    )
    p.add_argument("--db", help="database URL, overriding the config")

    p = sub.add_parser(
        "triage-train",
        help="fit the optional local classifier on your team's label corrections or a labelled file",
        description="Needs the 'learn' extra (scikit-learn). The model becomes one more triage signal "
        "once triage.model_path points at it.",
    )
    p.add_argument("-c", "--config", help="the YAML config file (needed unless --from FILE --out PATH)")
    p.add_argument("--db", help="database URL, overriding the config")
    p.add_argument("--out", help="where to write the model (default: triage.model_path)")
    p.add_argument(
        "--from",
        dest="from_file",
        metavar="FILE",
        help="train on a labelled CSV/JSONL file instead of the stored corrections "
        "(labels: complaint, question, praise, neutral, spam, unscored, or yes/no / 1/0 for complaint)",
    )
    p.add_argument("--text-column", default="text", help="with --from: the text column (default: text)")
    p.add_argument("--label-column", default="label", help="with --from: the label column (default: label)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser("sources", help="each source's state, last success, cursor, budget use and gaps")
    _add_db_args(p)
    p.add_argument("--format", choices=["table", "json"], default="table")

    p = sub.add_parser(
        "import",
        help="load historical mentions from CSV or JSON Lines",
        description="Columns: text, author, created_at (required); platform, external_id, url, "
        "followers, author_name, language (optional); others kept in the raw payload. "
        "Idempotent: re-importing adds nothing twice. Alerts are off unless --alerts.",
    )
    p.add_argument("file")
    _add_db_args(p)
    p.add_argument("--format", choices=["csv", "jsonl"], help="default: from the file extension")
    p.add_argument("--platform", default="import", help="platform for rows without one (default: import)")
    p.add_argument("--brand", default="Brand", help="brand name when no config is given")
    p.add_argument("--alerts", action="store_true", help="route alerts for imported mentions too")
    p.add_argument("--rejects", help="write rejected rows (line, reason) to this CSV file")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    for extra in _EXTRA_PARSERS if extras else ():
        extra(sub)
    return parser


# Later capabilities add their subcommands here: a function (subparsers) -> None that
# registers parsers and handlers via @command.
_EXTRA_PARSERS: list[Callable[[Any], None]] = []


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(extras=not (given and given[0] in _STORAGE_ONLY))
    args = parser.parse_args(given)
    if args.command not in ("run", "poll-once"):
        logs.setup("WARNING")
    # What these print comes from the config and the ledger: redact secrets in it (logs always are).
    saved = sys.stdout, sys.stderr
    if args.command in ("check-config", "sources", "alerts", "test-alert", "db"):
        sys.stdout, sys.stderr = logs.RedactingStream(sys.stdout), logs.RedactingStream(sys.stderr)
    try:
        return _main(args)
    finally:
        sys.stdout, sys.stderr = saved


def _main(args: argparse.Namespace) -> int:
    try:
        return _HANDLERS[args.command](args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `mention-monitor mentions | head`: the reader has gone. Stop quietly, as a Unix tool
        # killed by SIGPIPE would (status 141), and point stdout at /dev/null so the interpreter's
        # final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + 13
    except Exception as exc:
        # Matched by module so that neither the config nor the database layer is imported just to
        # catch their errors: a command that never loaded them cannot have raised them.
        config_mod, db_mod = sys.modules.get("monitor.config"), sys.modules.get("monitor.store.db")
        if config_mod is not None and isinstance(exc, config_mod.ConfigError):
            err.print(str(exc), markup=False)
            return EXIT_USAGE
        if db_mod is not None and isinstance(exc, db_mod.StorageError):
            err.print(f"storage error: {exc}", markup=False, soft_wrap=True)
            return EXIT_STORAGE
        sa_exc = sys.modules.get("sqlalchemy.exc")
        if db_mod is not None and sa_exc is not None and isinstance(exc, sa_exc.DBAPIError):
            # Any database failure after opening (disk full, read-only, server gone): one line, exit 3.
            line = db_mod.describe_error(exc, db_mod.last_url)
            err.print(f"storage error: {line}", markup=False, soft_wrap=True)
            return EXIT_STORAGE
        raise


# ----------------------------------------------------------------------------- alerts


@command("alerts")
def cmd_alerts(args: argparse.Namespace) -> int:
    from monitor.alerts.commands import handle_alerts

    return handle_alerts(args, _engine(args))


@command("test-alert")
def cmd_test_alert(args: argparse.Namespace) -> int:
    from monitor.alerts.commands import handle_test_alert

    return handle_test_alert(args, _config(args))


def _alert_parsers(sub: Any) -> None:
    from monitor.alerts.commands import add_arguments

    add_arguments(sub)
    _add_db_args(sub.choices["alerts"])
    sub.choices["test-alert"].add_argument("-c", "--config", required=True, help="the YAML config file")


_EXTRA_PARSERS.append(_alert_parsers)


# ----------------------------------------------------------------------------- responder


@command("reply")
def cmd_reply(args: argparse.Namespace) -> int:
    from monitor.responder.commands import handle_reply

    config = _config(args)
    return handle_reply(args, config, _engine(args, create=True), _actor(args), out, err)


@command("claim")
def cmd_claim(args: argparse.Namespace) -> int:
    from monitor.responder.commands import handle_claim

    return handle_claim(args, _engine(args), _actor(args), out, err, release=False)


@command("release")
def cmd_release(args: argparse.Namespace) -> int:
    from monitor.responder.commands import handle_claim

    return handle_claim(args, _engine(args), _actor(args), out, err, release=True)


@command("replies")
def cmd_replies(args: argparse.Namespace) -> int:
    from monitor.responder.commands import handle_replies

    config = _config(args) if args.config else None
    return handle_replies(args, _engine(args), config, _actor(args), out, err)


@command("auto-ack")
def cmd_auto_ack(args: argparse.Namespace) -> int:
    from monitor.responder.commands import handle_auto_ack

    config = _config(args)
    return handle_auto_ack(args, config, _engine(args, create=True), out, err)


def _responder_parsers(sub: Any) -> None:
    from monitor.responder.commands import add_arguments

    add_arguments(sub, _add_db_args)


_EXTRA_PARSERS.append(_responder_parsers)


# ----------------------------------------------------------------------------- web dashboard


@command("web")
def cmd_web(args: argparse.Namespace) -> int:
    from monitor.web.commands import handle_web

    return handle_web(args, out, err)


def _web_parsers(sub: Any) -> None:
    from monitor.web.commands import add_arguments

    add_arguments(sub)


_EXTRA_PARSERS.append(_web_parsers)


# ----------------------------------------------------------------------------- schema and retention


@command("db")
def cmd_db(args: argparse.Namespace) -> int:
    from monitor.store.commands import handle_db

    return handle_db(args, out, err)


@command("prune")
def cmd_prune(args: argparse.Namespace) -> int:
    from monitor.store.commands import handle_prune

    return handle_prune(args, out, err)


def _store_parsers(sub: Any) -> None:
    from monitor.store.commands import add_arguments

    add_arguments(sub, _add_db_args)


_EXTRA_PARSERS.append(_store_parsers)
