"""bench/triage.py fails clearly when the data set is missing (the data is not in the repo)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "triage.py"


def test_missing_data_file_exits_2_with_a_message(tmp_path) -> None:
    missing = tmp_path / "nope.csv"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--data", str(missing), "--no-learned"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "data file not found" in proc.stderr
    assert str(missing) in proc.stderr


def test_small_data_set_runs_end_to_end(tmp_path) -> None:
    # Hand-written rows in the data set's columns, so the script runs in CI without the data.
    header = "tweet_id,airline_sentiment,airline,text\n"
    rows = [
        ("1", "negative", "United", "@united still waiting for my refund, nobody answers"),
        ("2", "negative", "Delta", "@JetBlue lost my bag again, unacceptable"),
        ("3", "positive", "United", "@united thank you, lovely crew today"),
        ("4", "neutral", "Delta", "@JetBlue do you fly to Boston on Sundays?"),
        ("4", "negative", "Delta", "duplicate id, must be dropped"),
    ]
    data = tmp_path / "tiny.csv"
    data.write_text(header + "".join(f'{a},{b},{c},"{d}"\n' for a, b, c, d in rows), encoding="utf-8")
    proc = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--data",
            str(data),
            "--no-learned",
            "--repeats",
            "1",
            "--cross",
            str(tmp_path / "absent.csv"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "4 tweets after dedupe by tweet_id (1 duplicate rows dropped)" in proc.stdout
    assert "default triage: label == complaint" in proc.stdout
    assert "ratio full triage / TextBlob alone" in proc.stdout


def test_per_set_report_with_severity_targets(tmp_path) -> None:
    # Hand-written rows in X-FINCORP's columns (the real file is never read by tests).
    header = "Domain,Complaint/ Opinion,Complaint Label,Complaint_Cause,Severity level,Sentiment,Emotion\n"
    rows = [
        ("@AcmeBank this is fraud, you took my money. My lawyer will call", "1", "Blame"),
        ("@AcmeBank still no reply to my 3 emails", "1", "Disapproval"),
        ("@AcmeBank the app is a bit slow today", "1", "No explicit reproach"),
        ("Rates are up again this quarter", "0", "Non-Complaint"),
    ]
    data = tmp_path / "xfincorp_complaints.csv"
    data.write_text(
        header + "".join(f'bank,"{t}",{c},x,{s},negative,anger\n' for t, c, s in rows), encoding="utf-8"
    )
    proc = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--data",
            str(tmp_path / "airline.csv"),
            "--sets",
            "xfincorp",
            "--only-sets",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "[xfincorp] xfincorp_complaints.csv: 4 posts, 3 complaints" in proc.stdout
    assert "severe complaints in P1:    recall 1.000 precision 1.000" in proc.stdout
