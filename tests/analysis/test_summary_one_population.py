"""The summary's latency statistics (n, median, its interval, mean, p95,
ratio_to_standard) and the claim's intervals and p come from one population: counted
episodes of the MN's view or of merged views.  A latency on a row of another vantage
point is not the MN's (docs/analysis.md, Vantage point): it was pooled into n and the
median while the claim beside them left it out, so a line read "early median 458.500 ms
(n=16) vs standard 50.500 ms (n=16); ratio 9.079 [0.108, 0.153] ... half or less
supported": a ratio outside its own interval, n of another population than p's."""

from __future__ import annotations

import pandas as pd
import pytest

from ebutool.analysis import claim_statement, summarize
from ebutool.analysis.summary import counterfactual_ratios, exclusion_statement
from ebutool.report.paper import paper_table

MN_EARLY = [10.0 + i for i in range(8)]  # median (13 + 14) / 2 = 13.5
MN_STANDARD = [100.0 + i for i in range(8)]  # median 103.5
HA_EARLY = [900.0] * 8  # a hand-made table's values at the HA: never the MN's latency
HA_STANDARD = [1.0] * 8


def _rows(vantage: str, early: list[float], standard: list[float]) -> list[dict]:
    return [
        {
            "kind": kind,
            "mode": "optimistic",
            "vantage": vantage,
            "quality": "ok",
            "send_latency_ms": v,
            "std_send_optimst_ms": 2 * v,
        }
        for kind, values in (("early", early), ("standard", standard))
        for v in values
    ]


def _table() -> pd.DataFrame:
    return pd.DataFrame(_rows("mn", MN_EARLY, MN_STANDARD) + _rows("ha", HA_EARLY, HA_STANDARD))


def _row(s: pd.DataFrame, kind: str, quantity: str = "send_latency") -> pd.Series:
    sel = s[(s["kind"] == kind) & (s["mode"] == "optimistic") & (s["quantity"] == quantity)]
    assert len(sel) == 1
    return sel.iloc[0]


def test_n_median_and_ratio_are_of_the_claims_population():
    s = summarize(_table())
    early, standard = _row(s, "early"), _row(s, "standard")
    assert (early["episodes"], early["counted"]) == (16, 16)  # every row is counted...
    assert early["n"] == standard["n"] == 8  # ...but only the MN's latencies are pooled
    assert early["median_ms"] == 13.5 and standard["median_ms"] == 103.5
    assert early["mean_ms"] == pytest.approx(sum(MN_EARLY) / 8)
    assert early["ratio_to_standard"] == pytest.approx(13.5 / 103.5)
    # the ratio lies in its own interval; p of 8 below 8 is 1 / C(16, 8)
    assert early["ratio_ci_low"] <= early["ratio_to_standard"] <= early["ratio_ci_high"]
    assert early["p_value"] == pytest.approx(1 / 12870)
    assert early["claim"] == "supported"
    # predicted latencies too
    assert _row(s, "early", "std_send_optimst")["median_ms"] == 27.0


def test_the_statement_line_gives_the_tested_sizes_and_medians():
    text = claim_statement(summarize(_table()))
    (line,) = [x for x in text.splitlines() if x.startswith("  send latency, optimistic:")]
    assert "early median 13.500 ms (n=8) vs standard 103.500 ms (n=8)" in line
    assert f"ratio {13.5 / 103.5:.3f}" in line


def test_the_paper_table_marks_the_smaller_sample():
    table = paper_table(summarize(_table()))
    early = table[(table["kind"] == "early") & (table["mode"] == "optimistic")].iloc[0]
    assert early["n"] == 16 and early["send_observed_ms"].endswith("(n=8)")
    assert early["send_observed_ms"].startswith("13.5 [")


def test_the_stderr_says_which_latencies_were_not_pooled():
    line = exclusion_statement(_table())
    assert line.startswith("Statistics over 32 of 32 episodes")
    assert "latencies of other vantage points not pooled: ha 16 episodes" in line


def test_the_counterfactual_takes_the_same_rows():
    # early observed / standard predicted from the same episode: v / 2v = 0.5 at the MN;
    # the HA's rows would add 900 / 1800 = 0.5 too, so give them another prediction
    df = _table()
    df.loc[df["vantage"] == "ha", "std_send_optimst_ms"] = 9000.0
    n, median = counterfactual_ratios(df)["send_latency"]
    assert (n, median) == (8, 0.5)


def test_without_a_vantage_column_every_row_is_pooled():
    s = summarize(_table().drop(columns=["vantage"]))
    assert _row(s, "early")["n"] == 16 and _row(s, "early")["median_ms"] == (17.0 + 900.0) / 2
    assert "not pooled" not in exclusion_statement(_table().drop(columns=["vantage"]))


def test_an_ambiguous_row_with_a_latency_is_named_unknown():
    df = pd.DataFrame(_rows("mn", MN_EARLY, MN_STANDARD) + _rows("", [5.0], []))
    df.loc[len(df)] = dict(df.iloc[0], vantage=None, send_latency_ms=7.0)
    line = exclusion_statement(df)
    assert "latencies of other vantage points not pooled: unknown 2 episodes." in line
    assert _row(summarize(df), "early")["n"] == 8
