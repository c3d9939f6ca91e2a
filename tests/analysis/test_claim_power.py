"""The claim's sample-size rule: DESIGN.md's MIN_CLAIM_SAMPLES per side, and no verdict
where the one-sided Mann-Whitney test (with Holm's adjustment over the table's
comparisons) could not reach alpha whatever the data: a "not supported" there would be
the sample size speaking, not the capture."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest

from ebutool.analysis import claim_statement, summarize
from ebutool.analysis.claim_stats import ClaimSettings, attainable_p, verdict_possible
from ebutool.core.constants import MIN_CLAIM_SAMPLES

ROOT = Path(__file__).resolve().parents[2]


def test_the_default_is_the_design_documents():
    # the shared decision (DESIGN.md, "the claim") and our copy say the same number
    for design in (ROOT / "docs" / "DESIGN.md", ROOT.parent / "shared" / "DESIGN.md"):
        if not design.exists():
            continue
        found = re.search(r"MIN_CLAIM_SAMPLES \((\d+)\)", design.read_text())
        assert found, design
        assert int(found.group(1)) == MIN_CLAIM_SAMPLES, design


@pytest.mark.parametrize(("ne", "ns"), [(3, 3), (3, 4), (4, 4), (2, 5), (5, 5)])
def test_attainable_p_is_the_exact_tests_floor(ne, ns):
    # without ties the exact one-sided p of total separation is 1 / C(ne + ns, ne)
    assert attainable_p(ne, ns) == pytest.approx(1 / math.comb(ne + ns, ne))


def test_three_and_three_cannot_reach_alpha_but_three_and_four_can():
    settings = ClaimSettings()
    assert not verdict_possible(3, 3, settings)  # 1/20 = 0.05, not below 0.05
    assert verdict_possible(3, 4, settings)  # 1/35
    assert not verdict_possible(2, 50, settings)  # below MIN_CLAIM_SAMPLES on one side


def _table(n_early: int, n_standard: int, modes=("conservative",)) -> pd.DataFrame:
    rows = []
    for mode in modes:
        # distinct values, every early one below every standard one: the strongest data
        rows += [
            {
                "kind": "early",
                "mode": mode,
                "send_latency_ms": 10.0 + i,
                "recv_latency_ms": 20.0 + i,
            }
            for i in range(n_early)
        ]
        rows += [
            {
                "kind": "standard",
                "mode": mode,
                "send_latency_ms": 100.0 + i,
                "recv_latency_ms": 200.0 + i,
            }
            for i in range(n_standard)
        ]
    return pd.DataFrame(rows)


def _cell(summary, mode, quantity):
    sel = summary[
        (summary["kind"] == "early") & (summary["mode"] == mode) & (summary["quantity"] == quantity)
    ]
    return sel.iloc[0]


def test_three_per_side_is_too_few_with_its_reason():
    s = summarize(_table(3, 3))
    assert _cell(s, "conservative", "send_latency")["claim"] == "too few samples"
    text = claim_statement(s)
    assert "with 3 and 3 the exact one-sided Mann-Whitney p is at least 0.05" in text
    assert "is not supported" not in text


def test_holms_floor_over_the_tables_comparisons():
    # 3 and 4 per side: each p can be 1/35 = 0.029, but over the 4 comparisons (two modes,
    # send and receive) Holm multiplies the smallest by 4: 0.114, never below 0.05
    s = summarize(_table(3, 4, modes=("conservative", "optimistic")))
    for mode in ("conservative", "optimistic"):
        for q in ("send_latency", "recv_latency"):
            cell = _cell(s, mode, q)
            assert cell["claim"] == cell["claim_rtt_sooner"] == "too few samples"
            assert cell["p_holm"] == pytest.approx(4 / 35)
    text = claim_statement(s)
    assert "Holm's adjustment keeps even the smallest p an exact test" in text
    assert "is not supported" not in text


def test_one_comparison_of_three_and_four_gets_its_verdict():
    # one mode, send latency only: no adjustment, p = 1/35 < 0.05
    df = _table(3, 4).drop(columns=["recv_latency_ms"])
    s = summarize(df)
    cell = _cell(s, "conservative", "send_latency")
    assert cell["p_value"] == pytest.approx(1 / 35)
    # every early value about a tenth of every standard one: ratio interval <= 0.12
    assert cell["claim"] == "supported"


def test_enough_samples_everywhere_gives_verdicts():
    s = summarize(_table(6, 6, modes=("conservative", "optimistic")))
    for mode in ("conservative", "optimistic"):
        assert _cell(s, mode, "send_latency")["claim"] == "supported"


def test_with_ties_the_p_is_the_exact_tests_and_the_reason_names_the_floor():
    # tied latencies (a simulator's fixed delays): scipy took the normal approximation,
    # p 0.0124 and p_holm 4 x 0.0124 = 0.049, below alpha, printed beside "too few
    # samples"; the exact p of 3 against 4 wholly separated values is 1/35 (one split of
    # C(7, 3)), 4/35 after Holm over the four comparisons: no verdict, and the line says why
    rows = []
    for mode in ("conservative", "optimistic"):
        rows += [
            {"kind": "early", "mode": mode, "send_latency_ms": 10.0, "recv_latency_ms": 20.0}
        ] * 3
        rows += [
            {"kind": "standard", "mode": mode, "send_latency_ms": 100.0, "recv_latency_ms": 200.0}
        ] * 4
    s = summarize(pd.DataFrame(rows))
    cell = _cell(s, "conservative", "send_latency")
    assert cell["p_value"] == pytest.approx(1 / math.comb(7, 3))
    assert cell["p_method"] == "exact"
    assert cell["p_holm"] == pytest.approx(4 / 35) and cell["claim"] == "too few samples"
    text = claim_statement(s)
    assert "keeps every p at or above alpha" not in text
    assert "the smallest p an exact test can give for these sizes at or above alpha 0.05" in text


def test_the_mn_views_reason_names_both_bounds():
    # 3 and 3 in the MN's view (no verdict: p >= 1/20) and 3 and 3 from a CN: the summary's
    # n was 6 and 6 (every vantage pooled), and the line said only "need 3 per side",
    # which the MN's view had; the summary now pools the MN's view only, as the claim
    rows = []
    for vantage in ("mn", "cn"):
        for kind, base in (("early", 10.0), ("standard", 100.0)):
            rows += [
                {
                    "kind": kind,
                    "mode": "conservative",
                    "vantage": vantage,
                    "send_latency_ms": base + i,
                }
                for i in range(3)
            ]
    s = summarize(pd.DataFrame(rows))
    assert _cell(s, "conservative", "send_latency")["claim"] == "too few samples"
    (line,) = [x for x in claim_statement(s).splitlines() if "send latency, conservative" in x]
    assert "(early n=3, standard n=3)" in line
    assert "with 3 and 3 the exact one-sided Mann-Whitney p is at least 0.05" in line


def test_holms_floor_is_per_comparison():
    # conservative 20 and 20 (smallest p 1/C(40, 20)), optimistic 3 and 4 (1/35), send and
    # receive: four comparisons.  The table-wide floor 4 / C(40, 20) is far below alpha,
    # but an optimistic comparison, even at its smallest p, is ranked after both
    # conservative ones: Holm gives it max(2 x 1/35, 1 x 1/35) = 2/35 = 0.057 >= 0.05,
    # so no data of these sizes could support it: "too few samples", not "not supported"
    df = pd.concat([_table(20, 20), _table(3, 4, modes=("optimistic",))], ignore_index=True)
    s = summarize(df)
    for q in ("send_latency", "recv_latency"):
        opt = _cell(s, "optimistic", q)
        assert opt["p_value"] == pytest.approx(1 / 35)
        assert opt["p_holm"] == pytest.approx(2 / 35)
        assert opt["claim"] == opt["claim_rtt_sooner"] == "too few samples"
        assert _cell(s, "conservative", q)["claim"] == "supported"
    text = claim_statement(s)
    assert "is not supported" not in text
    assert "Holm's adjustment keeps even the smallest p an exact test" in text
