"""`mention-monitor import` works out addressed_to_brand from the configured handles, as sources do."""

from __future__ import annotations

import csv
import json

from monitor.cli import main
from monitor.importer import is_addressed


def test_is_addressed_by_mention_or_reply() -> None:
    handles = {"acmehelp"}
    assert is_addressed("@AcmeHelp my parcel is lost", None, handles)
    assert is_addressed("thanks @acmehelp.bsky.social", None, handles)
    assert is_addressed("lost again", "@AcmeHelp", handles)
    assert not is_addressed("Acme lost my parcel", None, handles)
    assert not is_addressed("mail me at bob@acmehelp.com", None, handles)
    assert not is_addressed("@AcmeHelp hi", None, set())


def test_import_sets_addressed_to_brand_from_config_handles(tmp_path, sqlite_url, capsys) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        f"brand:\n  names: [Acme]\n  handles:\n    x: [AcmeHelp]\nstorage:\n  url: {sqlite_url}\n",
        encoding="utf-8",
    )
    rows = [
        ("1", "@AcmeHelp my parcel is lost", "", ""),
        ("2", "Acme lost my parcel", "", ""),
        ("3", "still lost, day 4", "AcmeHelp", ""),
        ("4", "Acme lost it", "", "true"),
    ]
    data = tmp_path / "history.csv"
    with data.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "external_id",
                "text",
                "author",
                "created_at",
                "platform",
                "in_reply_to_user",
                "addressed_to_brand",
            ]
        )
        for ext, text, reply_to, explicit in rows:
            w.writerow([ext, text, "amy", "2026-10-01T10:00:00Z", "x", reply_to, explicit])
    assert main(["import", str(data), "-c", str(config), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["mentions", "--db", sqlite_url, "--format", "json", "--limit", "10"]) == 0
    got = {
        r["external_id"]: r["addressed_to_brand"]
        for r in map(json.loads, capsys.readouterr().out.splitlines())
    }
    assert got == {"1": True, "2": False, "3": True, "4": True}


def test_severity_is_stored_with_the_mention(tmp_path, sqlite_url, capsys) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        f"brand:\n  names: [Acme]\n  handles:\n    x: [acme]\nstorage:\n  url: {sqlite_url}\n",
        encoding="utf-8",
    )
    data = tmp_path / "history.csv"
    with data.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["external_id", "text", "author", "created_at", "platform"])
        w.writerow(
            ["s1", "@acme this is fraud, my lawyer will hear about it", "amy", "2026-10-01T10:00:00Z", "x"]
        )
        w.writerow(["s2", "@acme the app is a bit slow today, not great", "bo", "2026-10-01T10:00:00Z", "x"])
        w.writerow(["s3", "@acme thank you, lovely service", "cy", "2026-10-01T10:00:00Z", "x"])
        # The same words, not aimed at the brand's handle: severe, but read within the SLA.
        w.writerow(["s4", "Acme is a fraud, my lawyer will hear about it", "di", "2026-10-01T10:00:00Z", "x"])
    assert main(["import", str(data), "-c", str(config), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["mentions", "--db", sqlite_url, "--format", "json", "--limit", "10"]) == 0
    got = {
        r["external_id"]: (r["priority"], r["severity"])
        for r in map(json.loads, capsys.readouterr().out.splitlines())
    }
    assert got == {"s1": ("P1", "severe"), "s2": ("P3", "mild"), "s3": ("P3", None), "s4": ("P2", "severe")}
