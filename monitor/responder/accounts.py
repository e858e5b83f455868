"""Which account answers a mention, and the platform :class:`~monitor.responder.base.Replier` for it.

A reply goes out through the source that fetched the mention (same ``api_base``
and credentials), unless ``responder.accounts`` names another source for that
platform. Platform modules are imported only when used.
"""

from __future__ import annotations

import importlib
from typing import Any

from monitor.responder.base import Replier, ReplyNotSupported

REPLIERS = {
    "x": "monitor.responder.x:XReplier",
    "mastodon": "monitor.responder.mastodon:MastodonReplier",
    "bluesky": "monitor.responder.bluesky:BlueskyReplier",
    "reddit": "monitor.responder.reddit:RedditReplier",
    "hackernews": "monitor.responder.hackernews:HackerNewsReplier",
}


class NoAccount(ReplyNotSupported):
    """No configured source can reply on this platform."""


def replier_class(platform: str) -> type[Replier]:
    """The reply module of ``platform``; :class:`ReplyNotSupported` for a platform without one."""
    where = REPLIERS.get(platform)
    if where is None:
        raise ReplyNotSupported(
            f"replies to {platform} mentions are not supported (supported: "
            f"{', '.join(p for p in REPLIERS if p != 'hackernews')}); answer on the platform itself"
        )
    module, name = where.split(":")
    return getattr(importlib.import_module(module), name)


def account_for(config: Any, platform: str, source: str | None) -> str:
    """The source name whose account replies to a mention of ``platform`` fetched by ``source``."""
    chosen = config.responder.accounts.get(platform)
    if chosen is None and source in config.sources and config.platform_of(source) == platform:
        chosen = source
    if chosen is None:
        chosen = next((n for n in config.sources if config.platform_of(n) == platform), None)
    if chosen is None or chosen not in config.sources:
        raise NoAccount(
            f"no {platform} source in the config to reply as"
            + (f" (responder.accounts.{platform} names {chosen!r}, which is not a source)" if chosen else "")
            + f"; add a sources entry with platform {platform} and its credentials"
        )
    return chosen


def make_replier(config: Any, source: str, *, transport: Any = None) -> Replier:
    """A ready replier for the account of ``source`` (network clients made here, closed by the caller)."""
    platform = config.platform_of(source)
    cls = replier_class(platform)
    return cls.from_config(config, source, transport=transport)  # type: ignore[attr-defined]
