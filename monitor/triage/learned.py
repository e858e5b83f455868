"""Optional learned signal: a small local text classifier trained on the team's own labels.

Word 1–2-grams and character 2–5-grams, TF-IDF, logistic regression (the strongest cheap family
in the complaint-detection literature). Needs scikit-learn (the ``learn`` extra) to train and to
load; without it the signal is unavailable and :func:`load_model` says so in one log line.

The saved file is gzipped JSON (vocabulary, idf and coefficients), not a pickle, so loading a
model file can never execute code. Scoring re-implements the TF-IDF arithmetic over that
vocabulary, which also lets the model name the n-grams that pushed a score up.
Nothing is downloaded; nothing trained on the development data sets ships in the package.
"""

from __future__ import annotations

import gzip
import json
import logging
import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor.triage.normalize import prepare

log = logging.getLogger(__name__)

FORMAT = "mention-monitor-triage-model"
VERSION = 1
# Both feature blocks: (name, TfidfVectorizer keyword arguments). Kept small so a few thousand
# labels train in seconds and the file stays a few MB.
_BLOCKS: list[tuple[str, dict[str, Any]]] = [
    (
        "words",
        {"analyzer": "word", "ngram_range": [1, 2], "lowercase": True, "sublinear_tf": True, "min_df": 2},
    ),
    (
        "chars",
        {
            "analyzer": "char_wb",
            "ngram_range": [2, 5],
            "lowercase": True,
            "sublinear_tf": True,
            "min_df": 2,
            "max_features": 60_000,
        },
    ),
]
# The options that affect how text becomes n-grams (the rest only matter while fitting).
_ANALYZER_KEYS = ("analyzer", "ngram_range", "lowercase")


class LearnedModelError(ValueError):
    """The examples cannot train a model (e.g. only one class)."""


@dataclass(slots=True)
class _Block:
    params: dict[str, Any]
    sublinear_tf: bool
    # term -> (idf, coefficient)
    terms: dict[str, tuple[float, float]]
    analyzer: Callable[[str], list[str]] | None = field(default=None, repr=False)

    def analyze(self, text: str) -> list[str]:
        if self.analyzer is None:
            from sklearn.feature_extraction.text import TfidfVectorizer

            kwargs = {k: self.params[k] for k in _ANALYZER_KEYS if k in self.params}
            kwargs["ngram_range"] = tuple(kwargs.get("ngram_range", (1, 1)))
            self.analyzer = TfidfVectorizer(**kwargs).build_analyzer()
        return self.analyzer(text)


class LearnedModel:
    """A trained complaint classifier; :meth:`complaint_score` is pure and deterministic."""

    def __init__(self, blocks: list[_Block], intercept: float, meta: dict[str, Any] | None = None) -> None:
        self._blocks = blocks
        self.intercept = intercept
        self.meta = dict(meta or {})

    def _contributions(self, text: str) -> tuple[float, dict[str, float]]:
        clean = prepare(text).clean
        total = self.intercept
        per_term: dict[str, float] = {}
        for block in self._blocks:
            counts = Counter(t for t in block.analyze(clean) if t in block.terms)
            if not counts:
                continue
            weighted = {}
            for term, count in counts.items():
                tf = 1.0 + math.log(count) if block.sublinear_tf else float(count)
                weighted[term] = tf * block.terms[term][0]
            norm = math.sqrt(sum(v * v for v in weighted.values())) or 1.0
            for term, value in weighted.items():
                c = value / norm * block.terms[term][1]
                total += c
                if block.params.get("analyzer") == "word":
                    per_term[term] = c
        return total, per_term

    def complaint_score(self, text: str) -> float:
        """Probability in [0, 1] that ``text`` is a complaint."""
        logit, _ = self._contributions(text)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, logit))))

    def top_terms(self, text: str, k: int = 2) -> tuple[str, ...]:
        """The word n-grams in ``text`` that pushed hardest towards complaint (for the reason line)."""
        _, per_term = self._contributions(text)
        ranked = sorted((c, t) for t, c in per_term.items() if c > 0)
        return tuple(t for _, t in reversed(ranked[-k:]))

    def save(self, path: str | Path) -> None:
        """Write the model as gzipped JSON (written atomically: a temp file, then rename)."""
        target = Path(path)
        data = {
            "format": FORMAT,
            "version": VERSION,
            "intercept": self.intercept,
            "meta": self.meta,
            "blocks": [
                {
                    "params": b.params,
                    "sublinear_tf": b.sublinear_tf,
                    "terms": {t: list(v) for t, v in b.terms.items()},
                }
                for b in self._blocks
            ],
        }
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        with gzip.open(tmp, "wt", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, sort_keys=True)
        tmp.replace(target)


def train(examples: Iterable[tuple[str, str]], c: float = 4.0) -> LearnedModel:
    """Fit complaint-vs-rest on (text, label) pairs; raises :class:`LearnedModelError` on unusable data.

    Needs scikit-learn (``pip install 'mention-monitor[learn]'``); ImportError names that extra.
    """
    try:
        import numpy as np
        from scipy.sparse import hstack
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "triage-train needs scikit-learn: install the extra with pip install 'mention-monitor[learn]'"
        ) from exc

    texts: list[str] = []
    targets: list[int] = []
    for text, label in examples:
        texts.append(prepare(text).clean)
        targets.append(1 if label == "complaint" else 0)
    positives = sum(targets)
    if not texts or positives == 0 or positives == len(texts):
        raise LearnedModelError(
            f"need both complaints and non-complaints to train; got {positives} complaints "
            f"out of {len(texts)} examples. Correct a few more labels first."
        )
    min_df = 2 if len(texts) >= 50 else 1
    vectorizers = []
    matrices = []
    for _, params in _BLOCKS:
        kwargs = dict(params)
        kwargs["ngram_range"] = tuple(kwargs["ngram_range"])
        kwargs["min_df"] = min_df
        vec = TfidfVectorizer(**kwargs)
        matrices.append(vec.fit_transform(texts))
        vectorizers.append(vec)
    features = hstack(matrices).tocsr()
    # Fixed random_state: liblinear shuffles, and the same labels must give the same model.
    clf = LogisticRegression(C=c, max_iter=2000, solver="liblinear", random_state=0)
    clf.fit(features, np.asarray(targets))
    coef = clf.coef_[0]
    blocks: list[_Block] = []
    offset = 0
    for (_, params), vec in zip(_BLOCKS, vectorizers, strict=True):
        vocab = vec.vocabulary_
        idf = vec.idf_
        terms = {
            term: (float(idf[i]), float(coef[offset + i]))
            for term, i in vocab.items()
            if coef[offset + i] != 0.0
        }
        offset += len(vocab)
        stored = {k: params[k] for k in _ANALYZER_KEYS}
        blocks.append(_Block(stored, bool(params["sublinear_tf"]), terms))
    meta = {"examples": len(texts), "complaints": positives, "c": c}
    return LearnedModel(blocks, float(clf.intercept_[0]), meta)


def load_model(path: str | Path | None) -> LearnedModel | None:
    """The model at ``path``, or None after ONE log line saying why (no scikit-learn, missing, corrupt)."""
    if not path:
        return None
    target = Path(path).expanduser()
    try:
        import sklearn  # noqa: F401  (scoring builds its n-gram analyzers with scikit-learn)
    except ImportError:
        log.warning(
            "triage: learned signal unavailable: scikit-learn is not installed "
            "(pip install 'mention-monitor[learn]'); triage runs on rules only"
        )
        return None
    try:
        with gzip.open(target, "rt", encoding="utf-8") as fh:
            data = json.load(fh)
        if data.get("format") != FORMAT or data.get("version") != VERSION:
            raise ValueError(f"not a {FORMAT} v{VERSION} file")
        blocks = [
            _Block(
                dict(b["params"]),
                bool(b["sublinear_tf"]),
                {str(t): (float(v[0]), float(v[1])) for t, v in b["terms"].items()},
            )
            for b in data["blocks"]
        ]
        model = LearnedModel(blocks, float(data["intercept"]), data.get("meta") or {})
        model.complaint_score("warm-up")  # builds the analyzers now, so a bad file fails here, once
        return model
    except FileNotFoundError:
        log.warning(
            "triage: learned signal unavailable: no model at %s (run mention-monitor triage-train); "
            "triage runs on rules only",
            target,
        )
    except (OSError, EOFError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        log.warning(
            "triage: learned signal unavailable: %s is not a readable model (%s); "
            "retrain with mention-monitor triage-train; triage runs on rules only",
            target,
            exc,
        )
    return None
