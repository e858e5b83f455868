"""Triage: a pure function of a mention (+ author history) to sentiment, label, urgency and reasons.

Use one :class:`Triager` per process (it holds the analyzers) and call
:meth:`Triager.assess` per mention. No database, clock or network inside.

The names below load on first use: ``monitor.triage.settings`` and ``monitor.triage.model``
are imported by the config and the CLI, which must not pay for TextBlob/NLTK/SciPy (over a
second) just to parse a file or acknowledge a mention.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitor.triage.model import AuthorHistory, TriageContext, Verdict
    from monitor.triage.settings import TriageSettings
    from monitor.triage.triager import Triager

__all__ = ["AuthorHistory", "TriageContext", "TriageSettings", "Triager", "Verdict"]

_WHERE = {
    "AuthorHistory": "monitor.triage.model",
    "TriageContext": "monitor.triage.model",
    "Verdict": "monitor.triage.model",
    "TriageSettings": "monitor.triage.settings",
    "Triager": "monitor.triage.triager",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'monitor.triage' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
