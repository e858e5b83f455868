"""Triage benchmark on the labelled airline tweets: quality against the lexicon baselines, and speed.

    python bench/triage.py [--data ../shared/data/airline_tweets.csv] [--no-learned]

Negative tweets are the positives ("complaints"); neutral and positive are the rest. Prints
precision/recall/F1 of the default triage ``complaint`` label, TextBlob < 0, VADER <= -0.05 and
flag-all; throughput of TextBlob alone and of full triage on one core; and, unless
``--no-learned``, the optional learned signal evaluated leave-one-airline-out (train on five
airlines, test on the sixth). Nothing trained here is saved: the data set is non-commercial.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from textblob import TextBlob
from textblob.en.sentiments import PatternAnalyzer
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from monitor.mention import Mention
from monitor.triage import Triager, TriageSettings
from monitor.triage.normalize import brand_pattern, prepare

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "data" / "airline_tweets.csv"
# A second brand and domain, only to see whether the rules carry over (nothing is tuned on it).
DEFAULT_CROSS = REPO.parent / "shared" / "data" / "apple_twitter_sentiment.csv"
# The brand terms an operator would configure for each brand: names and handles, so they are
# stripped before lexicon scoring. (The data set's "Delta" rows are tweets to JetBlue.)
BRAND_TERMS = {
    "Virgin America": ["Virgin America", "VirginAmerica", "Virgin"],
    "United": ["United Airlines", "United"],
    "Southwest": ["Southwest Airlines", "SouthwestAir", "Southwest"],
    "Delta": ["JetBlue", "Jet Blue", "Delta"],
    "US Airways": ["US Airways", "USAirways", "USAir"],
    "American": ["American Airlines", "AmericanAir", "American"],
}
_CREATED = datetime(2015, 2, 20, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Row:
    tweet_id: str
    text: str
    airline: str
    negative: bool
    sentiment: str


@dataclass(frozen=True, slots=True)
class Scores:
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score(flags: Sequence[bool], truth: Sequence[bool]) -> Scores:
    tp = sum(1 for f, t in zip(flags, truth, strict=True) if f and t)
    fp = sum(1 for f, t in zip(flags, truth, strict=True) if f and not t)
    fn = sum(1 for f, t in zip(flags, truth, strict=True) if not f and t)
    return Scores(tp, fp, fn)


def load(path: Path) -> tuple[list[Row], int]:
    """Rows deduplicated by tweet_id (first kept), and how many duplicates were dropped."""
    rows: list[Row] = []
    seen: set[str] = set()
    dropped = 0
    with path.open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            if r["tweet_id"] in seen:
                dropped += 1
                continue
            seen.add(r["tweet_id"])
            rows.append(
                Row(
                    r["tweet_id"],
                    r["text"],
                    r["airline"],
                    r["airline_sentiment"] == "negative",
                    r["airline_sentiment"],
                )
            )
    return rows, dropped


def mention_of(row: Row) -> Mention:
    # The data set has no language field: language=None exercises the offline guess, as a
    # platform without one would. Every tweet here @-mentions the airline.
    return Mention(
        platform="twitter",
        external_id=row.tweet_id,
        text=row.text,
        created_at=_CREATED,
        author_handle="user",
        addressed_to_brand="@" in row.text,
    )


def print_row(name: str, s: Scores) -> None:
    print(f"  {name:<46} {s.precision:9.3f} {s.recall:7.3f} {s.f1:7.3f} {s.tp + s.fp:8d}")


def print_header() -> None:
    print(f"  {'detector':<46} {'precision':>9} {'recall':>7} {'F1':>7} {'flagged':>8}")


def pin_one_core() -> str:
    try:
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    except (AttributeError, OSError):
        return "not pinned (no sched_setaffinity); single-threaded anyway"


def quality(rows: list[Row]) -> tuple[dict[str, Triager], list[bool]]:
    truth = [r.negative for r in rows]
    triagers = {a: Triager(brand_terms=terms) for a, terms in BRAND_TERMS.items()}
    fallback = Triager()
    verdicts = [triagers.get(r.airline, fallback).assess(mention_of(r)) for r in rows]
    tb = PatternAnalyzer()
    vader = SentimentIntensityAnalyzer()
    complaint = [v.label == "complaint" for v in verdicts]
    print_header()
    print_row("default triage: label == complaint", score(complaint, truth))
    print_row(
        "triage: complaint or question to the brand",
        score([v.label in {"complaint", "question"} for v in verdicts], truth),
    )
    print_row(
        "TextBlob polarity < 0 (raw text)", score([tb.analyze(r.text).polarity < 0 for r in rows], truth)
    )
    print_row(
        "VADER compound <= -0.05 (raw text)",
        score([vader.polarity_scores(r.text)["compound"] <= -0.05 for r in rows], truth),
    )
    print_row("flag everything", score([True] * len(rows), truth))
    s = score(complaint, truth)
    met = s.f1 >= 0.85 and s.precision >= 0.85
    print(
        f"\n  target F1 >= 0.85 with precision >= 0.85: {'MET' if met else 'NOT MET'} "
        f"(F1 {s.f1:.3f}, precision {s.precision:.3f}, recall {s.recall:.3f})"
    )
    labels: dict[str, int] = {}
    for v in verdicts:
        labels[v.label] = labels.get(v.label, 0) + 1
    print(
        "  triage labels: " + ", ".join(f"{k} {n}" for k, n in sorted(labels.items(), key=lambda kv: -kv[1]))
    )
    return triagers, truth


def speed(rows: list[Row], repeats: int, chunk: int = 1000) -> None:
    """Mentions/s of TextBlob alone, VADER alone and full triage on the same texts, one core.

    CPU time of this process, not wall time: on a shared machine other jobs take the core
    unevenly. The three are interleaved in chunks of ``chunk`` texts so that a busy spell
    slows all of them alike; each repeat sums its chunks and the best repeat is kept.
    """
    where = pin_one_core()
    texts = [r.text for r in rows]
    mentions = [mention_of(r) for r in rows]
    tb = PatternAnalyzer()
    vader = SentimentIntensityAnalyzer()
    triager = Triager(brand_terms=[t for terms in BRAND_TERMS.values() for t in terms])
    triager.assess(mentions[0])  # warm-up: first-call imports and caches are not throughput

    # Results are dropped at once, as a pipeline would: keeping a chunk of them alive would
    # make the garbage collector (and so the timing) depend on what each result holds.
    def run_tb(a: int, b: int) -> None:
        for t in texts[a:b]:
            tb.analyze(t)

    def run_blob(a: int, b: int) -> None:
        for t in texts[a:b]:
            TextBlob(t).sentiment  # noqa: B018 - the property computes the score

    def run_vader(a: int, b: int) -> None:
        for t in texts[a:b]:
            vader.polarity_scores(t)

    def run_triage(a: int, b: int) -> None:
        for m in mentions[a:b]:
            triager.assess(m)

    runners: dict[str, Callable[[int, int], None]] = {
        "tb": run_tb,
        "blob": run_blob,
        "vader": run_vader,
        "triage": run_triage,
    }
    best = dict.fromkeys(runners, float("inf"))
    ratios: list[float] = []
    blob_ratios: list[float] = []
    for _ in range(repeats):
        spent = dict.fromkeys(runners, 0.0)
        for a in range(0, len(texts), chunk):
            for name, run in runners.items():
                start = time.process_time()
                run(a, a + chunk)
                spent[name] += time.process_time() - start
        ratios.append(spent["tb"] / spent["triage"])
        blob_ratios.append(spent["blob"] / spent["triage"])
        best = {name: min(best[name], spent[name]) for name in runners}
    n = len(texts)
    print(f"  {n} texts, CPU time, {repeats} repeats interleaved in chunks of {chunk}, {where}")
    print(f"  TextBlob alone (PatternAnalyzer reused)      {n / best['tb']:9.0f} mentions/s")
    print(f"  TextBlob(text).sentiment, as usually written {n / best['blob']:9.0f} mentions/s")
    print(f"  VADER alone (reused)                         {n / best['vader']:9.0f} mentions/s")
    print(f"  full triage (Triager.assess, rules only)     {n / best['triage']:9.0f} mentions/s")
    ratio = sorted(ratios)[len(ratios) // 2]
    verdict = "MET" if ratio >= 0.5 else "NOT MET"
    spread = f"{min(ratios):.2f}–{max(ratios):.2f}"
    print(f"  ratio full triage / TextBlob alone: {ratio:.2f} (median of repeats; range {spread})")
    print(f"  target ratio >= 0.50 (against the reused PatternAnalyzer, the strict reading): {verdict}")
    blob = sorted(blob_ratios)[len(blob_ratios) // 2]
    print(f"  ratio full triage / TextBlob(text).sentiment: {blob:.2f} (median of repeats)")


def learned_folds(rows: list[Row]) -> None:
    try:
        from monitor.triage.learned import train
    except ImportError as exc:  # pragma: no cover
        print(f"  skipped: {exc}")
        return
    try:
        import sklearn  # noqa: F401
    except ImportError:
        print("  skipped: scikit-learn is not installed (pip install 'mention-monitor[learn]')")
        return
    label_of = {"negative": "complaint", "positive": "praise", "neutral": "neutral"}
    patterns = {a: brand_pattern(terms) for a, terms in BRAND_TERMS.items()}
    # Brand names and handles are stripped before training, as the Triager strips them before scoring.
    clean = [prepare(r.text, patterns.get(r.airline)).clean for r in rows]
    head = f"  {'held-out airline':<16} {'n':>5} | {'learned alone P/R/F1':>22}"
    print(f"{head} | {'triage + learned P/R/F1':>24}")
    sums = {"alone": [0.0, 0.0, 0.0], "combined": [0.0, 0.0, 0.0]}
    pooled = {"alone": [], "combined": [], "truth": []}
    airlines = list(BRAND_TERMS)
    for held in airlines:
        train_idx = [i for i, r in enumerate(rows) if r.airline != held]
        test_idx = [i for i, r in enumerate(rows) if r.airline == held]
        model = train((clean[i], label_of[rows[i].sentiment]) for i in train_idx)
        triager = Triager(brand_terms=BRAND_TERMS[held], learned=model)
        truth = [rows[i].negative for i in test_idx]
        alone = [model.complaint_score(clean[i]) >= 0.5 for i in test_idx]
        combined = [triager.assess(mention_of(rows[i])).label == "complaint" for i in test_idx]
        a, c = score(alone, truth), score(combined, truth)
        for key, s in (("alone", a), ("combined", c)):
            sums[key][0] += s.precision
            sums[key][1] += s.recall
            sums[key][2] += s.f1
        pooled["alone"] += alone
        pooled["combined"] += combined
        pooled["truth"] += truth
        print(
            f"  {held:<16} {len(test_idx):5d} | {a.precision:6.3f} {a.recall:6.3f} {a.f1:6.3f}   "
            f"| {c.precision:6.3f} {c.recall:6.3f} {c.f1:6.3f}"
        )
    k = len(airlines)
    ma, mc = sums["alone"], sums["combined"]
    print(
        f"  {'mean of folds':<16} {'':5} | {ma[0] / k:6.3f} {ma[1] / k:6.3f} {ma[2] / k:6.3f}   "
        f"| {mc[0] / k:6.3f} {mc[1] / k:6.3f} {mc[2] / k:6.3f}"
    )
    pa, pc = score(pooled["alone"], pooled["truth"]), score(pooled["combined"], pooled["truth"])
    print(
        f"  {'pooled':<16} {len(rows):5d} | {pa.precision:6.3f} {pa.recall:6.3f} {pa.f1:6.3f}   "
        f"| {pc.precision:6.3f} {pc.recall:6.3f} {pc.f1:6.3f}"
    )


def cross_check(path: Path) -> None:
    """The same detectors on the Apple tweets (negative = sentiment 1), if that file is present."""
    if not path.is_file():
        print(f"  skipped: {path} not found")
        return
    with path.open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r.get("sentiment") in {"1", "3", "5"}]
    truth = [r["sentiment"] == "1" for r in rows]
    triager = Triager(brand_terms=["Apple", "AAPL"])
    tb = PatternAnalyzer()
    vader = SentimentIntensityAnalyzer()
    verdicts = [
        triager.assess(
            Mention(
                platform="twitter",
                external_id=r["_unit_id"],
                text=r["text"],
                created_at=_CREATED,
                author_handle="user",
                addressed_to_brand="@apple" in r["text"].lower(),
            )
        )
        for r in rows
    ]
    negatives = sum(truth)
    share = negatives / len(rows)
    print(f"  {path.name}: {len(rows)} tweets (not_relevant dropped), {negatives} negative ({share:.1%})")
    print_header()
    print_row("default triage: label == complaint", score([v.label == "complaint" for v in verdicts], truth))
    print_row(
        "TextBlob polarity < 0 (raw text)", score([tb.analyze(r["text"]).polarity < 0 for r in rows], truth)
    )
    print_row(
        "VADER compound <= -0.05 (raw text)",
        score([vader.polarity_scores(r["text"])["compound"] <= -0.05 for r in rows], truth),
    )
    print_row("flag everything", score([True] * len(rows), truth))


# ----------------------------------------------------------------------------- every labelled set


@dataclass(frozen=True, slots=True)
class Labelled:
    """One post of a labelled set: complaint truth, severity truth (None when the set has none)."""

    text: str
    complaint: bool
    severe: bool | None
    addressed: bool
    brand: str = ""


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _airline_set(path: Path) -> tuple[list[Labelled], dict[str, list[str]]]:
    rows, _ = load(path)
    return [Labelled(r.text, r.negative, None, "@" in r.text, r.airline) for r in rows], BRAND_TERMS


def _xfincorp_set(path: Path) -> tuple[list[Labelled], dict[str, list[str]]]:
    # Many brands (Indian banks, fintech, retailers); no per-row brand is given, so no terms are stripped.
    out = [
        Labelled(
            r["Complaint/ Opinion"],
            r["Complaint Label"] == "1",
            r["Severity level"] in ("Accusation", "Blame"),
            "@" in r["Complaint/ Opinion"],
        )
        for r in _read(path)
    ]
    return out, {}


def _apple_set(path: Path) -> tuple[list[Labelled], dict[str, list[str]]]:
    rows = [r for r in _read(path) if r.get("sentiment") in {"1", "3", "5"}]
    out = [
        Labelled(r["text"], r["sentiment"] == "1", None, "@apple" in r["text"].lower(), "Apple") for r in rows
    ]
    return out, {"Apple": ["Apple", "AAPL"]}


def _sxsw_set(path: Path) -> tuple[list[Labelled], dict[str, list[str]]]:
    # Mentions are anonymised to "@mention": none is known to be the brand's handle.
    rows = [r for r in _read(path) if (r.get("tweet_text") or "").strip()]
    label = "is_there_an_emotion_directed_at_a_brand_or_product"
    out = [Labelled(r["tweet_text"], r[label] == "Negative emotion", None, False, "SXSW") for r in rows]
    terms = ["Apple", "Google", "iPad", "iPad2", "iPhone", "Android", "SXSW"]
    return out, {"SXSW": terms}


def _tweeteval_set(path: Path) -> tuple[list[Labelled], dict[str, list[str]]]:
    return [Labelled(r["text"], r["label"] == "0", None, False) for r in _read(path)], {}


SETS: dict[str, tuple[str, Callable[[Path], tuple[list[Labelled], dict[str, list[str]]]]]] = {
    "xfincorp": ("xfincorp_complaints.csv", _xfincorp_set),
    "airline": ("airline_tweets.csv", _airline_set),
    "apple": ("apple_twitter_sentiment.csv", _apple_set),
    "sxsw": ("sxsw_brand_emotion.csv", _sxsw_set),
    "tweeteval": ("tweeteval_sentiment_test.csv", _tweeteval_set),
}


def assess_set(rows: list[Labelled], terms: dict[str, list[str]], **triager_kwargs: object) -> list:
    triagers = {b: Triager(brand_terms=t, **triager_kwargs) for b, t in terms.items()}  # type: ignore[arg-type]
    fallback = Triager(**triager_kwargs)  # type: ignore[arg-type]
    return [
        triagers.get(r.brand, fallback).assess(
            Mention(
                platform="twitter",
                external_id=str(i),
                text=r.text,
                created_at=_CREATED,
                author_handle="user",
                addressed_to_brand=r.addressed,
            )
        )
        for i, r in enumerate(rows)
    ]


def severity_lines(rows: list[Labelled], verdicts: list) -> dict[str, Scores]:
    """Severe complaints found in P1, and in P1/P2 (only for sets with severity labels)."""
    truth = [bool(r.severe) for r in rows]
    return {
        "P1": score([v.priority == "P1" for v in verdicts], truth),
        "P1/P2": score([v.priority in ("P1", "P2") for v in verdicts], truth),
    }


def per_set(data_dir: Path, names: list[str]) -> None:
    """Complaint quality on each labelled set, priorities, and the severity targets where labelled."""
    tb = PatternAnalyzer()
    vader = SentimentIntensityAnalyzer()
    for name in names:
        file, reader = SETS[name]
        path = data_dir / file
        if not path.is_file():
            print(f"\n[{name}] skipped: {path} not found")
            continue
        rows, terms = reader(path)
        truth = [r.complaint for r in rows]
        verdicts = assess_set(rows, terms)
        share = sum(truth) / len(rows)
        aimed = sum(r.addressed for r in rows)
        print(
            f"\n[{name}] {file}: {len(rows)} posts, {sum(truth)} complaints ({share:.1%}), "
            f"{aimed} aimed at a brand"
        )
        print_header()
        print_row("triage: label == complaint", score([v.label == "complaint" for v in verdicts], truth))
        if 0 < aimed < len(rows):
            idx = [i for i, r in enumerate(rows) if r.addressed]
            print_row(
                "  … posts aimed at the brand only",
                score([verdicts[i].label == "complaint" for i in idx], [truth[i] for i in idx]),
            )
            idx = [i for i, r in enumerate(rows) if not r.addressed]
            print_row(
                "  … posts that only name it",
                score([verdicts[i].label == "complaint" for i in idx], [truth[i] for i in idx]),
            )
        print_row("TextBlob polarity < 0", score([tb.analyze(r.text).polarity < 0 for r in rows], truth))
        print_row(
            "VADER compound <= -0.05",
            score([vader.polarity_scores(r.text)["compound"] <= -0.05 for r in rows], truth),
        )
        print_row("flag everything", score([True] * len(rows), truth))
        dist: dict[tuple[str, str], int] = {}
        kinds = ("severe", "mild", "none") if rows[0].severe is not None else ("complaint", "none")
        for r, v in zip(rows, verdicts, strict=True):
            kind = (
                ("severe" if r.severe else "mild")
                if r.complaint and r.severe is not None
                else ("complaint" if r.complaint else "none")
            )
            dist[(kind, v.priority)] = dist.get((kind, v.priority), 0) + 1
        for kind in kinds:
            n = sum(dist.get((kind, p), 0) for p in ("P1", "P2", "P3")) or 1
            label = {"none": "not complaints", "mild": "mild complaints", "severe": "severe complaints"}.get(
                kind, "complaints"
            )
            parts = "  ".join(f"{p} {dist.get((kind, p), 0) / n:5.1%}" for p in ("P1", "P2", "P3"))
            print(f"  priorities of {label:<18} {parts}")
        if rows[0].severe is not None:
            sev = severity_lines(rows, verdicts)
            p1, p12 = sev["P1"], sev["P1/P2"]
            ok1 = p1.recall >= 0.5 and p1.precision >= 0.5
            ok2 = p12.recall >= 0.8 and p12.precision >= 0.35
            print(
                f"  severe complaints in P1:    recall {p1.recall:.3f} precision {p1.precision:.3f} "
                f"(target >= 0.5 at >= 0.5: {'MET' if ok1 else 'NOT MET'})"
            )
            print(
                f"  severe complaints in P1/P2: recall {p12.recall:.3f} precision {p12.precision:.3f} "
                f"(target >= 0.8 at >= 0.35: {'MET' if ok2 else 'NOT MET'})"
            )
        else:
            p1 = [v.label == "complaint" for v in verdicts if v.priority == "P1"]
            top = sum(1 for r, v in zip(rows, verdicts, strict=True) if v.priority == "P1" and r.complaint)
            print(
                f"  no severity labels: {len(p1)} posts at P1, {top / max(1, len(p1)):.1%} of them "
                f"complaints by the set's labels"
            )


# ----------------------------------------------------------------------------- ablation


def _ablations() -> list[tuple[str, dict[str, object], dict[str, object]]]:
    """(name, settings overrides, triager-module patches) that switch one signal off."""
    w = lambda name: {"weights": {name: 0.0}}  # noqa: E731
    return [
        ("all signals", {}, {}),
        ("- sentiment (TextBlob+VADER mix)", w("sentiment"), {}),
        ("- negative words share", w("negative_words"), {}),
        ("- service failure cues", w("failure"), {}),
        ("- demand cues", w("demand"), {}),
        ("- frustration cues", w("frustration"), {}),
        ("- persistence cues", w("persistence"), {}),
        ("- accusing question", w("accusing_question"), {}),
        ("- sarcasm", w("sarcasm"), {}),
        ("- praise", w("praise"), {}),
        ("- slang praise", {}, {"slang_praise": lambda *a: None}),
        ("- negative aside", {}, {"negative_aside": lambda *a: None}),
        ("- directed (aimed/named)", {}, {"complaint_allowed": lambda *a, **k: True}),
        ("- severity", {"urgency": {"severity_scale": 0.0}}, {}),
    ]


def ablation(data_dir: Path, names: list[str]) -> None:
    """What each signal adds: complaint F1 per set with that signal off (and the severity targets)."""
    from monitor.triage import triager as triager_module

    loaded = {}
    for name in names:
        path = data_dir / SETS[name][0]
        if path.is_file():
            loaded[name] = SETS[name][1](path)
    head = "  " + f"{'signal switched off':<34}" + "".join(f"{n:>11}" for n in loaded)
    print(head + "   xfincorp severe P1 R/P, P1/P2 R/P")
    for label, overrides, patches in _ablations():
        saved = {k: getattr(triager_module, k) for k in patches}
        for k, v in patches.items():
            setattr(triager_module, k, v)
        try:
            settings = TriageSettings.model_validate(overrides)
            cells = []
            severity = ""
            for rows, terms in loaded.values():
                verdicts = assess_set(rows, terms, settings=settings)
                f1 = score([v.label == "complaint" for v in verdicts], [r.complaint for r in rows]).f1
                cells.append(f"{f1:11.3f}")
                if rows and rows[0].severe is not None:
                    sev = severity_lines(rows, verdicts)
                    severity = (
                        f"   {sev['P1'].recall:.3f}/{sev['P1'].precision:.3f}, "
                        f"{sev['P1/P2'].recall:.3f}/{sev['P1/P2'].precision:.3f}"
                    )
        finally:
            for k, v in saved.items():
                setattr(triager_module, k, v)
        print(f"  {label:<34}" + "".join(cells) + severity, flush=True)


# ----------------------------------------------------------------------------- a shipped default model?


def transfer(data_dir: Path) -> None:
    """Train the learned signal on one set and score sets it never saw, against the rules alone.

    X-FINCORP is the only set whose licence (MIT) would allow shipping the model; the reverse
    direction (airline -> others) is measured only. Nothing is saved.
    """
    try:
        from monitor.triage.learned import train
    except ImportError as exc:  # pragma: no cover
        print(f"  skipped: {exc}")
        return
    loaded = {}
    for name in ("xfincorp", "airline", "apple", "sxsw"):
        path = data_dir / SETS[name][0]
        if path.is_file():
            loaded[name] = SETS[name][1](path)
    print(
        f"  {'trained on -> scored on':<26} {'rules P/R/F1':>22} | {'rules + model P/R/F1':>22} "
        "| model alone F1"
    )
    for source in ("xfincorp", "airline"):
        if source not in loaded:
            continue
        rows, terms = loaded[source]
        patterns = {b: brand_pattern(t) for b, t in terms.items()}
        model = train(
            (prepare(r.text, patterns.get(r.brand)).clean, "complaint" if r.complaint else "neutral")
            for r in rows
        )
        for target, (trows, tterms) in loaded.items():
            if target == source:
                continue
            truth = [r.complaint for r in trows]
            rules = score([v.label == "complaint" for v in assess_set(trows, tterms)], truth)
            both = score([v.label == "complaint" for v in assess_set(trows, tterms, learned=model)], truth)
            alone = score([model.complaint_score(r.text) >= 0.5 for r in trows], truth)
            print(
                f"  {source + ' -> ' + target:<26} "
                f"{rules.precision:6.3f} {rules.recall:6.3f} {rules.f1:6.3f}   "
                f"| {both.precision:6.3f} {both.recall:6.3f} {both.f1:6.3f}   | {alone.f1:.3f}",
                flush=True,
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="airline_tweets.csv")
    parser.add_argument("--repeats", type=int, default=3, help="throughput runs per method (best is kept)")
    parser.add_argument(
        "--no-learned", action="store_true", help="skip the leave-one-airline-out learned part"
    )
    parser.add_argument(
        "--cross",
        type=Path,
        default=DEFAULT_CROSS,
        help="second data set for a generalisation check (optional)",
    )
    parser.add_argument(
        "--sets",
        default="",
        help="comma-separated labelled sets to report one by one from --data's folder "
        f"({', '.join(SETS)}, or 'all'); default: none",
    )
    parser.add_argument("--only-sets", action="store_true", help="report --sets only (no speed, no learned)")
    parser.add_argument(
        "--ablation", action="store_true", help="with --sets: each signal switched off in turn"
    )
    parser.add_argument(
        "--transfer",
        action="store_true",
        help="train the learned signal on X-FINCORP (and on the airline set) and score the other sets",
    )
    args = parser.parse_args(argv)
    if args.sets:
        names = list(SETS) if args.sets == "all" else [n.strip() for n in args.sets.split(",") if n.strip()]
        unknown = [n for n in names if n not in SETS]
        if unknown:
            print(
                f"bench/triage.py: unknown set(s) {', '.join(unknown)}; use {', '.join(SETS)}",
                file=sys.stderr,
            )
            return 2
        print("Per labelled set (complaint = the set's negative/complaint label):")
        per_set(args.data.parent, names)
        if args.ablation:
            print("\nAblation: complaint F1 per set with one signal switched off:")
            ablation(args.data.parent, names)
        if args.transfer:
            print("\nLearned signal trained on one set, scored on sets it never saw (nothing saved):")
            transfer(args.data.parent)
        if args.only_sets:
            return 0
    if not args.data.is_file():
        print(
            f"bench/triage.py: data file not found: {args.data}\n"
            "Give the airline tweets CSV with --data PATH (see shared/data/SOURCES.md).",
            file=sys.stderr,
        )
        return 2
    rows, dropped = load(args.data)
    negatives = sum(r.negative for r in rows)
    print(
        f"Triage benchmark: {args.data.name}, {len(rows)} tweets after dedupe by tweet_id "
        f"({dropped} duplicate rows dropped); {negatives} negative ({negatives / len(rows):.1%})\n"
    )
    print("Quality (negative vs the rest):")
    quality(rows)
    print("\nSame rules on another brand (generalisation check, nothing tuned on it):")
    cross_check(args.cross)
    print("\nThroughput (one core):")
    speed(rows, args.repeats)
    if not args.no_learned:
        print(
            "\nLearned signal, leave-one-airline-out (train on 5 airlines, test on the 6th; nothing saved):"
        )
        learned_folds(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
