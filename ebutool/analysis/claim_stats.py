"""The statistics behind the draft's claim (``analyze --summary``, issue 11 "The claim").

For one comparison (one mode, one observed latency: early episodes against standard
ones) :func:`compare_samples` gives

* a 95% percentile-bootstrap interval of median(early) / median(standard) and of
  median(standard) - median(early): each side resampled on its own with replacement,
  :data:`BOOTSTRAP_RESAMPLES` times, from a generator seeded with :data:`BOOTSTRAP_SEED`
  (a fresh generator per comparison, so the same input gives the same numbers whatever
  else the table holds), each side sorted first, so the numbers do not depend on the
  order of the rows either (:func:`bootstrap_medians`, also the summary's intervals);
* the one-sided Mann-Whitney U p-value of "early < standard" (scipy, exact for small
  samples without ties, the normal approximation otherwise);

:func:`holm` adjusts the p-values of the comparisons reported together (Holm 1979).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ebutool.core.constants import (  # declared with the protocol constants
    ALPHA,
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    CONFIDENCE,
    MIN_CLAIM_SAMPLES,
    RTT_TOLERANCE,
)

_CHUNK_CELLS = 2_000_000  # resamples x sample size drawn at once (bounds memory)


@dataclass(frozen=True)
class ClaimSettings:
    """How the claim is tested (each field has an ``analyze`` option)."""

    min_samples: int = MIN_CLAIM_SAMPLES
    tolerance: float = RTT_TOLERANCE
    resamples: int = BOOTSTRAP_RESAMPLES
    seed: int = BOOTSTRAP_SEED
    alpha: float = ALPHA
    confidence: float = CONFIDENCE


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


def mann_whitney_less(early: np.ndarray, standard: np.ndarray) -> float:
    """One-sided p-value of the Mann-Whitney U test that early tends to be smaller."""
    from scipy.stats import mannwhitneyu

    return float(mannwhitneyu(early, standard, alternative="less").pvalue)


def attainable_p(n_early: int, n_standard: int) -> float:
    """The smallest p :func:`mann_whitney_less` can give for these sample sizes: that of
    every early sample below every standard one (computed by the same test, so exact where
    it is exact)."""
    return mann_whitney_less(np.arange(n_early), np.arange(n_early, n_early + n_standard))


def verdict_possible(n_early: int, n_standard: int, settings: ClaimSettings) -> bool:
    """Whether the sides are large enough for a verdict: ``settings.min_samples`` each,
    and the test able to reach ``settings.alpha`` (3 and 3 cannot: p >= 1/20).  Holm's
    adjustment over the table's comparisons can only raise p further."""
    if min(n_early, n_standard) < settings.min_samples:
        return False
    return attainable_p(n_early, n_standard) < settings.alpha


def too_few_reason(n_early: int, n_standard: int, settings: ClaimSettings) -> str:
    """Why a comparison of these sizes has no verdict (for :func:`verdict_possible` False)."""
    if min(n_early, n_standard) < settings.min_samples:
        return f"too few samples (need {settings.min_samples} per side)"
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
        p_value=mann_whitney_less(e, s),
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
