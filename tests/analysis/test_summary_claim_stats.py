"""The claim's statistics (bootstrap intervals, Mann-Whitney U, Holm) against
independent computations: exact enumeration, scipy's own bootstrap, a loop by hand."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ebutool.analysis import summarize
from ebutool.analysis.claim_stats import (
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    ClaimSettings,
    bootstrap_medians,
    compare_samples,
    holm,
)
from ebutool.core.constants import MIN_CLAIM_SAMPLES

EARLY = [41.0, 35.0, 52.0, 47.0, 39.0, 60.0, 44.0, 38.0, 55.0]
STANDARD = [101.0, 95.0, 120.0, 88.0, 110.0, 99.0, 131.0, 93.0, 58.0, 105.0]


def exact_mwu_less(x: list[float], y: list[float]) -> float:
    """P(U_x <= u_obs) over every equally likely split of the pooled ranks (no ties)."""
    pooled = sorted(x + y)
    rank = {v: i + 1 for i, v in enumerate(pooled)}
    n = len(x)
    observed = sum(rank[v] for v in x)
    count = total = 0
    for chosen in itertools.combinations(range(1, len(pooled) + 1), n):
        total += 1
        count += sum(chosen) <= observed
    return count / total


def median_by_hand(values: list[float]) -> float:
    v, half = sorted(values), len(values) // 2
    return v[half] if len(values) % 2 else (v[half - 1] + v[half]) / 2


def test_mann_whitney_matches_exact_enumeration():
    c = compare_samples(EARLY[:8], STANDARD[:8])
    assert c.p_value == pytest.approx(exact_mwu_less(EARLY[:8], STANDARD[:8]), rel=1e-9)
    # completely separated, 8 per side: the one smallest arrangement of C(16, 8)
    sep = compare_samples([1.0, 2, 3, 4, 5, 6, 7, 8], [9.0, 10, 11, 12, 13, 14, 15, 16])
    assert sep.p_value == pytest.approx(1 / math.comb(16, 8))


def test_holm_by_hand():
    # sorted 0.01, 0.02, 0.03, 0.04 times 4, 3, 2, 1 -> 0.04, 0.06, 0.06 (monotone), 0.06
    assert holm([0.03, 0.01, 0.04, 0.02]) == pytest.approx([0.06, 0.04, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm([]) == []


def test_bootstrap_agrees_with_scipy_and_a_loop_by_hand():
    from scipy.stats import bootstrap

    c = compare_samples(EARLY, STANDARD)
    assert c.ratio == pytest.approx(np.median(EARLY) / np.median(STANDARD))
    assert c.diff_ms == pytest.approx(np.median(STANDARD) - np.median(EARLY))

    def ratio(x, y, axis=-1):
        return np.median(x, axis=axis) / np.median(y, axis=axis)

    peer = bootstrap(
        (np.array(EARLY), np.array(STANDARD)),
        ratio,
        n_resamples=BOOTSTRAP_RESAMPLES,
        method="percentile",
        paired=False,
        vectorized=True,
        random_state=np.random.default_rng(7),
    ).confidence_interval
    # two independent Monte Carlo runs of the same interval: close, not equal
    assert c.ratio_low == pytest.approx(peer.low, rel=0.03)
    assert c.ratio_high == pytest.approx(peer.high, rel=0.03)
    rng = np.random.default_rng(11)
    diffs = []
    for _ in range(4000):
        e = [EARLY[int(i)] for i in rng.integers(0, len(EARLY), len(EARLY))]
        s = [STANDARD[int(i)] for i in rng.integers(0, len(STANDARD), len(STANDARD))]
        diffs.append(median_by_hand(s) - median_by_hand(e))
    low, high = np.percentile(diffs, [2.5, 97.5])
    assert c.diff_low_ms == pytest.approx(low, abs=3.0)
    assert c.diff_high_ms == pytest.approx(high, abs=3.0)


def test_constant_samples_give_exact_intervals():
    c = compare_samples([25.0] * 8, [100.0] * 8)
    assert (c.ratio, c.ratio_low, c.ratio_high) == (0.25, 0.25, 0.25)
    assert (c.diff_ms, c.diff_low_ms, c.diff_high_ms) == (75.0, 75.0, 75.0)


# The medians of 9 and 10 values take few distinct values, so the interval's bounds of
# two seeds may coincide (seed 1's do since the samples are sorted before resampling):
# the resampled medians themselves always differ, and this seed's bounds too.
OTHER_SEED = 2


def test_same_seed_same_numbers_other_seed_other_numbers():
    a, b = compare_samples(EARLY, STANDARD), compare_samples(EARLY, STANDARD)
    assert a == b
    other = compare_samples(EARLY, STANDARD, ClaimSettings(seed=OTHER_SEED))
    assert (other.ratio_low, other.ratio_high) != (a.ratio_low, a.ratio_high)
    sample = np.asarray(EARLY)
    draws = [
        bootstrap_medians(sample, BOOTSTRAP_RESAMPLES, np.random.default_rng(seed))
        for seed in (BOOTSTRAP_SEED, 1, OTHER_SEED)
    ]
    assert not np.array_equal(draws[0], draws[1]) and not np.array_equal(draws[0], draws[2])


positive = st.floats(min_value=1.0, max_value=1000.0, allow_nan=False)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(positive, min_size=8, max_size=15),
    st.lists(positive, min_size=8, max_size=15),
)
def test_intervals_contain_the_sample_statistics(early, standard):
    c = compare_samples(early, standard, ClaimSettings(resamples=2000))
    assert c.ratio_low - 1e-12 <= c.ratio <= c.ratio_high + 1e-12
    assert c.diff_low_ms - 1e-9 <= c.diff_ms <= c.diff_high_ms + 1e-9
    assert 0.0 < c.p_value <= 1.0


def episodes(mode: str, early: list[float], standard: list[float], **extra) -> pd.DataFrame:
    rows = [
        {"kind": "early", "mode": mode, "send_latency_ms": v, "recv_latency_ms": v, **extra}
        for v in early
    ] + [
        {"kind": "standard", "mode": mode, "send_latency_ms": v, "recv_latency_ms": v, **extra}
        for v in standard
    ]
    return pd.DataFrame(rows)


def early_row(summary: pd.DataFrame, mode: str, quantity: str) -> pd.Series:
    sel = summary[
        (summary["kind"] == "early") & (summary["mode"] == mode) & (summary["quantity"] == quantity)
    ]
    assert len(sel) == 1
    return sel.iloc[0]


def test_one_rtt_sooner_uses_the_tolerance():
    # standard 100, early 55: sooner by exactly 45 ms; RTT_RO 50 ms
    df = episodes("optimistic", [55.0] * 8, [100.0] * 8, rtt_ro_ms=50.0)
    r = early_row(summarize(df), "optimistic", "send_latency")
    assert r["rtt_ro_median_ms"] == 50.0 and r["diff_ci_low_ms"] == 45.0
    assert r["claim_rtt_sooner"] == "supported"  # 45 >= 50 x 0.9
    strict = summarize(df, settings=ClaimSettings(tolerance=0.05))
    assert early_row(strict, "optimistic", "send_latency")["claim_rtt_sooner"] == "not supported"
    assert r["claim"] == "not supported"  # 0.55 > 0.5
    unknown_rtt = summarize(episodes("optimistic", [55.0] * 8, [100.0] * 8))
    assert early_row(unknown_rtt, "optimistic", "send_latency")["claim_rtt_sooner"] == (
        "undetermined"
    )


def test_too_few_samples_below_the_minimum():
    below = MIN_CLAIM_SAMPLES - 1
    df = episodes("conservative", [10.0] * below, [100.0] * 8)
    r = early_row(summarize(df), "conservative", "send_latency")
    assert r["claim"] == r["claim_rtt_sooner"] == "too few samples"
    assert math.isnan(r["ratio_ci_high"]) and math.isnan(r["p_value"])
    assert math.isnan(r["median_ci_low_ms"])  # below the minimum: no interval either
    r8 = early_row(
        summarize(episodes("conservative", [10.0] * 8, [100.0] * 8)), "conservative", "send_latency"
    )
    assert r8["claim"] == "supported" and r8["median_ci_low_ms"] == 10.0


def test_model_excludes_half_when_rtt_ha_dominates():
    # conservative send, RTT_HA 200, RTT_BT 10, RTT_RO 50: early max(200, 50) = 200 against
    # standard max(200, 10, 50) + 50 = 250: the model's ratio is 0.8
    df = episodes(
        "conservative",
        [200.0 + i for i in range(8)],
        [250.0 + i for i in range(8)],
        rtt_ro_ms=50.0,
        early_send_conserv_ms=200.0,
        std_send_conserv_ms=250.0,
        early_recv_ms=50.0,
        std_recv_ms=250.0,
    )
    s = summarize(df)
    send = early_row(s, "conservative", "send_latency")
    assert send["model_ratio"] == pytest.approx(0.8) and send["claim"] == "cannot hold (model)"
    recv = early_row(s, "conservative", "recv_latency")  # model 0.2; data 0.8: a real failure
    assert recv["model_ratio"] == pytest.approx(0.2) and recv["claim"] == "not supported"


def test_holm_over_the_reported_comparisons():
    df = pd.concat(
        [episodes("conservative", EARLY[:8], STANDARD[:8]), episodes("optimistic", EARLY, STANDARD)]
    )
    s = summarize(df)
    rows = [
        early_row(s, m, q)
        for m in ("conservative", "optimistic")
        for q in ("send_latency", "recv_latency")
    ]
    assert [r["p_holm"] for r in rows] == pytest.approx(holm([r["p_value"] for r in rows]))


def test_quality_and_vantage_decide_what_enters():
    ok = episodes("optimistic", [10.0] * 8, [100.0] * 8, quality="ok", vantage="mn")
    bad = episodes("optimistic", [500.0] * 3, [1.0] * 3, quality="capture_began_mid_procedure")
    ha = episodes("optimistic", [900.0] * 8, [1.0] * 8, quality="ok", vantage="ha")
    s = summarize(pd.concat([ok, bad, ha], ignore_index=True))
    r = early_row(s, "optimistic", "send_latency")
    # the HA's rows are counted episodes, but their latencies enter neither the
    # per-kind statistics nor the claim
    assert (r["episodes"], r["counted"], r["n"]) == (19, 16, 8)
    assert r["claim"] == "supported" and r["ratio_ci_high"] == pytest.approx(0.1)


def test_summary_is_byte_identical_for_the_same_input():
    df = episodes("optimistic", EARLY, STANDARD, rtt_ro_ms=40.0)
    assert summarize(df).to_csv() == summarize(df).to_csv()


def test_cli_summary_prints_exclusions_and_both_statements_deterministically(cli):
    from tests.support.cli import SAMPLES

    args = ("analyze", SAMPLES / "mixed.pcap", "--summary", "-f", "csv", "--min-claim-samples", "2")
    first, again = cli(*args), cli(*args)
    assert first.exit_code == 0, first.output
    assert first.stdout == again.stdout
    assert "Statistics over " in first.stderr and " episodes" in first.stderr
    assert '"half or less of the latency"' in first.stderr
    assert '"about one round-trip time sooner"' in first.stderr
    other = cli(*args, "--bootstrap-seed", "1", "--claim-tolerance", "0.2")
    assert other.exit_code == 0, other.output
    assert "seed 1;" in other.stderr and "(1 - 0.2)" in other.stderr


def test_summary_columns_documented_in_reports_md():
    import subprocess
    import sys

    from ebutool.analysis import SUMMARY_COLUMNS
    from tests.support.cli import ROOT

    text = (ROOT / "docs" / "reports.md").read_text(encoding="utf-8")
    block = text.split("<!-- summary columns:")[1].split("<!-- end of summary columns -->")[0]
    listed = [line.split("`")[1] for line in block.splitlines() if line.startswith("| `")]
    assert listed == list(SUMMARY_COLUMNS)
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "summary_columns_doc.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
