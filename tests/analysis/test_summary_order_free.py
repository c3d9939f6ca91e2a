"""The bootstrap intervals do not depend on the order of the samples: the same episodes
in another row order (``analyze B A --summary`` against ``analyze A B --summary``) give
the same intervals, in the summary (median_ci_*) and in the claim (ratio_ci_*,
diff_ci_*).  The resampling draws positions, so each sample is sorted before it is
resampled (ebutool.analysis.claim_stats.bootstrap_medians)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from ebutool.analysis import summarize
from ebutool.analysis.claim_stats import ClaimSettings, compare_samples

FEW_RESAMPLES = 200  # enough to tell two orders apart, quick to draw
FAST = ClaimSettings(min_samples=3, resamples=FEW_RESAMPLES)
EARLY = [41.0, 35.0, 52.0, 47.0, 39.0, 60.0, 44.0, 38.0, 55.0]  # ms
STANDARD = [101.0, 95.0, 120.0, 88.0, 110.0, 99.0, 131.0, 93.0, 58.0, 105.0]  # ms
INTERVALS = [
    "median_ci_low_ms",
    "median_ci_high_ms",
    "ratio_ci_low",
    "ratio_ci_high",
    "diff_ci_low_ms",
    "diff_ci_high_ms",
]


def _episodes() -> pd.DataFrame:
    """Conservative early and standard episodes of the MN's view, all counted."""
    rows = [("early", v) for v in EARLY] + [("standard", v) for v in STANDARD]
    return pd.DataFrame(
        {
            "kind": [k for k, _ in rows],
            "mode": "conservative",
            "vantage": "mn",
            "quality": "ok",
            "complete": True,
            "send_latency_ms": [v for _, v in rows],
            "recv_latency_ms": [v / 2 for _, v in rows],
        }
    )


@settings(max_examples=25, deadline=None)
@given(st.permutations(range(len(EARLY) + len(STANDARD))))
def test_summary_intervals_do_not_depend_on_row_order(order):
    df = _episodes()
    want = summarize(df, settings=FAST)
    got = summarize(df.iloc[list(order)].reset_index(drop=True), settings=FAST)
    pd.testing.assert_frame_equal(got[INTERVALS], want[INTERVALS])
    early = want[
        (want["kind"] == "early")
        & (want["mode"] == "conservative")
        & (want["quantity"] == "send_latency")
    ]
    assert len(early) == 1 and early[INTERVALS].notna().all(axis=None)  # (claim tested)


@settings(max_examples=25, deadline=None)
@given(st.permutations(EARLY), st.permutations(STANDARD))
def test_compare_samples_does_not_depend_on_order(early, standard):
    assert compare_samples(early, standard, FAST) == compare_samples(EARLY, STANDARD, FAST)


def test_reversed_order_changed_the_interval_before():
    """The case the property above would catch: reversed, these samples' positions draw
    other values (so sorting is what makes the two equal)."""
    rng = np.random.default_rng(FAST.seed)
    idx = rng.integers(0, len(EARLY), size=(FEW_RESAMPLES, len(EARLY)))
    forward = np.median(np.asarray(EARLY)[idx], axis=1)
    backward = np.median(np.asarray(EARLY[::-1])[idx], axis=1)
    assert not np.array_equal(forward, backward)
