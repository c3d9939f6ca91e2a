"""The claim section of the HTML report (issue 17 item 1) when the claim can be tested:
both statements of the draft with a verdict, per latency and mode the sample counts
and 95% intervals, and how many episodes were left out and why.

Ground truth: the capture is built here packet by packet (tests.support.scenarios):
10 standard and 10 early handovers of MNs of each mode with RTTs that vary, and one
handover whose CoT never arrives (incomplete: left out of the statistics)."""

from __future__ import annotations

import html
import re

import pandas as pd
import pytest

from ebutool.analysis.claim_stats import ClaimSettings
from ebutool.report.html import build_report
from ebutool.report.html.data import collect
from ebutool.report.html.settings import ReportOptions
from tests.support.scenarios import CN, MN, Capture, Delays, Plan, handover

N_EACH = 10  # episodes per kind and mode
MODES = ("conservative", "optimistic")
CN1 = "2001:db8:200::1"


@pytest.fixture(scope="module")
def claim_capture(tmp_path_factory) -> str:
    """The capture of the module doc, its path."""
    cap = Capture()
    for m, mode in enumerate(MODES):
        std = MN(f"2001:db8:10{m}::1", f"2001:db8:10{m}::ff")
        early = MN(f"2001:db8:10{m}::2", f"2001:db8:10{m}::fe")
        for k in range(N_EACH):
            near = Delays(d_ha=8 + k, d_hc=25 + 2 * k, d_ro=10 + k)
            for mn, procedure, at, last in ((std, "standard", 0, 1), (early, "early", 1000, 2)):
                plan = Plan(procedure, mode, period=20.0, old=near)
                host = f"{m}{last}"
                new, old = f"2001:db8:a{k % 2}::{host}", f"2001:db8:a{(k + 1) % 2}::{host}"
                t0 = 1000.0 + k * 2000 + at
                handover(cap, mn, [CN(CN1, near)], t0, new, old, plan, near.d_ha)
    lost = MN("2001:db8:100::3", "2001:db8:100::fd")
    near = Delays(d_ha=10, d_hc=30, d_ro=12)
    plan = Plan("standard", "conservative", period=20.0, lose_cot=True)
    handover(cap, lost, [CN(CN1, near)], 500.0, "2001:db8:a0::3", "2001:db8:a1::3", plan, 10)
    path = tmp_path_factory.mktemp("claim") / "claim.pcap"
    cap.write(path)
    return str(path)


@pytest.fixture(scope="module")
def claim_section(claim_capture) -> str:
    page = build_report([claim_capture])
    return page.split('<section id="claim">')[1].split("</section>")[0]


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment)))


def test_both_statements_have_a_verdict(claim_section):
    statements = [_text(s) for s in re.findall(r'<p class="statement">(.*?)</p>', claim_section)]
    assert len(statements) == 2
    assert "half or less" in statements[0] and "one round-trip time sooner" in statements[1]
    for s in statements:
        assert "cannot be tested" not in s and re.search(r"\b(is|is not) supported\b", s), s


def test_rows_per_latency_and_mode_with_counts_and_intervals(claim_section):
    body = claim_section.split("<tbody>")[1].split("</tbody>")[0]
    rows = [
        [_text(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r)]
        for r in re.findall(r"<tr>(.*?)</tr>", body)
    ]
    got = {(r[0], r[1]): r for r in rows}
    cases = [(q, m) for q in ("send latency", "recv latency") for m in MODES]
    assert sorted(got) == sorted(cases)
    for case in cases:
        row = got[case]
        assert row[2:4] == [str(N_EACH), str(N_EACH)]  # early n, standard n
        for cell in row[4:7]:  # the two medians and their ratio, each with its interval
            assert re.fullmatch(r"-?[\d.]+ \[-?[\d.]+, -?[\d.]+\]", cell), (case, cell)
        assert row[-2] in ("supported", "not supported") and row[-1] in (
            "supported",
            "not supported",
        )


def test_left_out_episodes_are_counted_with_their_reason(claim_section):
    text = _text(claim_section)
    counted = 2 * len(MODES) * N_EACH
    assert f"Statistics over {counted} of {counted + 1} episodes" in text
    left = claim_section.split("<th>left out because</th>")[1]
    assert re.search(r"<td>incomplete</td><td>1</td>", left), _text(left)[:300]


TOO_FEW = N_EACH + 1  # a --min-claim-samples above the N_EACH episodes per side
OTHER_SEED = 7  # a --bootstrap-seed other than the default
OTHER_TOLERANCE = 0.5  # a --claim-tolerance other than the default
TOO_FEW_VERDICT = "too few samples"  # the claim cell below --min-claim-samples (docs/reports.md)


def test_compare_table_uses_the_run_settings(claim_capture):
    """--by kind: compare's table on the page is the summary (compare's docs: "exactly
    the analyze --summary table"), so with the run's settings it is the summary's rows
    cell for cell: the claim too few samples on both, not "too few" in one section and
    a verdict with intervals and p-values in the other (was: compare_table used the
    defaults)."""
    settings = ClaimSettings(min_samples=TOO_FEW, seed=OTHER_SEED, tolerance=OTHER_TOLERANCE)
    data = collect([claim_capture], ReportOptions(by="kind", settings=settings))
    assert data.compare is not None
    claims = data.summary["claim"].dropna()
    assert len(claims) == 2 * len(MODES)  # send and recv latency per claim mode
    assert set(claims) == {TOO_FEW_VERDICT}
    pd.testing.assert_frame_equal(data.compare, data.summary)
    early = data.compare[data.compare["kind"] == "early"]
    assert early["p_value"].isna().all() and early["ratio_ci_low"].isna().all()


TINY_P = 1.66e-12  # a p-value that four decimals would print as 0


def test_claim_table_never_shows_a_p_value_of_zero(claim_capture):
    """The claim table's Holm p-value cell: "< 0.0001" for a p-value below what four
    decimals show (was "0")."""
    from ebutool.report.html.sections import claim_section

    data = collect([claim_capture], ReportOptions())
    tested = data.summary["p_holm"].notna()
    assert tested.sum() == 2 * len(MODES)
    data.summary.loc[tested, "p_holm"] = TINY_P
    body = claim_section(data).split("<tbody>")[1].split("</tbody>")[0]
    rows = [
        [_text(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r)]
        for r in re.findall(r"<tr>(.*?)</tr>", body)
    ]
    assert [r[-3] for r in rows] == ["< 0.0001"] * len(rows)
    # beside it, how the p-value was computed (small samples: exact, ties or not)
    assert [r[-4] for r in rows] == ["exact"] * len(rows)
