"""storage.url without the full config loader: the plain case answered, everything else left to it."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest

from monitor.cli import main
from monitor.config import ConfigError, load_config
from monitor.configfile import storage_url
from monitor.store import tables
from monitor.store.db import make_engine, migrate


def _write(tmp_path, body: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "config.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def test_the_url_as_the_full_loader_reads_it(tmp_path, monkeypatch):
    monkeypatch.setenv("MM_TEST_DB_DIR", str(tmp_path))
    path = _write(
        tmp_path,
        "brand: {names: [Acme]}\nstorage:\n  url: sqlite:///${MM_TEST_DB_DIR}/m.db\n",
    )
    assert storage_url(path) == f"sqlite:///{tmp_path}/m.db"
    assert storage_url(path) == load_config(path, check_targets=False).storage.url.get_secret_value()
    no_storage = _write(tmp_path, "brand: {names: [Acme]}\n")
    assert storage_url(no_storage) == load_config(no_storage).storage.url.get_secret_value()


@pytest.mark.parametrize(
    "body",
    [
        "brand: {names: [Acme]}\nstorage:\n  url: ${MM_TEST_UNSET_VAR}\n",  # unset variable
        "brand: {names: [Acme]}\nstorage:\n  url: mentions.db\n",  # not a URL
        "brand: {names: [Acme]}\nstorage:\n  url: sqlite:///x.db\n  urll: 1\n",  # a typo'd key
        "brand: {names: [Acme]}\nstorage:\n  url_file: /run/credentials/db\n",  # a secret file
        "brand: [unclosed\n",  # not YAML
        "- a list\n",  # not a mapping
    ],
)
def test_anything_but_the_plain_case_goes_to_the_full_loader(tmp_path, body):
    assert storage_url(_write(tmp_path, body)) is None


def test_a_listing_reads_only_storage_and_a_bad_storage_section_is_still_named(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrate(make_engine(url))
    # A source with a missing token: `run` refuses it; listing mentions does not need it.
    good = _write(
        tmp_path,
        f"brand: {{names: [Acme]}}\nstorage: {{url: '{url}'}}\n"
        "sources:\n  x:\n    platform: x\n    bearer_token: ${MM_TEST_UNSET_TOKEN}\n",
    )
    with pytest.raises(ConfigError):
        load_config(good)
    assert main(["mentions", "-c", str(good)]) == 0
    assert "0 mention(s)" in capsys.readouterr().err
    bad = _write(tmp_path, "brand: {names: [Acme]}\nstorage:\n  url: mentions.db\n")
    assert main(["ack", "1", "-c", str(bad)]) == 2
    assert "storage.url" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "rc"), [(["ack", "1"], "0"), (["mentions", "--limit", "50"], "0")])
def test_workflow_and_listing_with_a_config_load_no_pydantic_orm_or_rich_console(tmp_path, argv, rc):
    """Nor the PostgreSQL dialect on a SQLite store (its partial-index keywords and JSONB type)."""
    url = f"sqlite:///{tmp_path / 'm.db'}"
    engine = make_engine(url)
    migrate(engine)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            tables.mention.insert().values(
                platform="x",
                external_id="1",
                source="x",
                author_handle="a",
                text="Acme?",
                created_at=now,
                fetched_at=now,
            )
        )
    engine.dispose()
    path = _write(tmp_path, f"brand: {{names: [Acme]}}\nstorage: {{url: '{url}'}}\n")
    code = (
        "import sys; from monitor.cli import main; rc = main(sys.argv[2:] + ['-c', sys.argv[1]]); "
        "print(rc, *(m in sys.modules for m in ('pydantic', 'sqlmodel', 'rich.console', "
        "'sqlalchemy.dialects.postgresql')), file=sys.stderr)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(path), *argv], capture_output=True, text=True, check=True
    )
    assert proc.stderr.split()[-5:] == [rc, "False", "False", "False", "False"], proc.stderr
