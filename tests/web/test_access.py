"""Access without a browser: reverse-proxy sign-on, safe redirects, claim links from alerts.

Each test starts its own server (``monitor.web.server.serve``) on 127.0.0.1 with the
settings it needs, and talks to it over real HTTP.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from monitor.alerts.ack import claim_url
from monitor.config import parse_config
from monitor.mention import Mention
from monitor.pipeline import Pipeline
from monitor.store import models as m
from monitor.store.db import make_engine, migrate
from monitor.web.auth import hash_password
from monitor.web.server import serve
from tests.web.conftest import SECRET, _wait_until_up, free_port


@pytest.fixture
def start(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrate(engine)
    running = []

    def run(**dashboard):
        port = free_port()
        config = parse_config(
            {
                "brand": {"names": ["Acme"]},
                "dashboard": {
                    "listen": f"127.0.0.1:{port}",
                    "public_url": f"http://127.0.0.1:{port}",
                    "secret_key": SECRET,
                    "users": {"alice": {"password_hash": hash_password("pw-alice-123"), "role": "agent"}},
                    **dashboard,
                },
            }
        )
        stop = threading.Event()
        thread = threading.Thread(target=serve, args=(engine, config, stop), daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{port}"
        _wait_until_up(url)
        running.append((stop, thread))
        return url, config

    yield engine, run
    for stop, thread in running:
        stop.set()
        thread.join(20)
    engine.dispose()


def _store(engine, config, text="Acme, where is my parcel?"):
    mention = Mention(
        platform="import",
        external_id=f"m-{datetime.now(UTC).timestamp()}",
        text=text,
        created_at=datetime.now(UTC),
        author_handle="zoe",
    )
    Pipeline(engine, config, alerts_enabled=False).ingest([mention], source="import")
    t = m.Mention.__table__
    with engine.connect() as conn:
        return conn.execute(select(t.c.id).where(t.c.external_id == mention.external_id)).scalar_one()


def test_a_trusted_proxy_names_the_user_and_nobody_else_can(start):
    _engine, run = start
    url, _ = run(proxy_auth_header="X-Forwarded-User", trusted_proxies=["127.0.0.1/32"])
    page = httpx.get(f"{url}/", headers={"X-Forwarded-User": "sam"})
    assert page.status_code == 200 and "sam" in page.text and "viewer" in page.text
    # A listed user gets their configured role through the proxy too.
    assert "agent" in httpx.get(f"{url}/", headers={"X-Forwarded-User": "alice"}).text

    url2, _ = run(proxy_auth_header="X-Forwarded-User", trusted_proxies=["10.0.0.0/8"])
    refused = httpx.get(f"{url2}/", headers={"X-Forwarded-User": "sam"})
    assert refused.status_code == 303 and refused.headers["location"].startswith("/login")


def test_login_never_redirects_off_site_and_needs_its_form_token(start):
    _engine, run = start
    url, _ = run()
    browser = httpx.Client(base_url=url)
    form = browser.get("/login", params={"next": "//evil.example/x"})
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    assert 'value="/"' in form.text  # the off-site target was dropped
    no_token = browser.post("/login", data={"login": "alice", "password": "pw-alice-123", "next": "/"})
    assert no_token.status_code == 403
    done = browser.post(
        "/login",
        data={"login": "alice", "password": "pw-alice-123", "next": "https://evil.example", "csrf": token},
    )
    assert done.status_code == 303 and done.headers["location"] == "/"


def test_a_claim_link_claims_once_and_names_the_holder(start):
    engine, run = start
    _url, config = run()
    mention_id = _store(engine, config)
    link = claim_url(config.dashboard.public_url, SECRET, mention_id, datetime.now(UTC), 24)
    first = httpx.Client()
    page = first.get(link)  # a link preview: shows, does not claim
    assert page.status_code == 200 and "Claim mention" in page.text
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    done = first.post(link, data={"by": "Dana", "csrf": token})
    assert done.status_code == 200 and "Claimed as Dana" in done.text
    second = httpx.Client()
    page = second.get(link)
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    refused = second.post(link, data={"by": "Eve", "csrf": token})
    assert refused.status_code == 409 and "claim-link:Dana" in refused.text
    expired = claim_url(
        config.dashboard.public_url, SECRET, mention_id, datetime.now(UTC) - timedelta(days=2), 24
    )
    assert httpx.get(expired).status_code == 403


def test_hash_password_prints_a_hash_the_login_accepts():
    import subprocess
    import sys

    from argon2 import PasswordHasher

    proc = subprocess.run(
        [sys.executable, "-m", "monitor", "web", "hash-password", "--login", "zoe", "--role", "viewer"],
        input="a long passphrase\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    hashed = proc.stdout.strip()
    assert PasswordHasher().verify(hashed, "a long passphrase")
    assert "zoe:" in proc.stderr and "role: viewer" in proc.stderr
    short = subprocess.run(
        [sys.executable, "-m", "monitor", "web", "hash-password"],
        input="short\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert short.returncode == 2 and "at least 8" in short.stderr


def test_the_demo_serves_the_dashboard_with_its_own_login(tmp_path):
    import subprocess
    import sys
    import time

    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "monitor",
            "demo",
            "--duration",
            "60",
            "--db",
            f"sqlite:///{tmp_path / 'd.db'}",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        line = ""
        while "Dashboard" not in line:
            line = proc.stdout.readline()
            assert line and time.monotonic() < deadline, "the demo printed no dashboard address"
        found = re.search(r"(http://127\.0\.0\.1:\d+)/\s+log in as demo / (\S+)", line)
        assert found, line
        url, password = found.groups()
        _wait_until_up(url, deadline=60)
        browser = httpx.Client(base_url=url)
        form = browser.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
        done = browser.post(
            "/login", data={"login": "demo", "password": password, "next": "/", "csrf": token}
        )
        assert done.status_code == 303
        assert "Inbox" in browser.get("/").text
    finally:
        proc.terminate()
        proc.wait(60)
