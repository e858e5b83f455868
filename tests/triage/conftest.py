"""Shared fixtures for triage tests: one Triager per session (it is pure), a Mention factory, and
posts imported into a real SQLite store through the CLI (for label files and training)."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, select

from monitor.cli import main
from monitor.mention import Mention
from monitor.store import models as m
from monitor.triage import Triager


@pytest.fixture(scope="session")
def triager() -> Triager:
    return Triager(brand_terms=["Acme", "AcmeHelp"])


@pytest.fixture
def make_mention() -> Callable[..., Mention]:
    def make(
        text: str,
        *,
        language: str | None = "en",
        followers: int | None = None,
        addressed: bool = True,
    ) -> Mention:
        return Mention(
            platform="test",
            external_id="1",
            text=text,
            created_at=datetime(2026, 1, 5, 12, 0, tzinfo=UTC),
            author_handle="someone",
            author_followers=followers,
            language=language,
            addressed_to_brand=addressed,
        )

    return make


def write_csv(path, header, rows) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


@pytest.fixture
def imported(tmp_path, sqlite_url, capsys):
    """Import (external_id, text) pairs on x through `mention-monitor import`; return the engine
    and the stored ids by external id."""

    def load(posts: list[tuple[str, str]]):
        data = tmp_path / "history.csv"
        write_csv(
            data,
            ["external_id", "platform", "text", "author", "created_at"],
            [
                (ext, "x", text, f"author{i}", f"2026-10-01T10:{i:02d}:00Z")
                for i, (ext, text) in enumerate(posts)
            ],
        )
        assert main(["import", str(data), "--db", sqlite_url, "--quiet"]) == 0
        capsys.readouterr()
        engine = create_engine(sqlite_url)
        with engine.connect() as conn:
            ids = dict(conn.execute(select(m.Mention.external_id, m.Mention.id)).all())
        return engine, ids

    return load
