"""Shared fixtures: real SQLite files and a throwaway schema on the local PostgreSQL server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from monitor.store.db import make_engine, migrate

PG_BASE = os.environ.get("MENTION_MONITOR_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_reachable() -> str | None:
    """None when PostgreSQL answers, else why not (shown as the skip reason)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install -e '.[test]')"
    try:
        eng = create_engine(PG_BASE, connect_args={"connect_timeout": 3})
        with eng.connect() as conn:
            conn.execute(text("select 1"))
        eng.dispose()
    except Exception as exc:  # any failure means: no server to test against here
        return f"no PostgreSQL server reachable at {PG_BASE} ({type(exc).__name__})"
    return None


_PG_SKIP = _pg_reachable()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'mentions.db'}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh schema in the ``test`` database, dropped afterwards."""
    if _PG_SKIP:
        pytest.skip(_PG_SKIP)
    schema = f"mm_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_BASE)
    with admin.begin() as conn:
        conn.execute(text(f'create schema "{schema}"'))
    try:
        yield f"{PG_BASE}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'drop schema "{schema}" cascade'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request) -> str:
    """Run the test once on a SQLite file and once on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def engine(db_url) -> Iterator[Engine]:
    eng = make_engine(db_url)
    migrate(eng)
    yield eng
    eng.dispose()


# Three posts whose triage verdicts differ in severity: severe, mild, and praise (none).
SEVERITY_POSTS = {
    "fraud": "@acme you charged me twice, this is fraud. My lawyer will call.",
    "slow": "@acme the app is a bit slow today, not great",
    "thanks": "@acme thank you, lovely service today!",
}


@pytest.fixture
def severity_posts(db_url) -> Iterator[tuple[Engine, dict[str, int]]]:
    """SEVERITY_POSTS through the real pipeline (real triage) into a migrated store at ``db_url``:
    the engine and the stored ids by name."""
    from datetime import UTC, datetime, timedelta

    from monitor.config import parse_config
    from monitor.mention import Mention
    from monitor.pipeline import Pipeline

    engine = make_engine(db_url)
    migrate(engine)
    config = parse_config({"brand": {"names": ["Acme"], "handles": {"x": ["acme"]}}})
    t0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    mentions = [
        Mention("x", name, text, t0 + timedelta(minutes=i), f"user{i}", addressed_to_brand=True)
        for i, (name, text) in enumerate(SEVERITY_POSTS.items())
    ]
    result = Pipeline(engine, config, alerts_enabled=False).ingest(mentions, source="x")
    yield engine, dict(zip(SEVERITY_POSTS, result.stored_ids, strict=True))
    engine.dispose()
