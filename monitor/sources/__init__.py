"""Platform sources: one module per platform, each defining one :class:`Source` subclass.

A new platform is one new file here whose ``Source`` subclass sets ``platform``
to the module's name; the registry finds it by that name.
"""

from __future__ import annotations

import importlib
import pkgutil

from monitor.sources.base import (
    AuthFailed,
    BudgetExhausted,
    Gap,
    MalformedResponse,
    Page,
    RateLimited,
    Source,
    SourceError,
    SourceSettings,
    SourceUnavailable,
)

__all__ = [
    "AuthFailed",
    "BudgetExhausted",
    "Gap",
    "MalformedResponse",
    "Page",
    "RateLimited",
    "Source",
    "SourceError",
    "SourceSettings",
    "SourceUnavailable",
    "available_platforms",
    "source_class",
]

_NOT_PLATFORMS = {"base", "http", "text"}


def available_platforms() -> list[str]:
    """Names of the platform modules shipped in this package."""
    return sorted(
        m.name
        for m in pkgutil.iter_modules(__path__)
        if not m.name.startswith("_") and m.name not in _NOT_PLATFORMS
    )


def source_class(platform: str) -> type[Source]:
    """The Source subclass for ``platform``; ``KeyError`` names the known ones."""
    if platform not in available_platforms():
        raise KeyError(platform)
    module = importlib.import_module(f"{__name__}.{platform}")
    for obj in vars(module).values():
        if isinstance(obj, type) and issubclass(obj, Source) and getattr(obj, "platform", None) == platform:
            return obj
    raise KeyError(platform)
