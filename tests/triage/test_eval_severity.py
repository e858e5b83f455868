"""`triage-eval` reads the team's severities too: how many complaints the team rated severe
triage puts in P1 and in P1/P2 (the targets of the severity signal), and how the severities agree."""

from __future__ import annotations

import csv

from monitor.cli import main


def test_triage_eval_reports_severity_against_the_teams_ratings(tmp_path, sqlite_url, capsys) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        f"brand:\n  names: [Acme]\n  handles:\n    x: [acme]\nstorage:\n  url: {sqlite_url}\n",
        encoding="utf-8",
    )
    posts = [
        ("s1", "@acme you charged me twice, this is fraud. My lawyer will call you", "severe"),
        ("s2", "@acme the app is a bit slow today, not great", "severe"),  # the team says severe; triage P3
        ("s3", "@acme my parcel is late again, third time this month", "moderate"),
        ("s4", "@acme the app is a bit slow today, not great", "mild"),
    ]
    history = tmp_path / "history.csv"
    with history.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["external_id", "platform", "text", "author", "created_at"])
        for i, (key, text, _) in enumerate(posts):
            w.writerow([key, "x", text, f"user{i}", "2026-10-01T10:00:00Z"])
    assert main(["import", str(history), "-c", str(config), "--quiet"]) == 0
    labels = tmp_path / "labels.csv"
    with labels.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["platform", "external_id", "label", "severity"])
        for key, _, severity in posts:
            w.writerow(["x", key, "complaint", severity])
    assert main(["label", "--file", str(labels), "-c", str(config), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["triage-eval", "-c", str(config)]) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert "severity: 4 complaint(s) your team rated" in said
    assert "rated severe in P1: 1 of 2 (50%); in P1/P2: 1 of 2 (50%)" in said
    assert "P1 posts your team rated severe: 1 of 1 (100%)" in said
