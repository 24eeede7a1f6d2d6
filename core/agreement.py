"""Inter-annotator agreement over plain data (issue 11): no Streamlit, no SQL.

Input everywhere is a reliability matrix of units (items) × raters (annotators): one row per
unit, one column per rater, `None` where that rater did not rate that unit. Values are
hashable answers ("safe", "a", True) for nominal questions and numbers for ordinal and
interval ones (severity, the -3..+3 scales).

Every measure returns its value together with what it rests on (how many units and how many
pairable values), and `None` with a reason instead of a number when the data cannot support
one (no unit rated twice, a single answer throughout): agreement is undefined there, and a
crash or a division by zero would hide why.

The statistics come from published implementations: `krippendorff` (alpha), scikit-learn
(Cohen's kappa), statsmodels (Fleiss' kappa). scikit-learn and statsmodels load slowly, so
they are imported by the function that needs them, never at module import.
"""
from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

Level = Literal["nominal", "ordinal", "interval"]
LEVELS: tuple[str, ...] = ("nominal", "ordinal", "interval")
Ratings = Sequence[Sequence[Hashable | None]]

# Reasons are sentences for a person reading the CLI table or a dashboard.
NO_PAIRS = "no item was rated by two or more annotators"
ONE_VALUE = "every rating is the same answer, so agreement beyond chance is undefined"


@dataclass(frozen=True)
class Agreement:
    """A coefficient and what it rests on; `value` is None exactly when `reason` says why."""
    value: float | None
    units: int          # units rated by at least two raters (the only ones that count)
    pairable: int       # ratings in those units
    reason: str | None = None


@dataclass(frozen=True)
class Interval:
    """A percentile bootstrap confidence interval over units."""
    low: float | None
    high: float | None
    confidence: float
    resamples: int      # resamples asked for
    used: int           # resamples where the coefficient was defined
    reason: str | None = None


@dataclass(frozen=True)
class _Coded:
    counts: np.ndarray          # pairable units × values: how many raters gave each value
    domain: list                # the values, in column order (sorted for ordinal/interval)
    pairable: int


def _rows(ratings: Ratings) -> list[list[Hashable]]:
    """Each unit's given ratings, units rated fewer than twice left out."""
    given = ([v for v in row if v is not None] for row in ratings)
    return [row for row in given if len(row) >= 2]


def _check_level(level: str) -> None:
    if level not in LEVELS:
        raise ValueError(f"level of measurement must be one of {', '.join(LEVELS)}, not {level!r}")


def _domain(rows: list[list[Hashable]], level: str) -> list:
    values = {v for row in rows for v in row}
    if level == "nominal":
        # Any stable order will do for nominal data; repr makes mixed types comparable.
        return sorted(values, key=repr)
    # In the order given (a set's order changes from run to run), so the message is stable.
    bad = [v for row in rows for v in row
           if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)))]
    if bad:
        raise ValueError(f"{level} data must be numbers; got {bad[0]!r}")
    return sorted(values)


def _code(ratings: Ratings, level: str) -> _Coded:
    _check_level(level)
    rows = _rows(ratings)
    domain = _domain(rows, level)
    index = {v: i for i, v in enumerate(domain)}
    counts = np.zeros((len(rows), len(domain)), dtype=float)
    for u, row in enumerate(rows):
        for v in row:
            counts[u, index[v]] += 1
    return _Coded(counts, domain, sum(len(r) for r in rows))


def _alpha_of_counts(counts: np.ndarray, domain: list, level: str) -> float | None:
    """Alpha of a units × values count table; None when fewer than two values occur (the
    expected disagreement is then zero and alpha is 0/0)."""
    import krippendorff

    if np.count_nonzero(counts.sum(axis=0)) < 2:
        return None
    # Nominal values are categories: their numeric stand-ins (column numbers) carry no order.
    values = list(range(len(domain))) if level == "nominal" else domain
    return float(krippendorff.alpha(value_counts=counts, value_domain=values,
                                    level_of_measurement=level))


def krippendorff_alpha(ratings: Ratings, level: Level = "nominal") -> Agreement:
    """Krippendorff's alpha at the given level of measurement, over any number of raters and
    with missing ratings allowed."""
    coded = _code(ratings, level)
    units = coded.counts.shape[0]
    if units == 0:
        return Agreement(None, 0, 0, NO_PAIRS)
    value = _alpha_of_counts(coded.counts, coded.domain, level)
    if value is None:
        return Agreement(None, units, coded.pairable, ONE_VALUE)
    return Agreement(value, units, coded.pairable)


def alpha_interval(ratings: Ratings, level: Level = "nominal", resamples: int = 1000,
                   confidence: float = 0.95, seed: int = 0) -> Interval:
    """Percentile bootstrap interval for alpha: units are resampled with replacement (the
    unit, not the single rating, is what was sampled from the population of items). Seeded,
    so the same data always gives the same interval. Resamples in which alpha is undefined
    (one answer only) are left out and counted in `used`."""
    if resamples < 1 or not 0 < confidence < 1:
        raise ValueError("resamples must be at least 1 and confidence between 0 and 1")
    coded = _code(ratings, level)
    units = coded.counts.shape[0]
    if units == 0:
        return Interval(None, None, confidence, resamples, 0, NO_PAIRS)
    rng = np.random.default_rng(seed)
    estimates = []
    for _ in range(resamples):
        sample = coded.counts[rng.integers(0, units, units)]
        value = _alpha_of_counts(sample, coded.domain, level)
        if value is not None:
            estimates.append(value)
    if not estimates:
        return Interval(None, None, confidence, resamples, 0, ONE_VALUE)
    low, high = np.quantile(estimates, [(1 - confidence) / 2, (1 + confidence) / 2])
    return Interval(float(low), float(high), confidence, resamples, len(estimates))


def cohen_kappa(ratings: Ratings, weights: Literal["linear", "quadratic"] | None = None) -> Agreement:
    """Cohen's kappa between exactly two raters (the matrix's two columns), over the units both
    rated. `weights` gives partial credit to near misses on an ordinal scale."""
    from sklearn.metrics import cohen_kappa_score

    if any(len(row) != 2 for row in ratings):
        raise ValueError("Cohen's kappa compares exactly two raters: every row needs two columns")
    pairs = [(a, b) for a, b in ratings if a is not None and b is not None]
    if not pairs:
        return Agreement(None, 0, 0, NO_PAIRS)
    first, second = zip(*pairs)
    values = set(first) | set(second)
    if len(values) < 2:
        return Agreement(None, len(pairs), 2 * len(pairs), ONE_VALUE)
    # Codes, so answers of any hashable type (True/False, "a"/"tie") compare; for weighted
    # kappa the codes follow the sorted numeric scale, so distances keep their order.
    domain = sorted(values, key=repr) if weights is None else sorted(values)
    code = {v: i for i, v in enumerate(domain)}
    value = cohen_kappa_score([code[v] for v in first], [code[v] for v in second],
                              labels=list(range(len(domain))), weights=weights)
    return Agreement(float(value), len(pairs), 2 * len(pairs))


def fleiss_kappa(ratings: Ratings) -> Agreement:
    """Fleiss' kappa: any number of raters, but every counted unit must have the same number
    of ratings (raters need not be the same people). Units rated fewer than twice are left
    out; if the rest differ in how many ratings they have, Fleiss' kappa does not apply."""
    from statsmodels.stats.inter_rater import aggregate_raters
    from statsmodels.stats.inter_rater import fleiss_kappa as _fleiss

    rows = _rows(ratings)
    if not rows:
        return Agreement(None, 0, 0, NO_PAIRS)
    pairable = sum(len(r) for r in rows)
    sizes = {len(r) for r in rows}
    if len(sizes) > 1:
        return Agreement(None, len(rows), pairable,
                         f"items have different numbers of ratings ({min(sizes)} to "
                         f"{max(sizes)}); Fleiss' kappa needs the same number for every item")
    domain = _domain(rows, "nominal")
    if len(domain) < 2:
        return Agreement(None, len(rows), pairable, ONE_VALUE)
    code = {v: i for i, v in enumerate(domain)}
    table, _ = aggregate_raters(np.array([[code[v] for v in row] for row in rows]),
                                n_cat=len(domain))
    return Agreement(float(_fleiss(table, method="fleiss")), len(rows), pairable)
