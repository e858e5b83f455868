"""Triage: a pure function of a mention (+ author history) to sentiment, label, urgency and reasons.

Use one :class:`Triager` per process (it holds the analyzers) and call
:meth:`Triager.assess` per mention. No database, clock or network inside.
"""

from monitor.triage.model import AuthorHistory, TriageContext, Verdict
from monitor.triage.settings import TriageSettings
from monitor.triage.triager import Triager

__all__ = ["AuthorHistory", "TriageContext", "TriageSettings", "Triager", "Verdict"]
