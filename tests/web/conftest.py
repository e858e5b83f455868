"""Shared fixtures for dashboard tests: one real uvicorn server and one headless Chromium per session.

Reuse them for any page built on the dashboard (the reports tests do):

* ``dashboard`` — a :class:`Dashboard`: ``url``, ``engine``, ``config``, ``mastodon`` (the fake
  platform the seeded mentions came from and replies go to), ``ids`` (seeded mention ids by
  name) and ``users`` (login → password). Seeded through the project's own path: the real
  Mastodon and simulated sources fetch, the real pipeline triages and stores.
* ``browser`` — Debian's chromium through Playwright (``executable_path=/usr/bin/chromium``).
* ``login(user)`` — a fresh page already logged in as ``mia`` (manager), ``alice``/``bob``
  (agents) or ``val`` (viewer); the login form runs once per user per session, later pages
  reuse its cookie.
* ``make_incident(dashboard, n)`` — an incident over ``n`` new simulated mentions; its id.
* ``shot(page, name)`` — a screenshot into ``$MM_SCREENSHOTS`` (default: a session tmp folder).

The server runs in a thread of the test process, so tests can read and change the database
directly while the browser drives the pages. Wait with Playwright's ``expect`` (deadlines),
never with sleeps.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine

from monitor.config import Config, parse_config
from monitor.pipeline import Pipeline
from monitor.sources import source_class
from monitor.store.db import make_engine, migrate
from monitor.web.auth import hash_password
from monitor.web.server import serve
from tests.fakes.mastodon import FakeMastodon

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
USERS = {
    "mia": ("manager", "Mia Manager"),
    "alice": ("agent", "Alice"),
    "bob": ("agent", "Bob"),
    "val": ("viewer", "Val Viewer"),
}
PASSWORD = "correct horse battery staple"
SECRET = "dashboard-tests-secret-key-0123456789abcdef"

# Posts the fake Mastodon serves: (name, author, text, extra fields).
POSTS: list[tuple[str, str, str, dict[str, Any]]] = [
    (
        "refund",
        "dana",
        "I was charged twice for my SmartKettle order and nobody answers. I want a refund now!",
        {"followers": 12_400, "display_name": "Dana K."},
    ),
    (
        "broken",
        "erik",
        "My Acme kettle stopped working after two days. Really disappointed, this is broken.",
        {},
    ),
    ("question", "fatima", "Does the Acme SmartKettle work with 110V? Planning a trip to the US.", {}),
    ("praise", "gus", "Shout-out to Acme support, fixed my order in five minutes. Love it!", {}),
    (
        "outage",
        "hana",
        "Acme app is down again?? Can't log in since this morning. Terrible.",
        {"followers": 48_000},
    ),
    (
        "race",
        "ivan",
        "Still waiting for my replacement kettle from Acme, three weeks now. Unacceptable.",
        {"display_name": "Ivan"},
    ),
    (
        "xss",
        "mallory",
        '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2"> '
        "click javascript:window.__xss=3 and @everyone look \u202eevil\u202c https://example.com/ok",
        {"display_name": "<b>Mal</b> \u202eroy"},
    ),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Dashboard:
    url: str
    engine: Engine
    config: Config
    mastodon: FakeMastodon
    ids: dict[str, int] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)


def ingest(engine: Engine, config: Config, source: str, *, pages: int = 5) -> None:
    """Fetch through the real source and store through the real pipeline (real triage)."""
    settings = config.sources[source]
    src = source_class(config.platform_of(source))(source, settings, config.brand)
    pipeline = Pipeline(engine, config, alerts_enabled=False)
    cursor: dict[str, Any] = {}
    try:
        for _ in range(pages):
            page = src.fetch(cursor)
            pipeline.ingest(page.mentions, source=source)
            cursor = page.cursor
    finally:
        src.close()


def dashboard_config(db_url: str, mastodon: FakeMastodon, port: int) -> Config:
    return parse_config(
        {
            "brand": {
                "names": ["Acme"],
                "handles": {"mastodon": ["acme"], "simulated": ["acme"]},
                "keywords": ["SmartKettle"],
            },
            "sources": {
                "mastodon": {"api_base": mastodon.url, "access_token": mastodon.token, "timeout": 5},
                "simulated": {"per_poll": 40, "seed": 11},
            },
            "storage": {"url": db_url},
            "responder": {
                "base_delay": 1,
                "max_delay": 5,
                "send_timeout": 5,
                "templates": {
                    "sorry": "Hi {author}, sorry about this! {agent} from Acme here: we're on it.",
                },
            },
            "dashboard": {
                "enabled": True,
                "listen": f"127.0.0.1:{port}",
                "public_url": f"http://127.0.0.1:{port}",
                "secret_key": SECRET,
                "users": {
                    login: {"password_hash": hash_password(PASSWORD), "role": role, "name": name}
                    for login, (role, name) in USERS.items()
                },
            },
        }
    )


@pytest.fixture(scope="session")
def dashboard(tmp_path_factory) -> Iterator[Dashboard]:
    db_url = f"sqlite:///{tmp_path_factory.mktemp('web') / 'mentions.db'}"
    engine = make_engine(db_url)
    migrate(engine)
    with FakeMastodon() as mastodon:
        for _name, author, text, extra in POSTS:
            mastodon.add_mention(text, author=author, **extra)
        port = free_port()
        config = dashboard_config(db_url, mastodon, port)
        ingest(engine, config, "simulated", pages=3)
        ingest(engine, config, "mastodon", pages=2)
        _store_hostile_link(engine, config)
        ids = _ids_by_name(engine)
        stop = threading.Event()
        thread = threading.Thread(target=serve, args=(engine, config, stop), daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{port}"
        _wait_until_up(url)
        yield Dashboard(url, engine, config, mastodon, ids, {u: PASSWORD for u in USERS})
        stop.set()
        thread.join(20)
    engine.dispose()


def _store_hostile_link(engine: Engine, config: Config) -> None:
    """A mention whose link and handle are hostile (as an import could bring): stored by the pipeline."""
    from datetime import UTC, datetime

    from monitor.mention import Mention

    hostile = Mention(
        platform="import",
        external_id="hostile-link",
        text="Acme is great ‮gnp.exe",
        created_at=datetime.now(UTC),
        author_handle="<img src=x onerror=window.__xss=5>",
        url="javascript:window.__xss=4",
        author_name="‮evil",
    )
    Pipeline(engine, config, alerts_enabled=False).ingest([hostile], source="import")


def _ids_by_name(engine: Engine) -> dict[str, int]:
    from sqlalchemy import select

    from monitor.store import models as m

    t = m.Mention.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(t.c.id, t.c.text).where(t.c.platform == "mastodon")).all()
    ids = {}
    for name, _author, text, _extra in POSTS:
        probe = text[:25]
        ids[name] = next(r.id for r in rows if probe in r.text)
    with engine.connect() as conn:
        hostile = select(t.c.id).where(t.c.external_id == "hostile-link")
        ids["hostile_link"] = conn.execute(hostile).scalar_one()
    return ids


def _wait_until_up(url: str, deadline: float = 30.0) -> None:
    end = time.monotonic() + deadline
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > end:
            raise RuntimeError(f"the dashboard at {url} did not come up within {deadline:.0f}s")
        time.sleep(0.05)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def _sessions() -> dict[str, Any]:
    return {}


@pytest.fixture
def login(browser, dashboard, _sessions) -> Iterator[Callable[..., Any]]:
    """``login("alice")`` → a logged-in page (its own browser context); closed after the test."""
    contexts: list[Any] = []

    def open_as(user: str, *, viewport: dict[str, int] | None = None, **context_args: Any) -> Any:
        context = browser.new_context(
            base_url=dashboard.url,
            viewport=viewport or {"width": 1366, "height": 800},
            storage_state=_sessions.get(user),
            accept_downloads=True,
            **context_args,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        if user not in _sessions:
            page.goto("/login")
            page.fill("input[name=login]", user)
            page.fill("input[name=password]", dashboard.users[user])
            page.click("button[type=submit]")
            page.wait_for_url(f"{dashboard.url}/")
            _sessions[user] = context.storage_state()
        return page

    yield open_as
    for context in contexts:
        context.close()


def make_incident(dashboard: Dashboard, members: int = 3, term: str = "outage") -> int:
    """An open incident over ``members`` new simulated mentions (as the storm detector leaves one)."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select, update

    from monitor.store import models as m

    t = m.Mention.__table__
    now = datetime.now(UTC)
    with dashboard.engine.begin() as conn:
        ids = (
            conn.execute(
                select(t.c.id)
                .where(t.c.platform == "simulated", t.c.status == "new", t.c.incident_id.is_(None))
                .limit(members)
            )
            .scalars()
            .all()
        )
        incident_id = conn.execute(
            m.Incident.__table__.insert().values(
                platform="simulated",
                term=term,
                status="open",
                opened_at=now - timedelta(minutes=30),
                last_seen_at=now,
                count=len(ids),
                routes=[],
            )
        ).inserted_primary_key[0]
        conn.execute(update(t).where(t.c.id.in_(ids)).values(incident_id=incident_id))
    return int(incident_id)


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory) -> Path:
    chosen = os.environ.get("MM_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def shot(screenshot_dir) -> Callable[[Any, str], Path]:
    def take(page: Any, name: str, *, full_page: bool = True) -> Path:
        path = screenshot_dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take
