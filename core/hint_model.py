"""A severity hint learnt from a project's own labels: TF-IDF word and character n-grams with
a linear model, its cross-validated quality beside the keyword hint's, and which to trust.

The keyword scorer (core/severity_hint.py) is the cold start: it counts listed words, so it
misses deliberate misspellings, euphemisms and harm that uses no listed word, and it fires on
"kill a process". Once people have labelled enough items, a model trained on their labels
can do better; whether it does is measured here, on the same items, before it is used.

No streamlit, no SQL: store/hint_models.py feeds it examples and keeps what it returns.
Everything is deterministic (fixed seeds, deterministic solvers), so a test can pin figures.
"""
from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


MODEL_KIND = "tfidf-word1-2+char3-5/ordinal-linear"
SEED = 13
CV_FOLDS = 5
# Features are read from the start of an item's text: a 1 MB transcript costs what 20 KB does.
MAX_TEXT_CHARS = 20_000
# A category gets its own classifier (and a row in the quality table) from this many items.
MIN_CATEGORY_ITEMS = 15
# Past these sizes more labels add little to a linear TF-IDF model and cost minutes: the
# cross-validation runs on a sample of at most MAX_EVAL_ITEMS items and the model is fitted on
# at most MAX_TRAIN_ITEMS, both drawn per severity level in proportion (fixed seed); the
# figures say how many items they were measured on.
MAX_EVAL_ITEMS = 5_000
MAX_TRAIN_ITEMS = 20_000
# Levels whose catch rate is measured and shown: ">= 3" (high: hidden by default) and ">= 2"
# (moderate: blurred by default).
LEVELS = (3, 2)

# Per-project settings and their defaults: core/hint_trust.py (no numpy needed there).


@dataclass(frozen=True)
class Example:
    """One labelled item: its text, the consensus severity and categories."""
    text: str
    severity: int
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class HintPrediction:
    severity: int                       # the most severe level the model gives >= 50%
    confidence: float                   # P(severity >= that level); for 0, P(severity is 0)
    at_least: dict[int, float]          # P(severity >= k) for every level k >= 1 seen in training
    categories: tuple[tuple[str, float], ...] = ()   # (code, probability) >= 0.5, likeliest first

    @property
    def category(self) -> str | None:
        """Every likely category, likeliest first, as one hint ("S12,S4"; see
        core.wellness.hint_category_parts): an opt-out must see all of them, not the top one."""
        return ",".join(code for code, _ in self.categories) or None


def _clip(text: str) -> str:
    return (text or "")[:MAX_TEXT_CHARS]


def _features(seed: int) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    # Words catch phrasing ("how do I get a fake id"); character n-grams inside word
    # boundaries catch misspellings and spacing tricks ("k1ll", "s e x") that words miss.
    return FeatureUnion([
        ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=2,
                                  max_features=200_000, sublinear_tf=True, dtype=np.float32)),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=2,
                                  max_features=200_000, sublinear_tf=True, dtype=np.float32)),
    ])


def _classifier(candidate: str, seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression, SGDClassifier

    if candidate == "logreg":
        # Balanced class weights: severe items are the rare class and the one worth catching.
        return LogisticRegression(C=4.0, max_iter=1000, class_weight="balanced",
                                  random_state=seed)
    if candidate == "sgd":
        return SGDClassifier(loss="log_loss", alpha=2e-5, max_iter=50, tol=None,
                             class_weight="balanced", random_state=seed)
    raise ValueError(f"unknown model candidate {candidate!r}")


CANDIDATES = ("logreg", "sgd")
# Chosen by bench/bench_hints.py on the shipped set (both measured there): logistic
# regression catches as many severe items with fewer false alarms, at a similar cost.
DEFAULT_CANDIDATE = "logreg"


class HintModel:
    """A trained hint model: `predict(texts)`; `to_bytes()` / `from_bytes()` to keep it."""

    def __init__(self, features: Any, at_least: dict[int, Any], always: int,
                 categories: dict[str, Any], candidate: str, trained_on: int) -> None:
        self.features = features
        # Severity is ordinal: one binary classifier per level k for "severity >= k" (levels
        # every training item reaches are certain: `always`). P(>= k) is made non-increasing.
        self.at_least = at_least
        self.always = always
        self.categories = categories
        self.candidate = candidate
        self.trained_on = trained_on
        self.kind = MODEL_KIND

    def predict(self, texts: Sequence[str]) -> list[HintPrediction]:
        if not texts:
            return []
        matrix = self.features.transform([_clip(t) for t in texts])
        columns = {k: model.predict_proba(matrix)[:, 1] for k, model in self.at_least.items()}
        at_least = []
        for n in range(len(texts)):
            levels, previous = {}, 1.0
            for k in range(1, max([self.always, *columns]) + 1):
                p = 1.0 if k <= self.always else float(columns[k][n]) if k in columns else 0.0
                previous = min(previous, p)
                levels[k] = previous
            at_least.append(levels)
        category_probs = {code: model.predict_proba(matrix)[:, 1]
                          for code, model in self.categories.items()}
        out = []
        for n, levels in enumerate(at_least):
            level = max([k for k, p in levels.items() if p >= 0.5], default=0)
            confidence = levels[level] if level else 1.0 - levels.get(1, 0.0)
            cats = sorted(((code, float(p[n])) for code, p in category_probs.items()
                           if p[n] >= 0.5), key=lambda cp: (-cp[1], cp[0]))
            out.append(HintPrediction(level, round(float(confidence), 4),
                                      {k: round(v, 4) for k, v in levels.items()}, tuple(cats)))
        return out

    def to_bytes(self) -> bytes:
        import joblib

        buffer = io.BytesIO()
        joblib.dump(self, buffer, compress=3)
        return buffer.getvalue()

    @staticmethod
    def from_bytes(blob: bytes) -> HintModel:
        """The model kept by `to_bytes`. Only ever load bytes this installation wrote
        (pickle runs code); raises ValueError when they do not load (another scikit-learn)."""
        import joblib

        try:
            model = joblib.load(io.BytesIO(blob))
        except Exception as exc:  # noqa: BLE001 - any unpickling failure means "retrain"
            raise ValueError(f"the stored hint model does not load ({exc})") from None
        if not isinstance(model, HintModel):
            raise ValueError("the stored hint model is not a hint model")
        return model


def sample_indices(severities: Sequence[int], limit: int, seed: int = SEED) -> list[int]:
    """Positions of at most `limit` items, each severity level in proportion, in order."""
    if len(severities) <= limit:
        return list(range(len(severities)))
    rng = np.random.RandomState(seed)
    by_level: dict[int, list[int]] = {}
    for n, severity in enumerate(severities):
        by_level.setdefault(int(severity), []).append(n)
    chosen: list[int] = []
    for level in sorted(by_level):
        members = by_level[level]
        take = max(1, round(limit * len(members) / len(severities)))
        chosen.extend(rng.choice(members, size=min(take, len(members)), replace=False).tolist())
    return sorted(chosen)[:limit]


def sample(examples: Sequence[Example], limit: int, seed: int = SEED) -> list[Example]:
    """At most `limit` examples, each severity level in proportion, in their original order."""
    return [examples[n] for n in sample_indices([e.severity for e in examples], limit, seed)]


def train(examples: Sequence[Example], candidate: str = DEFAULT_CANDIDATE,
          seed: int = SEED) -> HintModel:
    """Fit the features, one "severity >= k" classifier per level and one classifier per
    category with at least MIN_CATEGORY_ITEMS items (and some items without it)."""
    if len(examples) < 2:
        raise ValueError("a hint model needs at least 2 labelled items")
    features = _features(seed)
    matrix = features.fit_transform([_clip(e.text) for e in examples])
    severities = np.array([int(e.severity) for e in examples])
    always = int(severities.min())
    at_least = {}
    for level in range(always + 1, int(severities.max()) + 1):
        at_least[level] = _classifier(candidate, seed).fit(matrix, (severities >= level).astype(int))
    categories = {}
    for code in _frequent_categories(examples):
        target = np.array([code in e.categories for e in examples], dtype=int)
        categories[code] = _classifier(candidate, seed).fit(matrix, target)
    return HintModel(features, at_least, always, categories, candidate, len(examples))


def _frequent_categories(examples: Sequence[Example]) -> list[str]:
    counts: dict[str, int] = {}
    for e in examples:
        for code in set(e.categories):
            counts[code] = counts.get(code, 0) + 1
    # A classifier needs both kinds of example: a few items without the category too.
    return sorted(c for c, n in counts.items()
                  if n >= MIN_CATEGORY_ITEMS and len(examples) - n >= 5)


# -- quality ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rates:
    """How a hint does at one level: of the items labelled at least `level`, how many it
    flagged (recall), and of the others how many it flagged anyway (false alarms)."""
    level: int
    positives: int
    negatives: int
    caught: int
    false_alarms: int

    @property
    def recall(self) -> float | None:
        return self.caught / self.positives if self.positives else None

    @property
    def false_alarm_rate(self) -> float | None:
        return self.false_alarms / self.negatives if self.negatives else None

    @property
    def youden(self) -> float | None:
        """recall - false-alarm rate: 0 for a coin, 1 for a perfect hint."""
        if self.recall is None or self.false_alarm_rate is None:
            return None
        return self.recall - self.false_alarm_rate


@dataclass(frozen=True)
class CategoryQuality:
    """Items labelled with one category: how many of its moderate-or-worse items (severity
    >= 2) each hint flags at >= 2, and whether the model names the category."""
    code: str
    items: int
    model: Rates
    keywords: Rates
    named: int                          # items of the category the model names it for
    named_elsewhere: int                # items without it that the model names it for
    others: int


@dataclass(frozen=True)
class Evaluation:
    items: int
    folds: int
    candidate: str
    model: dict[int, Rates]
    keywords: dict[int, Rates]
    categories: list[CategoryQuality] = field(default_factory=list)

    @property
    def better(self) -> str:
        return better_hint(self)

    def to_dict(self) -> dict[str, Any]:
        def rates(r: Rates) -> dict[str, int]:
            return {"level": r.level, "positives": r.positives, "negatives": r.negatives,
                    "caught": r.caught, "false_alarms": r.false_alarms}
        return {"items": self.items, "folds": self.folds, "candidate": self.candidate,
                "model": [rates(r) for r in self.model.values()],
                "keywords": [rates(r) for r in self.keywords.values()],
                "categories": [{"code": c.code, "items": c.items, "model": rates(c.model),
                                "keywords": rates(c.keywords), "named": c.named,
                                "named_elsewhere": c.named_elsewhere, "others": c.others}
                               for c in self.categories]}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Evaluation:
        def rates(d: dict[str, int]) -> Rates:
            return Rates(int(d["level"]), int(d["positives"]), int(d["negatives"]),
                         int(d["caught"]), int(d["false_alarms"]))
        return Evaluation(
            int(data["items"]), int(data["folds"]), str(data["candidate"]),
            {r.level: r for r in map(rates, data["model"])},
            {r.level: r for r in map(rates, data["keywords"])},
            [CategoryQuality(c["code"], int(c["items"]), rates(c["model"]), rates(c["keywords"]),
                             int(c["named"]), int(c["named_elsewhere"]), int(c["others"]))
             for c in data.get("categories", [])])


def rates_at(level: int, truth: Sequence[int], flagged: Sequence[int]) -> Rates:
    positives = [f for t, f in zip(truth, flagged) if t >= level]
    negatives = [f for t, f in zip(truth, flagged) if t < level]
    return Rates(level, len(positives), len(negatives), sum(f >= level for f in positives),
                 sum(f >= level for f in negatives))


def _folds(severities: np.ndarray, folds: int, seed: int) -> list[np.ndarray]:
    from sklearn.model_selection import KFold, StratifiedKFold

    counts = np.bincount(severities)
    stratify = counts[counts > 0].min() >= folds
    splitter = (StratifiedKFold(folds, shuffle=True, random_state=seed) if stratify
                else KFold(folds, shuffle=True, random_state=seed))
    return [test for _, test in splitter.split(np.zeros(len(severities)), severities)]


def cross_validated(examples: Sequence[Example], folds: int = CV_FOLDS,
                    candidate: str = DEFAULT_CANDIDATE, seed: int = SEED) -> list[HintPrediction]:
    """Each item's prediction by a model trained without it (k-fold)."""
    severities = np.array([int(e.severity) for e in examples])
    predictions: list[HintPrediction | None] = [None] * len(examples)
    for test in _folds(severities, folds, seed):
        held_out = set(test.tolist())
        model = train([e for n, e in enumerate(examples) if n not in held_out], candidate, seed)
        for n, prediction in zip(test, model.predict([examples[n].text for n in test])):
            predictions[n] = prediction
    return predictions  # type: ignore[return-value]


def evaluate(examples: Sequence[Example], keyword_hints: Sequence[int],
             folds: int = CV_FOLDS, candidate: str = DEFAULT_CANDIDATE,
             seed: int = SEED) -> Evaluation:
    """Cross-validated quality of the model and, on the same items, of the keyword hint
    (`keyword_hints[n]` is the keyword scorer's hint for `examples[n]`)."""
    if len(examples) != len(keyword_hints):
        raise ValueError("one keyword hint per example")
    if len(examples) < folds * 2:
        raise ValueError(f"cross-validation needs at least {folds * 2} labelled items")
    predicted = cross_validated(examples, folds, candidate, seed)
    truth = [int(e.severity) for e in examples]
    model_levels = [p.severity for p in predicted]
    categories = []
    for code in _frequent_categories(examples):
        mine = [n for n, e in enumerate(examples) if code in e.categories]
        others = [n for n, e in enumerate(examples) if code not in e.categories]
        named = {n for n, p in enumerate(predicted) if code in dict(p.categories)}
        categories.append(CategoryQuality(
            code, len(mine),
            rates_at(2, [truth[n] for n in mine], [model_levels[n] for n in mine]),
            rates_at(2, [truth[n] for n in mine], [keyword_hints[n] for n in mine]),
            len(named.intersection(mine)), len(named.intersection(others)), len(others)))
    return Evaluation(len(examples), folds, candidate,
                      {k: rates_at(k, truth, model_levels) for k in LEVELS},
                      {k: rates_at(k, truth, list(keyword_hints)) for k in LEVELS},
                      categories)


@dataclass(frozen=True)
class Fitted:
    """What one training produces, in plain data (it crosses a process boundary)."""
    blob: bytes                 # HintModel.to_bytes()
    kind: str
    trained_on: int
    evaluation: Evaluation
    process_id: int = field(default_factory=os.getpid)      # which process fitted it


def fit_and_evaluate(examples: Sequence[Example], keyword_hints: Sequence[int],
                     candidate: str = DEFAULT_CANDIDATE) -> Fitted:
    """Cross-validate on a bounded sample beside the keyword hint, then fit on a bounded
    sample: the whole of one training, as a pure function of the labelled items."""
    measured = sample_indices([e.severity for e in examples], MAX_EVAL_ITEMS)
    evaluation = evaluate([examples[n] for n in measured],
                          [keyword_hints[n] for n in measured], candidate=candidate)
    model = train(sample(examples, MAX_TRAIN_ITEMS), candidate)
    return Fitted(model.to_bytes(), model.kind, model.trained_on, evaluation)


def fit_in_subprocess(examples: Sequence[Example], keyword_hints: Sequence[int],
                      candidate: str = DEFAULT_CANDIDATE) -> Fitted:
    """`fit_and_evaluate` in a fresh Python process (`python -m core.hint_model`, the data
    over a pipe). Tokenising and fitting hold the GIL for tens of seconds; in the app's own
    process every page would answer that much more slowly. Not multiprocessing: its "spawn"
    re-runs the parent's `__main__`, which in a Streamlit process is a page script (that
    opens the database); its "fork" copies a process full of threads."""
    import pickle
    import subprocess
    import sys
    from pathlib import Path

    done = subprocess.run(
        [sys.executable, "-m", "core.hint_model"], cwd=Path(__file__).resolve().parents[1],
        input=pickle.dumps((list(examples), list(keyword_hints), candidate)),
        capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError("fitting the hint model failed: "
                           + done.stderr.decode("utf-8", "replace")[-2000:])
    return pickle.loads(done.stdout)


def better_hint(evaluation: Evaluation) -> str:
    """"model" or "keywords": the one whose recall minus false-alarm rate is higher at
    severity >= 3 (the level that hides text), then at >= 2; keywords on a tie, since they
    need no training and their mistakes are easy to explain."""
    for level in LEVELS:
        model, keywords = evaluation.model[level].youden, evaluation.keywords[level].youden
        if model is None or keywords is None:
            continue
        if abs(model - keywords) > 1e-9:
            return "model" if model > keywords else "keywords"
    return "keywords"


# -- in words ----------------------------------------------------------------------------------

def _share(part: int, whole: int) -> str:
    return f"{part} of {whole} ({part / whole:.0%})" if whole else "no items"


def quality_rows(evaluation: Evaluation) -> list[dict[str, str]]:
    """The evaluation as a table for people: one row per level, then per category."""
    rows = []
    for level in LEVELS:
        model, keywords = evaluation.model[level], evaluation.keywords[level]
        rows.append({"items": f"labelled severity >= {level}",
                     "model catches": _share(model.caught, model.positives),
                     "keyword hint catches": _share(keywords.caught, keywords.positives),
                     "model false alarms": _share(model.false_alarms, model.negatives),
                     "keyword false alarms": _share(keywords.false_alarms, keywords.negatives),
                     "model names the category": ""})
    for c in evaluation.categories:
        rows.append({"items": f"category {c.code}, severity >= 2",
                     "model catches": _share(c.model.caught, c.model.positives),
                     "keyword hint catches": _share(c.keywords.caught, c.keywords.positives),
                     "model false alarms": _share(c.model.false_alarms, c.model.negatives),
                     "keyword false alarms": _share(c.keywords.false_alarms, c.keywords.negatives),
                     "model names the category": (f"{_share(c.named, c.items)}; for "
                                                  f"{c.named_elsewhere} of {c.others} others")})
    return rows


def quality_summary(evaluation: Evaluation) -> str:
    """One paragraph: what each hint catches at >= 3 and >= 2, and which is better."""
    parts = []
    for level in LEVELS:
        model, keywords = evaluation.model[level], evaluation.keywords[level]
        if not model.positives:
            parts.append(f"No labelled item has severity >= {level}.")
            continue
        parts.append(
            f"Of the {model.positives} items labelled severity >= {level}, the model flags "
            f"{_share(model.caught, model.positives)} and the keyword hint "
            f"{_share(keywords.caught, keywords.positives)}; of the {model.negatives} others, "
            f"the model flags {model.false_alarms} by mistake and the keyword hint "
            f"{keywords.false_alarms}.")
    which = ("The model measured better." if evaluation.better == "model"
             else "The keyword hint measured at least as good.")
    return (f"Measured by {evaluation.folds}-fold cross-validation on {evaluation.items} "
            f"labelled items (each item hinted by a model that never saw its label). "
            + " ".join(parts) + " " + which)


if __name__ == "__main__":
    # The worker side of fit_in_subprocess. The objects must be core.hint_model's (not this
    # __main__ copy's) for the parent to read them back.
    import pickle
    import sys

    from core import hint_model

    _examples, _hints, _candidate = pickle.loads(sys.stdin.buffer.read())
    sys.stdout.buffer.write(pickle.dumps(hint_model.fit_and_evaluate(_examples, _hints,
                                                                     _candidate)))
