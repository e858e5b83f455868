"""One daemon, all five platforms: ``mention-monitor run`` ingests every mention the fakes serve exactly once.

Each fake speaks its platform's API on 127.0.0.1; the daemon is the real console
script in its own process, stopped with SIGTERM like systemd does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import yaml
from sqlalchemy import select

from monitor.store import models as m
from monitor.store.db import make_engine, migrate
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.hackernews import FakeHackerNews
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.reddit import FakeReddit
from tests.fakes.x import FakeX

PER_BATCH = 3


def stored(db_url: str) -> list[tuple[str, str, str]]:
    engine = make_engine(db_url)
    migrate(engine)
    t = m.Mention.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(t.c.platform, t.c.external_id, t.c.text)).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def test_run_ingests_every_mention_from_all_five_platforms_exactly_once(tmp_path):
    with (
        FakeX() as x,
        FakeMastodon() as masto,
        FakeBluesky() as bsky,
        FakeReddit() as reddit,
        FakeHackerNews() as hn,
    ):
        x.add_user("acme", name="Acme Inc", followers=50_000)
        x_fan = x.add_user("xfan", followers=1_200)
        start = datetime.now(UTC)

        def publish(batch: int) -> list[str]:
            """PER_BATCH brand mentions on every platform; returns their unique markers."""
            markers = []
            for i in range(PER_BATCH):
                tag = f"{batch}-{i}"
                x.post(x_fan, f"@acme order mk-x-{tag} never arrived, Acme please help")
                masto.add_mention(f"Acme app crashes mk-mastodon-{tag}", author=f"toot{i}")
                bsky.add_mention(
                    f"Acme refund mk-bluesky-{tag}", indexed_at=start + timedelta(seconds=batch * 10 + i)
                )
                reddit.add_post(f"Acme support question mk-reddit-{tag}", author=f"redditor{i}")
                hn.add_story(f"Show HN: an Acme alternative mk-hackernews-{tag}", author=f"hn{i}")
                markers += [f"mk-{p}-{tag}" for p in ("x", "mastodon", "bluesky", "reddit", "hackernews")]
            return markers

        db_url = f"sqlite:///{tmp_path / 'all.db'}"
        config = tmp_path / "config.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "brand": {
                        "names": ["Acme"],
                        "handles": {"x": ["acme"], "mastodon": ["acme"], "bluesky": [bsky.handle]},
                    },
                    "sources": {
                        "x": {
                            "api_base": x.url,
                            "bearer_token": x.bearer_token,
                            "username": "acme",
                            "interval": 10,
                            "daily_read_budget": None,
                        },
                        "mastodon": {"api_base": masto.url, "access_token": masto.token, "interval": 10},
                        "bluesky": {
                            "api_base": bsky.url,
                            "handle": bsky.handle,
                            "app_password": bsky.password,
                            "search": False,
                            "interval": 10,
                        },
                        "reddit": {
                            "api_base": reddit.url,
                            "auth_base": reddit.url,
                            "client_id": reddit.client_id,
                            "client_secret": reddit.client_secret,
                            "username": reddit.username,
                            "password": reddit.password,
                            "interval": 10,
                        },
                        "hackernews": {"api_base": hn.api_base, "interval": 10},
                    },
                    "alerts": {
                        "routes": [{"name": "urgent", "match": {"priority": "P1"}, "notify": ["console://"]}]
                    },
                    "storage": {"url": db_url},
                }
            )
        )
        expected = publish(0)
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "run", "-c", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )
        try:
            assert wait_for(lambda: len(stored(db_url)) >= len(expected), 30), stored(db_url)
            expected += publish(1)  # arrives between polls; the next poll (10 s later) must get exactly these
            wait_for(lambda: len(stored(db_url)) >= len(expected), 30)
            time.sleep(1)  # anything extra (a duplicate) would show up now
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=60)
        finally:
            proc.kill()
        assert proc.returncode == 0, err
        rows = stored(db_url)
        found = Counter(marker for _, _, text in rows for marker in expected if marker in text)
        assert sorted(found) == sorted(expected), f"missing: {set(expected) - set(found)}"
        assert set(found.values()) == {1}, "a mention was stored twice"
        assert len(rows) == len(expected)
        assert Counter(p for p, _, _ in rows) == {
            p: 2 * PER_BATCH for p in ("x", "mastodon", "bluesky", "reddit", "hackernews")
        }
