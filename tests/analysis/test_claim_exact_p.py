"""The claim's Mann-Whitney p with tied latencies (a simulator's fixed delays give many):
exact, against an enumeration by hand of every split of the pooled values, where scipy
took its normal approximation (3 at 10 ms against 4 at 100 ms: 0.0124, below the 1/35
that no split of 3 and 4 can beat), and the normal approximation still for large samples."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import mannwhitneyu

from ebutool.analysis import claim_statement, summarize
from ebutool.analysis.claim_stats import compare_samples, mann_whitney_less


def u_early(early: list[float], standard: list[float]) -> float:
    """Mann-Whitney U of the early side: pairs where early is larger, ties half."""
    return sum((e > s) + 0.5 * (e == s) for e in early for s in standard)


def p_by_hand(early: list[float], standard: list[float]) -> float:
    """P(U <= the observed U) over every equally likely choice of which pooled values
    are early (positions, so equal values are distinct draws), U with ties as halves."""
    pooled = early + standard
    observed = u_early(early, standard)
    at_most = total = 0
    for chosen in itertools.combinations(range(len(pooled)), len(early)):
        rest = [v for i, v in enumerate(pooled) if i not in chosen]
        total += 1
        at_most += u_early([pooled[i] for i in chosen], rest) <= observed
    return at_most / total


def test_ties_across_the_groups_only():
    # 3 tied early values wholly below 4 tied standard ones: 1 split of C(7, 3) = 35
    early, standard = [10.0] * 3, [100.0] * 4
    assert p_by_hand(early, standard) == pytest.approx(1 / 35)
    p, method = mann_whitney_less(np.array(early), np.array(standard))
    assert (p, method) == (pytest.approx(1 / 35), "exact")
    # what was printed: scipy's choice, the normal approximation, below every exact p
    assert mannwhitneyu(early, standard, alternative="less").pvalue == pytest.approx(0.0124, 1e-2)


def test_ties_inside_and_across_the_groups():
    # early 10, 10, 20 against 20, 100, 100, 100: U = 0.5 (the 20s tie); U <= 0.5 only
    # for early {10, 10, one of the two 20s}: 2 of 35
    early, standard = [10.0, 10.0, 20.0], [20.0, 100.0, 100.0, 100.0]
    assert p_by_hand(early, standard) == pytest.approx(2 / 35)
    assert mann_whitney_less(np.array(early), np.array(standard)) == (
        pytest.approx(2 / 35),
        "exact",
    )
    # 1, 2, 2 against 2, 3, 4, 4: U = 1 for early {1, two of the three 2s}: 3 of 35
    assert p_by_hand([1.0, 2.0, 2.0], [2.0, 3.0, 4.0, 4.0]) == pytest.approx(3 / 35)
    p, _ = mann_whitney_less(np.array([1.0, 2.0, 2.0]), np.array([2.0, 3.0, 4.0, 4.0]))
    assert p == pytest.approx(3 / 35)


def test_the_larger_side_early_and_random_tied_samples_match_the_enumeration():
    rng = np.random.default_rng(6275)
    cases = [([10.0, 20.0, 20.0, 30.0, 30.0, 40.0], [20.0, 40.0, 40.0])]
    for _ in range(40):
        ne, ns = (int(v) for v in rng.integers(1, 7, size=2))
        cases.append(
            (
                [float(v) for v in rng.integers(0, 4, size=ne)],
                [float(v) for v in rng.integers(1, 5, size=ns)],
            )
        )
    for early, standard in cases:
        p, method = mann_whitney_less(np.array(early), np.array(standard))
        assert method == "exact"
        assert p == pytest.approx(p_by_hand(early, standard), rel=1e-12), (early, standard)


def test_a_verdict_follows_the_exact_p():
    # one comparison, no Holm: the normal approximation gave p 0.031 and "supported"
    # (the ratio's interval reaches 0.5 exactly); the exact p is 2/35 = 0.057
    early_ms, standard_ms = [10.0, 10.0, 20.0], [20.0, 100.0, 100.0, 100.0]
    rows = [
        {"kind": kind, "mode": "conservative", "send_latency_ms": v}
        for kind, values in (("early", early_ms), ("standard", standard_ms))
        for v in values
    ]
    s = summarize(pd.DataFrame(rows))
    early = s[(s["kind"] == "early") & (s["quantity"] == "send_latency")].iloc[0]
    assert mannwhitneyu(early_ms, standard_ms, alternative="less").pvalue < 0.05
    assert early["ratio_ci_high"] <= 0.5
    assert early["p_value"] == pytest.approx(2 / 35) and early["p_method"] == "exact"
    assert early["claim"] == "not supported"
    assert "Mann-Whitney p 0.0571 (exact; Holm 0.0571)" in claim_statement(s)


def test_large_samples_keep_the_normal_approximation():
    # 300 and 300 with ties: far beyond the exact computation's bound
    rng = np.random.default_rng(2004)
    early = rng.integers(0, 40, size=300).astype(float)
    standard = rng.integers(5, 45, size=300).astype(float)
    p, method = mann_whitney_less(early, standard)
    assert method == "asymptotic"
    expected = mannwhitneyu(early, standard, alternative="less", method="asymptotic").pvalue
    assert p == pytest.approx(expected)
    # without ties and 8 on a side, scipy's exact distribution: one split of C(3008, 8)
    p, method = mann_whitney_less(np.arange(8.0), np.arange(8.0, 3008.0))
    assert method == "exact" and p == pytest.approx(1 / math.comb(3008, 8))


def test_the_bound_of_the_exact_computation():
    # documented: about 49 and 49 without ties are exact, 50 and 50 are not
    p, method = mann_whitney_less(np.arange(49.0), np.arange(49.0, 98.0))
    assert method == "exact" and p == pytest.approx(1 / math.comb(98, 49))
    assert mann_whitney_less(np.arange(50.0), np.arange(50.0, 100.0))[1] == "asymptotic"


def test_all_values_equal():
    # one split's U is every split's: p 1, intervals of zero width, no division by zero
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = compare_samples([50.0] * 5, [50.0] * 5)
        assert (c.p_value, c.p_method) == (1.0, "exact")
        assert (c.ratio, c.ratio_low, c.ratio_high) == (1.0, 1.0, 1.0)
        assert (c.diff_ms, c.diff_low_ms, c.diff_high_ms) == (0.0, 0.0, 0.0)
        zero = compare_samples([0.0] * 5, [0.0] * 5)  # a standard median of 0: no ratio
        assert zero.p_value == 1.0 and zero.ratio is None and zero.diff_high_ms == 0.0
        rows = [
            {"kind": kind, "mode": "conservative", "send_latency_ms": 50.0, "rtt_ro_ms": 20.0}
            for kind in ("early", "standard")
            for _ in range(5)
        ]
        s = summarize(pd.DataFrame(rows))
    early = s[(s["kind"] == "early") & (s["quantity"] == "send_latency")].iloc[0]
    assert early["n"] == 5 and early["p_value"] == 1.0 and early["p_holm"] == 1.0
    assert early["median_ci_low_ms"] == early["median_ci_high_ms"] == 50.0
    assert early["claim"] == early["claim_rtt_sooner"] == "not supported"


def test_a_p_value_is_never_above_one():
    # early above every standard value: every split has U <= the observed one, and the
    # sum over them, added in another order than the total, came out as 1.0000000000000007
    rng = np.random.default_rng(0)
    for _ in range(300):
        ne, ns = (int(v) for v in rng.integers(1, 40, size=2))
        early = rng.integers(50, 60, size=ne).astype(float)
        standard = rng.integers(0, 52, size=ns).astype(float)
        p, method = mann_whitney_less(early, standard)
        assert method == "exact" and 0.0 < p <= 1.0
