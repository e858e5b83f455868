"""The responder's CLI commands: ``reply``, ``claim``, ``release``, ``replies``, ``auto-ack``.

Argument parsing and printing only; every action is a :mod:`monitor.workflow`
call (the dashboard calls the same functions). Exit codes: 0 ok, 1 refused or
failed (a conflict, a failed send), 2 bad input (empty or too long text, unknown
template), 3 database.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_arguments(sub: Any, add_db_args: Any) -> None:
    p = sub.add_parser(
        "reply",
        help="reply to a mention on its platform (queued, then sent once by the daemon or --send)",
        description="Queue a public reply to mention ID, written by you or from a template; the daemon "
        "sends it (or pass --send). Refused, naming who and when, if someone else claimed or answered it.",
    )
    p.add_argument("id", type=int, metavar="ID")
    text = p.add_mutually_exclusive_group(required=True)
    text.add_argument("--text", help="the reply text")
    text.add_argument("--template", metavar="NAME", help="a template from responder.templates")
    p.add_argument("--as", dest="actor", help="the agent replying (default: your login name)")
    p.add_argument(
        "--expect-version",
        type=int,
        metavar="N",
        help="the mention's version you looked at (`show`); refused if it changed since",
    )
    p.add_argument("--send", action="store_true", help="send it now instead of leaving it to the daemon")
    p.add_argument(
        "--incident",
        action="store_true",
        help="ID is an incident: one public status reply; once posted, its members are resolved "
        "(big accounts stay open for a personal reply)",
    )
    p.add_argument("-c", "--config", required=True, help="the YAML config file")

    p = sub.add_parser(
        "claim",
        help="claim mentions before answering them (others' replies are then refused)",
        description="Claim mentions for yourself; refused, naming them, if someone else holds a claim.",
    )
    p.add_argument("ids", nargs="+", type=int, metavar="ID")
    p.add_argument("--as", dest="actor", help="who claims (default: your login name)")
    p.add_argument("--expect-version", type=int, metavar="N", help="refuse if the mention changed since")
    add_db_args(p)

    p = sub.add_parser("release", help="drop the claim on mentions")
    p.add_argument("ids", nargs="+", type=int, metavar="ID")
    p.add_argument("--as", dest="actor", help="who releases (default: your login name)")
    add_db_args(p)

    p = sub.add_parser(
        "replies",
        help="the reply outbox: what was sent, is waiting or failed (and why); send or retry",
        description="List replies newest first. Automatic replies are marked 'auto'. --send runs the "
        "sender once (needs -c); --retry ID queues a failed reply again after you fixed the cause.",
    )
    p.add_argument("--status", choices=["pending", "sending", "sent", "failed", "unknown", "cancelled"])
    p.add_argument("--mention", type=int, metavar="ID", help="only replies to this mention")
    p.add_argument("--send", action="store_true", help="send every due reply now, then list")
    p.add_argument("--retry", type=int, metavar="REPLY_ID", help="queue this failed reply again")
    p.add_argument("--as", dest="actor", help="who retries (default: your login name)")
    p.add_argument("--format", choices=["table", "json"], default="table")
    add_db_args(p)

    p = sub.add_parser(
        "auto-ack",
        help="queue the automatic acknowledgements due now (the daemon does this by itself)",
        description="Complaints on responder.auto_ack.routes get one templated acknowledgement per author "
        "per window, within the hourly cap. --dry-run shows what would be sent and why others are skipped.",
    )
    p.add_argument("--dry-run", action="store_true", help="show, send nothing")
    p.add_argument("-c", "--config", required=True, help="the YAML config file")


def handle_reply(args: argparse.Namespace, config: Any, engine: Any, actor: str, out: Any, err: Any) -> int:
    from monitor import workflow

    try:
        if args.incident:
            req = workflow.request_incident_reply(
                engine, config, args.id, text=args.text, template=args.template, actor=actor
            )
        else:
            req = workflow.request_reply(
                engine,
                config,
                args.id,
                text=args.text,
                template=args.template,
                actor=actor,
                expect_version=args.expect_version,
            )
    except workflow.Conflict as exc:
        err.print(f"refused: {exc}", markup=False)
        return EXIT_FAILED
    except workflow.WorkflowError as exc:
        err.print(f"error: {exc}", markup=False)
        return EXIT_USAGE
    what = "already queued (same text)" if req.duplicate else "queued"
    out.print(f"reply #{req.reply_id} to mention #{req.mention_id} on {req.platform} {what}:", markup=False)
    out.print(f"  {req.text}", markup=False)
    if not args.send:
        out.print(
            "  the daemon sends it; `mention-monitor replies --mention ID` shows the outcome", markup=False
        )
        return EXIT_OK
    return _send_and_report(engine, config, req.reply_id, out, err)


def _send_and_report(engine: Any, config: Any, reply_id: int, out: Any, err: Any) -> int:
    from monitor import workflow
    from monitor.responder.sender import Sender

    sender = Sender(engine, config, jobs=False)
    try:
        sender.send_one(reply_id)
    finally:
        sender.close()
    row = next(r for r in workflow.list_replies(engine) if r["id"] == reply_id)
    if row["status"] == "sent":
        out.print(f"sent: {row['platform_reply_url'] or row['platform_reply_id']}", markup=False)
        return EXIT_OK
    if row["status"] == "pending":
        out.print(f"not sent yet ({row['last_error']}); retried from {row['next_attempt_at']}", markup=False)
        return EXIT_OK
    err.print(f"reply failed: {row['last_error']}", markup=False)
    return EXIT_FAILED


def handle_claim(
    args: argparse.Namespace, engine: Any, actor: str, out: Any, err: Any, *, release: bool
) -> int:
    from monitor import workflow

    try:
        if release:
            outcomes = workflow.release_claim(engine, args.ids, actor=actor)
        else:
            outcomes = workflow.claim(engine, args.ids, actor=actor, expect_version=args.expect_version)
    except workflow.Conflict as exc:
        err.print(f"refused: {exc}; nothing was claimed", markup=False)
        return EXIT_FAILED
    except workflow.WorkflowError as exc:
        err.print(f"error: {exc}", markup=False)
        return EXIT_USAGE
    failed = 0
    for o in outcomes:
        if o.result == "missing":
            failed += 1
            err.print(f"#{o.mention_id}: {o.detail}", markup=False)
        else:
            out.print(f"#{o.mention_id}: {o.detail} (version {o.version})", markup=False)
    return EXIT_FAILED if failed else EXIT_OK


def handle_replies(
    args: argparse.Namespace, engine: Any, config: Any | None, actor: str, out: Any, err: Any
) -> int:
    from monitor import workflow

    if args.retry is not None:
        try:
            req = workflow.retry_reply(engine, args.retry, actor=actor)
        except workflow.WorkflowError as exc:
            err.print(f"error: {exc}", markup=False)
            return EXIT_USAGE
        out.print(f"reply #{req.reply_id} to mention #{req.mention_id} queued again", markup=False)
    if args.send:
        if config is None:
            err.print("error: --send needs the config (-c) for the platform credentials", markup=False)
            return EXIT_USAGE
        from monitor.responder.sender import Sender

        sender = Sender(engine, config, jobs=False)
        try:
            n = sender.send_due()
        finally:
            sender.close()
        out.print(f"{n} reply(ies) attempted", markup=False)
    rows = workflow.list_replies(engine, mention_id=args.mention, status=args.status)
    if args.format == "json":
        out.print(json.dumps(rows, default=_json_default, indent=1), markup=False)
        return EXIT_OK
    if not rows:
        out.print("no replies", markup=False)
        return EXIT_OK
    now = datetime.now(UTC)
    for r in rows:
        flag = " auto" if r["automatic"] else ""
        when = r["sent_at"] or r["created_at"]
        ago = int((now - when).total_seconds() // 60) if when else 0
        head = (
            f"#{r['id']} mention #{r['mention_id']} {r['platform'] or '?'} {r['status']}{flag} "
            f"by {r['author']} {ago} min ago"
        )
        out.print(head, markup=False)
        out.print(f"    {r['body'][:200]}", markup=False)
        if r["status"] == "sent":
            out.print(f"    → {r['platform_reply_url'] or r['platform_reply_id']}", markup=False)
        elif r["last_error"]:
            label = "reply failed" if r["status"] in ("failed", "unknown") else "last try"
            out.print(f"    {label}: {r['last_error']}", markup=False)
    return EXIT_OK


def handle_auto_ack(args: argparse.Namespace, config: Any, engine: Any, out: Any, err: Any) -> int:
    from monitor.responder import autoack

    settings = config.responder.auto_ack
    if not settings.enabled and not args.dry_run:
        err.print("auto-acknowledge is off (responder.auto_ack.enabled); --dry-run shows what it would do")
        return EXIT_USAGE
    decisions = autoack.run(engine, config, now=datetime.now(UTC), dry_run=args.dry_run)
    verb = "would send" if args.dry_run else "queued"
    sent = [d for d in decisions if d.send]
    for d in decisions:
        if d.send:
            out.print(
                f"{verb}: mention #{d.mention_id} @{d.author} ({d.platform}, route {d.route})", markup=False
            )
            out.print(f"    {d.text}", markup=False)
        else:
            out.print(f"skip: mention #{d.mention_id} @{d.author} — {d.reason}", markup=False)
    out.print(f"{len(sent)} automatic reply(ies) {verb}, {len(decisions) - len(sent)} skipped", markup=False)
    return EXIT_OK


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
