"""Optional learned signal: a small local text classifier trained on the team's own labels.

Word 1–2-grams and character 2–5-grams, TF-IDF, logistic regression (the strongest cheap family
in the complaint-detection literature). Needs scikit-learn (the ``learn`` extra) to train; a saved
model scores without it (the word and char_wb n-gram analyzers are re-implemented here).

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
import operator
import re
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


_WORD_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token_pattern


# Sublinear term frequency 1 + ln(count), looked up instead of computed for the usual small counts.
_SUBLINEAR = [0.0] + [1.0 + math.log(c) for c in range(1, 256)]


def _tf(count: int, sublinear: bool) -> float:
    if not sublinear:
        return float(count)
    return _SUBLINEAR[count] if count < 256 else 1.0 + math.log(count)


@dataclass(slots=True)
class _Block:
    params: dict[str, Any]
    sublinear_tf: bool
    # term -> (idf, coefficient), as saved
    terms: dict[str, tuple[float, float]]
    # Built once per model (never per call): idf², idf × coefficient, and the n-gram counter.
    idf_sq: dict[str, float] = field(default_factory=dict, repr=False)
    idf_coef: dict[str, float] = field(default_factory=dict, repr=False)
    count: Callable[[str], Counter[str]] | None = field(default=None, repr=False)
    explains: bool = False

    hashed: _HashedCharGrams | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.idf_sq = {t: idf * idf for t, (idf, _) in self.terms.items()}
        self.idf_coef = {t: idf * coef for t, (idf, coef) in self.terms.items()}
        self.count = _ngram_counter(self.params)
        self.explains = self.params.get("analyzer") == "word"
        if not self.explains:
            self.hashed = _HashedCharGrams.build(self)

    def logit(self, text: str, per_term: dict[str, float] | None) -> float:
        """This block's share of the logit: (Σ tf·idf·coef) / ‖tf·idf‖ over the model's terms in ``text``.

        Sums are ``math.fsum`` (exactly rounded, so the order terms come in does not matter);
        with ``per_term`` the word block also records each term's share for the explanation.
        """
        if self.hashed is not None:
            return self.hashed.logit(text)
        assert self.count is not None
        counts = self.count(text)
        known = counts.keys() & self.idf_coef.keys()  # a C-level set intersection
        if not known:
            return 0.0
        counted = list(map(counts.__getitem__, known))
        coefs = list(map(self.idf_coef.__getitem__, known))
        squares = list(map(self.idf_sq.__getitem__, known))
        if max(counted) == 1:  # the usual case: tf is 1 for every term
            dot, norm2 = math.fsum(coefs), math.fsum(squares)
        else:
            if self.sublinear_tf and max(counted) < len(_SUBLINEAR):
                tfs = list(map(_SUBLINEAR.__getitem__, counted))
            else:
                tfs = [_tf(c, self.sublinear_tf) for c in counted]
            coefs = list(map(operator.mul, tfs, coefs))
            dot = math.fsum(coefs)
            norm2 = math.fsum(map(operator.mul, map(operator.mul, tfs, tfs), squares))
        norm = math.sqrt(norm2) or 1.0
        if per_term is not None and self.explains:
            for term, value in zip(known, coefs, strict=True):
                per_term[term] = value / norm
        return dot / norm


_MASK = (1 << 64) - 1
_BASE = 0x100000001B3  # FNV-64 prime: the polynomial base of the n-gram hash


def _mix(h: int) -> int:
    """splitmix64's finaliser on a Python int (the vocabulary side of :func:`_mix_array`)."""
    h ^= h >> 30
    h = (h * 0xBF58476D1CE4E5B9) & _MASK
    h ^= h >> 27
    h = (h * 0x94D049BB133111EB) & _MASK
    return h ^ (h >> 31)


def _term_hash(term: str) -> int:
    h = 0
    for k, ch in enumerate(term):
        h = (h + ord(ch) * pow(_BASE, k, 1 << 64)) & _MASK
    return _mix(h ^ (len(term) << 56))


class _HashedCharGrams:
    """A char_wb block scored in a few numpy operations instead of a Python loop per n-gram.

    Every window of the padded text (" w1  w2 ") of each length is hashed at once (a polynomial
    hash over code points, splitmix64-finalised, 64 bits); the distinct hashes are counted and
    looked up in the model's sorted term hashes. A text n-gram that is not a term matches only on
    a 64-bit collision (odds ~ vocabulary / 2**64 per n-gram); if two terms of the model collide,
    the block keeps the exact dictionary path instead. Windows spanning two words hold two spaces
    and are never terms.
    """

    def __init__(
        self, np: Any, hashes: Any, idf_sq: Any, idf_coef: Any, params: dict[str, Any], sublinear: bool
    ):
        self.np = np
        self.hashes, self.idf_sq, self.idf_coef = hashes, idf_sq, idf_coef
        self.lo, self.hi = (int(n) for n in params.get("ngram_range", (1, 1)))
        self.lowercase = bool(params.get("lowercase", True))
        self.sublinear = sublinear
        self.powers = [np.uint64(pow(_BASE, k, 1 << 64)) for k in range(self.hi)]
        self.lengths = [np.uint64(n << 56) for n in range(self.hi + 1)]

    @classmethod
    def build(cls, block: _Block) -> _HashedCharGrams | None:
        if block.params.get("analyzer") != "char_wb" or int(block.params.get("ngram_range", (1, 1))[0]) > 3:
            return None
        try:
            import numpy as np
        except ImportError:  # pragma: no cover - numpy comes with TextBlob's dependencies
            return None
        terms = list(block.terms)
        hashed = np.array([_term_hash(t) for t in terms], dtype=np.uint64)
        order = np.argsort(hashed)
        hashed = hashed[order]
        if len(hashed) > 1 and bool((hashed[1:] == hashed[:-1]).any()):
            return None  # two terms share a hash: stay exact
        idf_sq = np.array([block.idf_sq[terms[i]] for i in order], dtype=np.float64)
        idf_coef = np.array([block.idf_coef[terms[i]] for i in order], dtype=np.float64)
        return cls(np, hashed, idf_sq, idf_coef, block.params, block.sublinear_tf)

    def _mix_array(self, h: Any) -> Any:
        np = self.np
        h = h ^ (h >> np.uint64(30))
        h = h * np.uint64(0xBF58476D1CE4E5B9)
        h = h ^ (h >> np.uint64(27))
        h = h * np.uint64(0x94D049BB133111EB)
        return h ^ (h >> np.uint64(31))

    def logit(self, text: str) -> float:
        np = self.np
        words = (text.lower() if self.lowercase else text).split()
        if not words:
            return 0.0
        padded = " " + "  ".join(words) + " "
        codes = np.frombuffer(padded.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        size = len(codes)
        parts = []
        h = codes * self.powers[0]
        for n in range(1, self.hi + 1):
            if n > 1:
                if size < n:
                    break
                h = h[: size - n + 1] + codes[n - 1 :] * self.powers[n - 1]
            if n >= self.lo:
                parts.append(self._mix_array(h ^ self.lengths[n]))
        if not parts:
            return 0.0
        grams, counts = np.unique(np.concatenate(parts), return_counts=True)
        at = np.searchsorted(self.hashes, grams)
        at[at == len(self.hashes)] = 0
        found = self.hashes[at] == grams
        if not found.any():
            return 0.0
        at, counts = at[found], counts[found]
        tf = 1.0 + np.log(counts) if self.sublinear else counts.astype(np.float64)
        norm = math.sqrt(float(np.dot(tf * tf, self.idf_sq[at]))) or 1.0
        return float(np.dot(tf, self.idf_coef[at])) / norm


def _ngram_counter(params: dict[str, Any]) -> Callable[[str], Counter[str]]:
    """Counts of the n-grams scikit-learn's TfidfVectorizer analyzer yields for these options.

    Word and char_wb analyzers are re-implemented with C-level loops (regex scans, ``zip``,
    ``Counter``); a test checks them against scikit-learn's own. The char_wb counter may also
    count grams spanning two words (they contain two spaces, so no model has them as terms).
    Any other analyzer falls back to scikit-learn.
    """
    kind = params.get("analyzer", "word")
    lo, hi = (int(n) for n in params.get("ngram_range", (1, 1)))
    lowercase = bool(params.get("lowercase", True))

    if kind == "word":

        def words(text: str) -> Counter[str]:
            tokens = _WORD_TOKEN.findall(text.lower() if lowercase else text)
            counts: Counter[str] = Counter(tokens) if lo == 1 else Counter()
            for n in range(max(lo, 2), min(hi, len(tokens)) + 1):
                counts.update(map(" ".join, zip(*(tokens[i:] for i in range(n)), strict=False)))
            return counts

        return words
    if kind == "char_wb" and lo <= 3:  # every padded word (" a ") is ≥ 3 long: none shorter than lo
        # Overlapping n-grams in one C-level scan each: a lookahead capturing n characters.
        scans = [re.compile(f"(?=(.{{{n}}}))", re.S) for n in range(lo, hi + 1)]

        def chars(text: str) -> Counter[str]:
            words = (text.lower() if lowercase else text).split()
            counts: Counter[str] = Counter()
            if words:
                padded = " " + "  ".join(words) + " "  # " w1  w2 ": each word padded as sklearn does
                for scan in scans:
                    counts.update(scan.findall(padded))
            return counts

        return chars
    from sklearn.feature_extraction.text import TfidfVectorizer

    kwargs = {k: params[k] for k in _ANALYZER_KEYS if k in params}
    kwargs["ngram_range"] = (lo, hi)
    analyzer = TfidfVectorizer(**kwargs).build_analyzer()
    return lambda text: Counter(analyzer(text))


class LearnedModel:
    """A trained complaint classifier; :meth:`complaint_score` is pure and deterministic.

    Scoring is a sparse dot product over the model's terms found in the text, with the weights
    precomputed at load time. :meth:`complaint_score` and :meth:`top_terms` on the same text share
    one vectorisation (the last text's result is kept), as triage asks for both.
    """

    def __init__(self, blocks: list[_Block], intercept: float, meta: dict[str, Any] | None = None) -> None:
        self._blocks = blocks
        self.intercept = intercept
        self.meta = dict(meta or {})
        self._last: tuple[str, float, dict[str, float]] | None = None

    def _contributions(self, text: str) -> tuple[float, dict[str, float]]:
        last = self._last
        if last is not None and last[0] == text:
            return last[1], last[2]
        clean = prepare(text).clean
        per_term: dict[str, float] = {}
        total = self.intercept + math.fsum(block.logit(clean, per_term) for block in self._blocks)
        self._last = (text, total, per_term)
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

    Needs scikit-learn (the ``learn`` extra: ``pip install '.[learn]'``); ImportError names that extra.
    """
    try:
        import numpy as np
        from scipy.sparse import hstack
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "triage-train needs scikit-learn: install the learn extra (pip install '.[learn]')"
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
    # Scoring needs no scikit-learn (only training does): the n-gram analyzers are our own.
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
        model.complaint_score("warm-up")  # a bad file fails here, once
        return model
    except ImportError:
        log.warning(
            "triage: learned signal unavailable: %s uses an n-gram analyzer that needs scikit-learn, "
            "which is not installed (learn extra: pip install '.[learn]'); triage runs on rules only",
            target,
        )
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
