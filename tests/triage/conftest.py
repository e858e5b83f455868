"""Shared fixtures for triage tests: one Triager per session (it is pure), a Mention factory."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from monitor.mention import Mention
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
