"""The statistics behind the draft's claim (``analyze --summary``, issue 11 "The claim").

For one comparison (one mode, one observed latency: early episodes against standard
ones) :func:`compare_samples` gives

* a 95% percentile-bootstrap interval of median(early) / median(standard) and of
  median(standard) - median(early): each side resampled on its own with replacement,
  :data:`BOOTSTRAP_RESAMPLES` times, from a generator seeded with :data:`BOOTSTRAP_SEED`
  (a fresh generator per comparison, so the same input gives the same numbers whatever
  else the table holds), each side sorted first, so the numbers do not depend on the
  order of the rows either (:func:`bootstrap_medians`, also the summary's intervals);
* the one-sided Mann-Whitney U p-value of "early < standard" and how it was computed
  (:func:`mann_whitney_less`): exact, ties or not, while the computation is small enough
  (:func:`exact_mann_whitney_less`, :data:`EXACT_P_MAX_WORK`), else scipy's exact
  distribution (no ties, a side of at most 8) or its normal approximation;

:func:`holm` adjusts the p-values of the comparisons reported together (Holm 1979).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ebutool.core.constants import (  # declared with the protocol constants
    ALPHA,
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    CONFIDENCE,
    EXACT_P_MAX_WORK,
    MIN_CLAIM_SAMPLES,
    RTT_TOLERANCE,
)

_CHUNK_CELLS = 2_000_000  # resamples x sample size drawn at once (bounds memory)
_SCIPY_EXACT_MAX_SIDE = 8  # scipy's own rule for its exact (tie-free) distribution
P_EXACT, P_ASYMPTOTIC = "exact", "asymptotic"  # the column p_method
# A bootstrap interval needs two values: every resample of one is that value, an
# interval [v, v] that says nothing of the spread (a statistical fact, not a setting)
MIN_INTERVAL_SAMPLES = 2


@dataclass(frozen=True)
class ClaimSettings:
    """How the claim is tested (each field has an ``analyze`` option)."""

    min_samples: int = MIN_CLAIM_SAMPLES
    tolerance: float = RTT_TOLERANCE
    resamples: int = BOOTSTRAP_RESAMPLES
    seed: int = BOOTSTRAP_SEED
    alpha: float = ALPHA
    confidence: float = CONFIDENCE

    @property
    def interval_samples(self) -> int:
        """The fewest samples a bootstrap interval (and so a verdict) is made from:
        ``min_samples``, and never fewer than :data:`MIN_INTERVAL_SAMPLES`."""
        return max(self.min_samples, MIN_INTERVAL_SAMPLES)


DEFAULT_SETTINGS = ClaimSettings()


@dataclass(frozen=True)
class Comparison:
    """Early against standard for one mode and latency (all in ms, ratios plain)."""

    n_early: int
    n_standard: int
    ratio: float | None  # median(early) / median(standard)
    ratio_low: float | None
    ratio_high: float | None
    diff_ms: float  # median(standard) - median(early)
    diff_low_ms: float
    diff_high_ms: float
    p_value: float  # one-sided Mann-Whitney U, early < standard (not adjusted)
    p_method: str  # P_EXACT or P_ASYMPTOTIC


def bootstrap_medians(sample: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """``resamples`` medians of ``sample`` resampled with replacement (drawn in chunks).
    The sample is sorted first: the generator draws positions, so without it the same
    values in another order (the rows of the input files given in another order) would
    give other medians and another interval."""
    sample = np.sort(np.asarray(sample, dtype=float))
    n = len(sample)
    out = np.empty(resamples, dtype=float)
    step = max(1, _CHUNK_CELLS // max(n, 1))
    for start in range(0, resamples, step):
        stop = min(resamples, start + step)
        idx = rng.integers(0, n, size=(stop - start, n))
        out[start:stop] = np.median(sample[idx], axis=1)
    return out


def percentile_interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    """The central ``confidence`` interval of ``values`` (linear interpolation)."""
    tail = 100.0 * (1.0 - confidence) / 2.0
    low, high = np.percentile(values, [tail, 100.0 - tail])
    return float(low), float(high)


def _exact_work(k: int, n: int, group_sizes: np.ndarray) -> int:
    """The cell updates :func:`exact_mann_whitney_less` needs (k the smaller side)."""
    cells = (k + 1) * (2 * k * n + 1)
    return cells * int(np.minimum(group_sizes, k).sum() + len(group_sizes))


def exact_mann_whitney_less(early: np.ndarray, standard: np.ndarray) -> float:
    """P(U <= the observed U) over every equally likely split of the pooled values into
    the two sides, equal values kept as they are (midranks): the exact one-sided p
    conditional on the ties, which scipy's "exact" method (tie-free distribution) and
    its normal approximation are not.  Counted group of equal values by group: the
    number of ways to take ``a`` of a group's ``t`` values is C(t, a), each adding
    ``a`` x its midrank to the rank sum; the table holds, per count taken so far, the
    ways to reach each doubled rank sum (integers: a midrank is a whole or half number).
    Sums of positive terms only, so no cancellation in floating point."""
    pooled = np.concatenate([early, standard])
    values, sizes = np.unique(pooled, return_counts=True)
    n = len(pooled)
    twice_rank = 2 * (np.cumsum(sizes) - sizes) + sizes + 1  # 2 x each group's midrank
    observed = int(twice_rank[np.searchsorted(values, early)].sum())
    k = min(len(early), len(standard))
    if k < len(early):  # count the standard side's sums: R_early <= r iff R_std >= total - r
        observed = n * (n + 1) - observed
    width = 2 * k * n + 1
    ways = np.zeros((k + 1, width))
    ways[0, 0] = 1.0
    for t, r2 in zip(sizes.tolist(), twice_rank.tolist(), strict=True):
        grown = ways.copy()
        for a in range(1, min(t, k) + 1):
            grown[a:, a * r2 :] += math.comb(t, a) * ways[: k + 1 - a, : width - a * r2]
        ways = grown
    sums = ways[k]
    tail = sums[observed:] if k < len(early) else sums[: observed + 1]
    # (the two sums add in other orders: all of the splits may come out a few ulp above 1)
    return min(1.0, float(tail.sum() / sums.sum()))


def mann_whitney_less(early: np.ndarray, standard: np.ndarray) -> tuple[float, str]:
    """One-sided p-value of the Mann-Whitney U test that early tends to be smaller, and
    its method (:data:`P_EXACT` or :data:`P_ASYMPTOTIC`).  Exact by
    :func:`exact_mann_whitney_less` while its work is at most :data:`EXACT_P_MAX_WORK`;
    beyond, scipy's exact distribution when there are no ties and a side has at most 8
    (scipy's "auto" rule), else the normal approximation with scipy's tie correction.
    scipy's own choice is not used: with ties it takes the normal approximation at any
    size (3 at 10 ms against 4 at 100 ms: p 0.0124, where no split of 3 and 4 gives less
    than 1/35 = 0.0286), and its "exact" method ignores ties."""
    from scipy.stats import mannwhitneyu

    e, s = np.asarray(early, dtype=float), np.asarray(standard, dtype=float)
    _, sizes = np.unique(np.concatenate([e, s]), return_counts=True)
    if _exact_work(min(len(e), len(s)), len(e) + len(s), sizes) <= EXACT_P_MAX_WORK:
        return exact_mann_whitney_less(e, s), P_EXACT
    if len(sizes) == len(e) + len(s) and min(len(e), len(s)) <= _SCIPY_EXACT_MAX_SIDE:
        return float(mannwhitneyu(e, s, alternative="less", method="exact").pvalue), P_EXACT
    p = mannwhitneyu(e, s, alternative="less", method="asymptotic").pvalue
    return float(p), P_ASYMPTOTIC


@lru_cache(maxsize=64)
def attainable_p(n_early: int, n_standard: int) -> float:
    """The smallest p :func:`mann_whitney_less` can give for these sample sizes: that of
    every early sample below every standard one, no ties (computed by the same test, so
    1 / C(n_early + n_standard, n_early) where it is exact; with ties an exact p is never
    below it: the observed split is one of the C(n_early + n_standard, n_early))."""
    low, high = np.arange(n_early), np.arange(n_early, n_early + n_standard)
    return mann_whitney_less(low, high)[0]


def verdict_possible(n_early: int, n_standard: int, settings: ClaimSettings) -> bool:
    """Whether the sides are large enough for a verdict: ``settings.min_samples`` each
    (and at least :data:`MIN_INTERVAL_SAMPLES`, for the intervals),
    and the test able to reach ``settings.alpha`` (3 and 3 cannot: p >= 1/20).  Holm's
    adjustment over the table's comparisons can only raise p further."""
    if min(n_early, n_standard) < settings.interval_samples:
        return False
    return attainable_p(n_early, n_standard) < settings.alpha


def too_few_reason(n_early: int, n_standard: int, settings: ClaimSettings) -> str:
    """Why a comparison of these sizes has no verdict (for :func:`verdict_possible` False)."""
    if min(n_early, n_standard) < settings.min_samples:
        return f"too few samples (need {settings.min_samples} per side)"
    if min(n_early, n_standard) < settings.interval_samples:
        return (
            f"too few samples (need {MIN_INTERVAL_SAMPLES} per side for a bootstrap interval: "
            f"one sample's resamples are all that value)"
        )
    return (
        f"too few samples (with {n_early} and {n_standard} the exact one-sided Mann-Whitney p "
        f"is at least {attainable_p(n_early, n_standard):.3g}, never below alpha "
        f"{settings.alpha:g})"
    )


def compare_samples(
    early: Sequence[float] | np.ndarray,
    standard: Sequence[float] | np.ndarray,
    settings: ClaimSettings = DEFAULT_SETTINGS,
) -> Comparison:
    """The bootstrap intervals and the test for one comparison (both sides non-empty)."""
    e = np.asarray(early, dtype=float)
    s = np.asarray(standard, dtype=float)
    if not len(e) or not len(s):
        raise ValueError("compare_samples needs samples on both sides")
    p_value, p_method = mann_whitney_less(e, s)
    rng = np.random.default_rng(settings.seed)
    boot_e = bootstrap_medians(e, settings.resamples, rng)
    boot_s = bootstrap_medians(s, settings.resamples, rng)
    med_e, med_s = float(np.median(e)), float(np.median(s))
    diff_low, diff_high = percentile_interval(boot_s - boot_e, settings.confidence)
    ratio = ratio_low = ratio_high = None
    if med_s > 0 and bool(np.all(boot_s > 0)):
        ratio = med_e / med_s
        ratio_low, ratio_high = percentile_interval(boot_e / boot_s, settings.confidence)
    return Comparison(
        n_early=len(e),
        n_standard=len(s),
        ratio=ratio,
        ratio_low=ratio_low,
        ratio_high=ratio_high,
        diff_ms=med_s - med_e,
        diff_low_ms=diff_low,
        diff_high_ms=diff_high,
        p_value=p_value,
        p_method=p_method,
    )


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment, in the input's order: the i-th smallest p times
    (m - i + 1), made non-decreasing, at most 1."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted
