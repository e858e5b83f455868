"""Fixtures for responder tests: the fake platforms on 127.0.0.1, a config pointing at them, stored mentions.

Mentions are fetched by the real sources from the fakes and stored by the real
pipeline (triage is scripted: every post is a complaint unless its raw data says
otherwise), so a reply goes to a post the platform really has.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from monitor.config import Config, parse_config
from monitor.pipeline import Pipeline
from monitor.sources import source_class
from monitor.store import models as m
from tests.alerts.conftest import ScriptedTriager
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.reddit import FakeReddit
from tests.fakes.x import FakeX

X_USER_TOKEN = "x-user-token"
DEAD_HOOK = "json://127.0.0.1:9/hook"


@pytest.fixture
def mastodon() -> Iterator[FakeMastodon]:
    with FakeMastodon() as fake:
        yield fake


@pytest.fixture
def bluesky() -> Iterator[FakeBluesky]:
    with FakeBluesky() as fake:
        yield fake


@pytest.fixture
def reddit() -> Iterator[FakeReddit]:
    with FakeReddit(username="acme_support") as fake:
        yield fake


@pytest.fixture
def xfake() -> Iterator[FakeX]:
    with FakeX() as fake:
        acme = fake.add_user("acme", name="Acme Inc", followers=50_000)
        fake.user_tokens[X_USER_TOKEN] = acme.id
        yield fake


def source_settings(fake: Any) -> tuple[str, dict[str, Any]]:
    """The ``sources.<name>`` entry for one fake."""
    if isinstance(fake, FakeMastodon):
        return "mastodon", {"api_base": fake.url, "access_token": fake.token, "timeout": 5}
    if isinstance(fake, FakeBluesky):
        return "bluesky", {
            "api_base": fake.url,
            "handle": fake.handle,
            "app_password": fake.password,
            "search": False,
            "timeout": 5,
        }
    if isinstance(fake, FakeReddit):
        return "reddit", {
            "client_id": fake.client_id,
            "client_secret": fake.client_secret,
            "username": fake.username,
            "password": fake.password,
            "api_base": fake.url,
            "auth_base": fake.url,
            "timeout": 5,
            "search_types": ["link", "comment"],
        }
    if isinstance(fake, FakeX):
        return "x", {
            "api_base": fake.url,
            "bearer_token": fake.bearer_token,
            "username": "acme",
            "search": False,
            "timeout": 5,
            "daily_read_budget": None,
        }
    raise TypeError(fake)


def make_config(*fakes: Any, responder: dict[str, Any] | None = None, **extra: Any) -> Config:
    return parse_config(config_data(*fakes, responder=responder, **extra))


def config_data(*fakes: Any, responder: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """The config file's content (as parsed YAML) for these fakes; a subprocess parses the same."""
    sources = dict(source_settings(f) for f in fakes)
    data: dict[str, Any] = {
        "brand": {
            "names": ["Acme"],
            "handles": {
                "mastodon": ["acme"],
                "bluesky": ["acme.bsky.social"],
                "reddit": ["acme_support"],
                "x": ["acme"],
            },
        },
        "sources": sources,
        # Never delivered here (no notifier runs); the alert rows say which route a mention took.
        "alerts": {
            "routes": [{"name": "support", "match": {"labels": ["complaint"]}, "notify": [DEAD_HOOK]}]
        },
        "responder": {
            "base_delay": 1,
            "max_delay": 5,
            "send_timeout": 5,
            "x": {"user_access_token": X_USER_TOKEN},
            **(responder or {}),
        },
    }
    data.update(extra)
    return data


def ingest(engine: Engine, config: Config, source: str, *, pages: int = 5) -> list[int]:
    """Fetch from the fake through the real source and store through the pipeline; the stored ids."""
    settings = config.sources[source]
    src = source_class(config.platform_of(source))(source, settings, config.brand)
    pipeline = Pipeline(engine, config, triager=ScriptedTriager())
    cursor: dict[str, Any] = {}
    try:
        for _ in range(pages):
            page = src.fetch(cursor)
            pipeline.ingest(page.mentions, source=source)
            cursor = page.cursor
            if not page.more:
                break
    finally:
        src.close()
    t = m.Mention.__table__
    with engine.connect() as conn:
        return list(conn.execute(select(t.c.id).where(t.c.source == source).order_by(t.c.id)).scalars())


def mention_row(engine: Engine, mention_id: int) -> Any:
    t = m.Mention.__table__
    with engine.connect() as conn:
        return conn.execute(select(t).where(t.c.id == mention_id)).one()


def reply_rows(engine: Engine, mention_id: int | None = None) -> list[Any]:
    t = m.ReplyOutbox.__table__
    q = select(t).order_by(t.c.id)
    if mention_id is not None:
        q = q.where(t.c.mention_id == mention_id)
    with engine.connect() as conn:
        return list(conn.execute(q).all())
