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
from itertools import compress
from pathlib import Path
from typing import Any

from monitor.triage.memo import WordMemo
from monitor.triage.normalize import MAX_CHARS, prepare

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


# A word block's terms found in a text, their tf·idf·coef values and the text's norm.
_Explained = tuple[set[str], list[float], float]


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
    # The word analyzer's n-grams of a text, repeats kept (in place of ``count`` for that analyzer).
    grams: Callable[[str], list[str]] | None = field(default=None, repr=False)
    explains: bool = False

    by_word: _CharGramsByWord | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.idf_sq = {t: idf * idf for t, (idf, _) in self.terms.items()}
        self.idf_coef = {t: idf * coef for t, (idf, coef) in self.terms.items()}
        self.explains = self.params.get("analyzer") == "word"
        if self.params.get("analyzer") == "char_wb":
            self.by_word = _CharGramsByWord(self)
        elif self.explains:
            self.grams = _word_grams(self.params)
        else:
            self.count = _ngram_counter(self.params)

    def logit(self, text: str, per_term: list[_Explained] | None) -> float:
        """This block's share of the logit: (Σ tf·idf·coef) / ‖tf·idf‖ over the model's terms in ``text``.

        Sums are ``math.fsum`` (exactly rounded, so the order terms come in does not matter; the
        char_wb block adds its words' sums instead, see :class:`_CharGramsByWord`);
        with ``per_term`` the word block also keeps its terms and their weighted values, from which
        :meth:`LearnedModel.top_terms` works out each term's share only when it is asked for.
        """
        if self.by_word is not None:
            return self.by_word.logit(text)
        idf_coef = self.idf_coef
        known: Iterable[str]
        if self.grams is not None:
            # The model's terms among the text's n-grams (usually a few dozen), repeats kept.
            present = list(filter(idf_coef.__contains__, self.grams(text)))
            if not present:
                return 0.0
            if len(set(present)) == len(present):  # the usual case: tf is 1 for every term
                counted = None
                known = present
            else:
                counts = Counter(present)
                known, counted = list(counts), list(counts.values())
        else:
            assert self.count is not None
            counts = self.count(text)
            known = counts.keys() & idf_coef.keys()  # a C-level set intersection
            if not known:
                return 0.0
            counted = list(map(counts.__getitem__, known))
            if max(counted) == 1:
                counted = None
        coefs = list(map(idf_coef.__getitem__, known))
        squares = list(map(self.idf_sq.__getitem__, known))
        if counted is None:
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
            per_term.append((known, coefs, norm))
        return dot / norm


# Distinct words a char_wb block remembers (about 430 bytes each: under 15 MB, with a model only).
_WORD_MEMO = 32_768


class _CharGramsByWord:
    """A char_wb block scored word by word, with each word's model terms and their sums worked out once.

    char_wb n-grams never cross a word (scikit-learn pads each word as " word "), so a text's
    n-grams are its words' n-grams together, and most words of a post were seen in earlier posts.
    Each distinct word keeps its n-grams that are model terms (as term numbers) and their summed
    idf·coefficient and idf² as if each counted once. A text's dot product and squared norm are
    its words' sums, corrected for the terms that occur more than once in it (a few short grams
    such as "e " or " t"): each such term adds (tf(c) − c)·idf·coef and (tf(c)² − c)·idf², with
    c its count. The sparse dot product so reads each word's sums once, with no vector built.
    """

    def __init__(self, block: _Block) -> None:
        terms = list(block.terms)
        self.number = {t: i for i, t in enumerate(terms)}
        self.idf_coef = [block.idf_coef[t] for t in terms]
        self.idf_sq = [block.idf_sq[t] for t in terms]
        self.lo, self.hi = (int(n) for n in block.params.get("ngram_range", (1, 1)))
        self.lowercase = bool(block.params.get("lowercase", True))
        self.sublinear = block.sublinear_tf
        # What a term counted c times adds beyond c single counts: tf(c) − c and tf(c)² − c.
        tfs = [_tf(c, self.sublinear) for c in range(len(_SUBLINEAR))]
        self.d_dot = [tf - c for c, tf in enumerate(tfs)]
        self.d_norm2 = [tf * tf - c for c, tf in enumerate(tfs)]
        # word -> (term numbers, with repeats; Σ idf·coef; Σ idf²)
        self.words: WordMemo[tuple[tuple[int, ...], float, float]] = WordMemo(self._word_terms, _WORD_MEMO)

    def _word_terms(self, word: str) -> tuple[tuple[int, ...], float, float]:
        """Term numbers of the n-grams of " word ", cut as scikit-learn's ``_char_wb_ngrams`` cuts them."""
        padded = f" {word} "
        size = len(padded)
        grams: list[str] = []
        for n in range(self.lo, self.hi + 1):
            if n >= size:  # the whole padded word, once (scikit-learn stops there)
                grams.append(padded)
                break
            grams.extend(padded[i : i + n] for i in range(size - n + 1))
        number = self.number
        # The dictionary's own int objects: a word's entry holds references, not new numbers.
        found = tuple(number[g] for g in grams if g in number)
        return (
            found,
            math.fsum(map(self.idf_coef.__getitem__, found)),
            math.fsum(map(self.idf_sq.__getitem__, found)),
        )

    def logit(self, text: str) -> float:
        memo = self.words
        known = memo.current
        ids: list[int] = []
        dot = norm2 = 0.0
        for word in (text.lower() if self.lowercase else text).split():
            entry = known.get(word)
            if entry is None:
                entry = memo.miss(word)
                known = memo.current
            ids += entry[0]
            dot += entry[1]
            norm2 += entry[2]
        if not ids:
            return 0.0
        counts = Counter(ids)
        if len(counts) < len(ids):
            coef, sq, d_dot, d_norm2 = self.idf_coef, self.idf_sq, self.d_dot, self.d_norm2
            for term in compress(counts, map((1).__lt__, counts.values())):
                c = counts[term]
                if c < len(d_dot):
                    dot += d_dot[c] * coef[term]
                    norm2 += d_norm2[c] * sq[term]
                else:
                    tf = _tf(c, self.sublinear)
                    dot += (tf - c) * coef[term]
                    norm2 += (tf * tf - c) * sq[term]
        return dot / (math.sqrt(norm2) or 1.0)


def _word_grams(params: dict[str, Any]) -> Callable[[str], list[str]]:
    """The word n-grams scikit-learn's word analyzer yields for these options, in order, with repeats."""
    lo, hi = (int(n) for n in params.get("ngram_range", (1, 1)))
    lowercase = bool(params.get("lowercase", True))

    def words(text: str) -> list[str]:
        tokens = _WORD_TOKEN.findall(text.lower() if lowercase else text)
        grams = list(tokens) if lo == 1 else []
        for n in range(max(lo, 2), min(hi, len(tokens)) + 1):
            grams += map(" ".join, zip(*(tokens[i:] for i in range(n)), strict=False))
        return grams

    return words


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
        grams = _word_grams(params)
        return lambda text: Counter(grams(text))
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


def _prepared(text: str) -> bool:
    """True when ``prepare(text).clean == text``: nothing to unescape, strip or collapse, not too long."""
    if len(text) > MAX_CHARS or "&" in text or "@" in text or "#" in text:
        return False
    low = text.lower()
    return "http" not in low and "www." not in low and " ".join(text.split()) == text


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
        self._last: tuple[str, float, list[_Explained]] | None = None

    def _contributions(self, text: str) -> tuple[float, list[_Explained]]:
        last = self._last
        if last is not None and last[0] == text:
            return last[1], last[2]
        # Triage passes text it has prepared already; preparing it again changes nothing then.
        clean = text if _prepared(text) else prepare(text).clean
        per_term: list[_Explained] = []
        total = self.intercept + math.fsum(block.logit(clean, per_term) for block in self._blocks)
        self._last = (text, total, per_term)
        return total, per_term

    def complaint_score(self, text: str) -> float:
        """Probability in [0, 1] that ``text`` is a complaint."""
        logit, _ = self._contributions(text)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, logit))))

    def top_terms(self, text: str, k: int = 2) -> tuple[str, ...]:
        """The word n-grams in ``text`` that pushed hardest towards complaint (for the reason line)."""
        _, explained = self._contributions(text)
        per_term: dict[str, float] = {}
        for known, values, norm in explained:
            for term, value in zip(known, values, strict=True):
                per_term[term] = value / norm
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


class ModelUnavailable(Exception):
    """Why a model file cannot be used: ``reason`` names the file and the cause, ``advice`` what
    to do; ``missing_dependency`` when the file is fine but this install cannot score it."""

    def __init__(self, reason: str, advice: str = "", *, missing_dependency: bool = False) -> None:
        super().__init__(f"{reason}; {advice}" if advice else reason)
        self.reason = reason
        self.advice = advice
        self.missing_dependency = missing_dependency


def read_model(path: str | Path) -> LearnedModel:
    """The model at ``path``; :class:`ModelUnavailable` says why not (no scikit-learn, missing, corrupt)."""
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
        raise ModelUnavailable(
            f"{target} uses an n-gram analyzer that needs scikit-learn, which is not installed "
            "(learn extra: pip install '.[learn]')",
            missing_dependency=True,
        ) from None
    except FileNotFoundError:
        raise ModelUnavailable(f"no model at {target} (run mention-monitor triage-train)") from None
    except (OSError, EOFError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise ModelUnavailable(
            f"{target} is not a readable model ({exc})", "retrain with mention-monitor triage-train"
        ) from None


def load_model(path: str | Path | None) -> LearnedModel | None:
    """The model at ``path``, or None after ONE log line saying why (no scikit-learn, missing, corrupt)."""
    if not path:
        return None
    try:
        return read_model(path)
    except ModelUnavailable as exc:
        log.warning("triage: learned signal unavailable: %s; triage runs on rules only", exc)
    return None
