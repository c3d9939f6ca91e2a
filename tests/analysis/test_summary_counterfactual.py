"""Early episodes as their own control: observed / standard predicted from the same RTTs."""

from __future__ import annotations

import math

import pandas as pd

from ebutool.analysis.summary import counterfactual_ratios, counterfactual_statement


def _episodes() -> pd.DataFrame:
    nan = math.nan
    return pd.DataFrame(
        [
            # early conservative: send 40 vs std_send_conserv 160 -> 0.25; recv 30 vs std_recv 160
            dict(
                kind="early",
                mode="conservative",
                send_latency_ms=40.0,
                recv_latency_ms=30.0,
                std_send_conserv_ms=160.0,
                std_send_optimst_ms=120.0,
                std_recv_ms=160.0,
            ),
            # early optimistic: send 0 vs std_send_optimst 100 -> 0; recv 60 vs std_recv 120
            dict(
                kind="early",
                mode="optimistic",
                send_latency_ms=0.0,
                recv_latency_ms=60.0,
                std_send_conserv_ms=150.0,
                std_send_optimst_ms=100.0,
                std_recv_ms=120.0,
            ),
            # unknown mode: no send counterpart, recv still counts? no: mode unknown -> skipped
            dict(
                kind="early",
                mode="unknown",
                send_latency_ms=10.0,
                recv_latency_ms=10.0,
                std_send_conserv_ms=50.0,
                std_send_optimst_ms=40.0,
                std_recv_ms=50.0,
            ),
            # standard episodes never enter
            dict(
                kind="standard",
                mode="conservative",
                send_latency_ms=200.0,
                recv_latency_ms=200.0,
                std_send_conserv_ms=100.0,
                std_send_optimst_ms=80.0,
                std_recv_ms=100.0,
            ),
            # missing observation is skipped, not counted
            dict(
                kind="early",
                mode="conservative",
                send_latency_ms=nan,
                recv_latency_ms=nan,
                std_send_conserv_ms=100.0,
                std_send_optimst_ms=80.0,
                std_recv_ms=100.0,
            ),
        ]
    )


def test_ratios_and_counts():
    r = counterfactual_ratios(_episodes())
    n, med = r["send_latency"]
    assert n == 2 and math.isclose(med, (40 / 160 + 0 / 100) / 2)
    n, med = r["recv_latency"]
    assert n == 2 and math.isclose(med, (30 / 160 + 60 / 120) / 2)


def test_statement_names_counts_and_verdict():
    text = counterfactual_statement(_episodes(), min_claim_samples=2)
    assert "median 0.125 (n=2): within the claimed 0.5" in text
    # two samples are fewer than MIN_CLAIM_SAMPLES (3): no verdict by default
    assert "median 0.125 (n=2): too few samples (need 3)" in counterfactual_statement(_episodes())
    assert "median 0.344 (n=2)" in text


def test_no_early_episode():
    df = _episodes()
    text = counterfactual_statement(df[df["kind"] == "standard"])
    assert text.count("(n=0)") == 2


def test_only_counted_episodes_enter():
    df = _episodes()
    df["complete"] = True
    df["diagnosis"] = None
    extra = dict(
        kind="early",
        mode="conservative",
        send_latency_ms=150.0,
        recv_latency_ms=150.0,
        std_send_conserv_ms=160.0,
        std_send_optimst_ms=120.0,
        std_recv_ms=160.0,
    )
    df = pd.concat(
        [
            df,
            pd.DataFrame(
                [
                    dict(extra, complete=False, diagnosis="no_final_bu"),
                    dict(extra, complete=True, diagnosis="tentative_binding_expired"),
                ]
            ),
        ],
        ignore_index=True,
    )
    assert counterfactual_ratios(df) == counterfactual_ratios(_episodes())


def _send_ratios(ratios: list[float]) -> pd.DataFrame:
    # early conservative, send latency r x 100 ms against std_send_conserv 100 ms
    return pd.DataFrame(
        [
            dict(
                kind="early",
                mode="conservative",
                send_latency_ms=100.0 * r,
                std_send_conserv_ms=100.0,
            )
            for r in ratios
        ]
    )


def test_a_median_whose_interval_spans_the_claim_is_no_verdict():
    # ratios 0.1, 0.45, 0.9: median 0.45 was "within the claimed 0.5".  A resampled median
    # of three values is 0.1 whenever two draws or more are 0.1: 7/27 = 0.26 of the
    # resamples, so the 2.5th percentile is 0.1, and likewise the 97.5th is 0.9: the
    # 95% interval [0.1, 0.9] holds both sides of 0.5
    text = counterfactual_statement(_send_ratios([0.1, 0.45, 0.9]))
    assert "median 0.450 (n=3)" in text
    assert "within the claimed" not in text
    assert "undecided: its 95% interval [0.100, 0.900] spans the claimed 0.5" in text


def test_an_interval_on_one_side_gives_the_verdict():
    within = counterfactual_statement(_send_ratios([0.1, 0.2, 0.3]))
    assert "median 0.200 (n=3): within the claimed 0.5 (95% interval [0.100, 0.300])" in within
    above = counterfactual_statement(_send_ratios([0.6, 0.7, 0.8]))
    assert "median 0.700 (n=3): above the claimed 0.5 (95% interval [0.600, 0.800])" in above
