"""`import` decides addressed_to_brand as the sources do, for every platform's handle form, and
refuses values it cannot read instead of guessing."""

from __future__ import annotations

import json

from monitor.cli import main
from monitor.importer import is_addressed


def test_mastodon_full_and_local_handles() -> None:
    handles = {"acme@mastodon.social"}
    assert is_addressed("@acme@mastodon.social my order is late", None, handles)
    assert is_addressed("@Acme@Mastodon.Social my order is late", None, handles)
    # A local mention on the brand's own instance names the account without the domain.
    assert is_addressed("@acme my order is late", None, handles)
    assert not is_addressed("@acme@other.example my order is late", None, handles)
    assert not is_addressed("@acmefan my order is late", None, handles)
    assert is_addressed("late again", "acme@mastodon.social", handles)


def test_reddit_user_mentions() -> None:
    handles = {"acme_official"}
    assert is_addressed("u/acme_official my order is late", None, handles)
    assert is_addressed("hey /u/Acme_Official any news?", None, handles)
    assert not is_addressed("u/acme_officially late", None, handles)
    assert not is_addressed("see r/acme_official", None, handles)


def test_import_addressed_per_platform_and_bad_values(tmp_path, sqlite_url, capsys) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "brand:\n  names: [Acme]\n  handles:\n    mastodon: [acme@mastodon.social]\n"
        f"    reddit: [acme_official]\nstorage:\n  url: {sqlite_url}\n",
        encoding="utf-8",
    )
    rows = [
        {"external_id": "m1", "platform": "mastodon", "text": "@acme@mastodon.social parcel lost"},
        {"external_id": "r1", "platform": "reddit", "text": "u/acme_official parcel lost"},
        {"external_id": "b1", "platform": "x", "text": "parcel lost", "addressed_to_brand": "maybe"},
        {"external_id": "b2", "platform": "x", "text": "parcel lost", "author": ["not", "a", "name"]},
    ]
    data = tmp_path / "history.jsonl"
    data.write_text(
        "".join(
            json.dumps({"author": "amy", "created_at": "2026-10-01T10:00:00Z", **r}) + "\n" for r in rows
        ),
        encoding="utf-8",
    )
    assert main(["import", str(data), "-c", str(config), "--quiet"]) == 1
    captured = capsys.readouterr()
    said = " ".join(captured.err.split())
    assert "line 3: addressed_to_brand 'maybe' is not true or false" in said
    assert "line 4: author must be text, not a JSON list" in said
    assert main(["mentions", "--db", sqlite_url, "--format", "json"]) == 0
    got = {
        r["external_id"]: r["addressed_to_brand"]
        for r in map(json.loads, capsys.readouterr().out.splitlines())
    }
    assert got == {"m1": True, "r1": True}


def test_known_columns_are_matched_whatever_their_case_and_spacing(tmp_path, sqlite_url, capsys) -> None:
    # Other tools export "Text", "Created At", " author ": label files already accept such headers.
    data = tmp_path / "export.csv"
    data.write_text(
        "Text, Author ,Created At,Platform,External ID,Campaign\n"
        "@acme parcel lost,amy,2026-10-01T10:00:00Z,X,e1,autumn\n",
        encoding="utf-8",
    )
    assert main(["import", str(data), "--db", sqlite_url, "--quiet"]) == 0
    capsys.readouterr()
    assert main(["mentions", "--db", sqlite_url, "--format", "json"]) == 0
    (row,) = map(json.loads, capsys.readouterr().out.splitlines())
    assert (row["platform"], row["external_id"], row["author_handle"]) == ("x", "e1", "amy")
    assert row["raw"] == {"imported": {"Campaign": "autumn"}}
