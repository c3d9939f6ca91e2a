"""A bootstrap interval from one sample: every resample is that value, so the interval
is [v, v], printed as if the median were known exactly ("40.0 [40.0, 40.0]").  With
--min-claim-samples 1 the summary gave such intervals, and the claim tested one early
episode against 20 standard ones (exact p 1 / C(21, 1) = 0.048 < 0.05) with a ratio
interval that carried none of the early side's spread."""

from __future__ import annotations

import math

import pandas as pd

from ebutool.analysis import claim_statement, summarize
from ebutool.analysis.claim_stats import ClaimSettings, verdict_possible

ONE = ClaimSettings(min_samples=1)


def _row(s: pd.DataFrame, kind: str) -> pd.Series:
    sel = s[(s["kind"] == kind) & (s["mode"] == "conservative") & (s["quantity"] == "send_latency")]
    assert len(sel) == 1
    return sel.iloc[0]


def _table(n_early: int, n_standard: int) -> pd.DataFrame:
    rows = [
        {"kind": "early", "mode": "conservative", "send_latency_ms": 10.0 + i}
        for i in range(n_early)
    ]
    rows += [
        {"kind": "standard", "mode": "conservative", "send_latency_ms": 100.0 + i}
        for i in range(n_standard)
    ]
    return pd.DataFrame(rows)


def test_one_sample_has_a_median_but_no_interval():
    s = summarize(_table(1, 2), settings=ONE)
    early = _row(s, "early")
    assert early["n"] == 1 and early["median_ms"] == 10.0
    assert math.isnan(early["median_ci_low_ms"]) and math.isnan(early["median_ci_high_ms"])
    standard = _row(s, "standard")  # two values: the resampled medians 100, 100.5, 101
    assert (standard["median_ci_low_ms"], standard["median_ci_high_ms"]) == (100.0, 101.0)


def test_one_early_episode_gets_no_verdict():
    assert not verdict_possible(1, 20, ONE)  # 1/21 < 0.05, but no interval from one
    assert verdict_possible(2, 20, ONE)  # 1 / C(22, 2) = 1/231
    s = summarize(_table(1, 20), settings=ONE)
    early = _row(s, "early")
    assert early["claim"] == "too few samples" and pd.isna(early["p_value"])
    text = claim_statement(s, settings=ONE)
    assert "need 2 per side for a bootstrap interval" in text
    assert "is supported" not in text
