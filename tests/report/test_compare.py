"""`ebutool compare`: per-group summaries (reusing analysis.summarize) checked against
the episode rows they summarise; latency samples for the plots; the CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from ebutool.analysis.formulas import FORMULAS, predict
from ebutool.core.errors import UsageError
from ebutool.report.compare import (
    ALL_GROUPS,
    compare_table,
    file_labels,
    latency_samples,
    predicted_recv_ms,
    predicted_send_ms,
)
from ebutool.runner.compare_inputs import episodes_by_file
from tests.support.cli import SAMPLES, run_cli

STANDARD = str(SAMPLES / "standard.pcap")
EARLY = str(SAMPLES / "early-conservative.pcap")


def _ep(
    file, kind, mode, send, recv, rtts=(40.0, 120.0, 30.0), mn="2001:db8::1", cn="2001:db8:c::1"
):
    row = {
        "file": file,
        "mn": mn,
        "cn": cn,
        "kind": kind,
        "mode": mode,
        "rtt_ha_ms": rtts[0],
        "rtt_bt_ms": rtts[1],
        "rtt_ro_ms": rtts[2],
        "send_latency_ms": send,
        "recv_latency_ms": recv,
    }
    row.update({f"{k}_ms": v for k, v in predict(*rtts).items()})
    return row


def _episodes() -> pd.DataFrame:
    nan = math.nan
    return pd.DataFrame(
        [
            _ep("a.pcap", "standard", "conservative", 100.0, 90.0),
            _ep("a.pcap", "standard", "conservative", 140.0, nan),
            _ep("a.pcap", "standard", "conservative", 120.0, 110.0, mn="2001:db8::2"),
            _ep("b.pcap", "early", "conservative", 40.0, 30.0, rtts=(40.0, 120.0, 20.0)),
            _ep("b.pcap", "early", "conservative", 50.0, 35.0),
        ]
    )


def _row(table, **where):
    sel = table
    for k, v in where.items():
        sel = sel[sel[k] == v]
    assert len(sel) == 1, (where, sel)
    return sel.iloc[0]


def test_by_file_counts_medians_and_combined_ratio_hand_computed():
    t = compare_table(_episodes(), "file")
    assert list(t.columns[:3]) == ["file", "kind", "mode"]
    assert list(dict.fromkeys(t["file"])) == ["a.pcap", "b.pcap", ALL_GROUPS]
    a = _row(t, file="a.pcap", kind="standard", mode="conservative", quantity="send_latency")
    assert a["episodes"] == 3 and a["n"] == 3 and a["median_ms"] == 120.0  # 100, 120, 140
    a_recv = _row(t, file="a.pcap", kind="standard", mode="conservative", quantity="recv_latency")
    assert a_recv["n"] == 2 and a_recv["median_ms"] == 100.0  # 90, 110 (one missing)
    b = _row(t, file="b.pcap", kind="early", mode="conservative", quantity="send_latency")
    assert b["n"] == 2 and b["median_ms"] == 45.0  # 40, 50
    # alone, b.pcap has no standard episodes to compare with
    assert b["claim"] == "undetermined" and pd.isna(b["ratio_to_standard"])
    # together: early median 45 / standard median 120 = 0.375
    both = _row(t, file=ALL_GROUPS, kind="early", mode="conservative", quantity="send_latency")
    assert both["ratio_to_standard"] == pytest.approx(0.375)
    # two early samples are fewer than MIN_CLAIM_SAMPLES (3): no verdict from them
    assert both["claim"] == "too few samples"
    # predicted next to observed: early_send_conserv = max(RTT_HA, RTT_RO) = 40 for both
    pred = _row(t, file="b.pcap", kind="early", mode="conservative", quantity="early_send_conserv")
    assert pred["source"] == "predicted" and pred["n"] == 2 and pred["median_ms"] == 40.0


def test_by_mn_groups_in_order_of_appearance():
    t = compare_table(_episodes(), "mn")
    assert list(dict.fromkeys(t["mn"])) == ["2001:db8::1", "2001:db8::2", ALL_GROUPS]
    one = _row(t, mn="2001:db8::1", kind="standard", mode="conservative", quantity="send_latency")
    assert one["n"] == 2 and one["median_ms"] == 120.0  # 100, 140


def test_by_cn_missing_cn_is_its_own_group():
    df = _episodes()
    df.loc[4, "cn"] = None
    t = compare_table(df, "cn", combined=False)
    assert list(dict.fromkeys(t["cn"])) == ["2001:db8:c::1", "-"]


def test_by_mode_leads_with_mode_and_orders_by_mode():
    df = _episodes()
    df.loc[0, "mode"] = "optimistic"
    t = compare_table(df, "mode")
    assert t.columns[0] == "mode"
    modes = list(dict.fromkeys(t["mode"]))
    assert modes == ["conservative", "optimistic", "all"]
    assert ALL_GROUPS not in set(t["mode"])


def test_by_kind_is_the_plain_summary():
    from ebutool.analysis import summarize

    df = _episodes()
    pd.testing.assert_frame_equal(compare_table(df, "kind"), summarize(df).reset_index(drop=True))


def test_bad_by():
    with pytest.raises(UsageError, match="--by must be one of"):
        compare_table(_episodes(), "colour")


def test_predicted_formula_by_kind_and_mode():
    # RTTs 40/120/30: std_send_conserv 150, std_send_optimst 120, std_recv 150,
    # early_send_conserv 40, early_send_optimst 0, early_recv 30
    row = _ep("x", "standard", "conservative", 0, 0)
    assert predicted_send_ms(row) == 150 and predicted_recv_ms(row) == 150
    assert predicted_send_ms(dict(row, mode="optimistic")) == 120
    assert predicted_send_ms(dict(row, kind="early")) == 40
    assert predicted_send_ms(dict(row, kind="early", mode="optimistic")) == 0
    assert predicted_recv_ms(dict(row, kind="early")) == 30
    assert predicted_send_ms(dict(row, kind="early_fallback", mode="optimistic")) == 120
    assert predicted_send_ms(dict(row, mode="unknown")) is None
    assert predicted_recv_ms(dict(row, kind="home_only")) is None


def test_latency_samples_per_group():
    # groups: file x mode (the figure never pools modes), file names without the
    # common ".pcap"
    s = latency_samples(_episodes(), "file")
    a, b = "a, conservative", "b, conservative"
    assert s["send"][a] == {"observed": [100.0, 140.0, 120.0], "predicted": [150.0] * 3}
    assert s["receive"][a]["observed"] == [90.0, 110.0]  # the NaN is left out
    assert s["send"][b]["predicted"] == [40.0, 40.0]  # max(40, 20), max(40, 30)
    assert s["receive"][b]["predicted"] == [20.0, 30.0]  # RTT_RO


def test_file_labels_unique():
    assert file_labels(["x/a.pcap", "y/b.pcap"]) == ["a.pcap", "b.pcap"]
    assert file_labels(["x/a.pcap", "y/a.pcap", "c.pcap"]) == ["x/a.pcap", "y/a.pcap", "c.pcap"]


# ---------------------------------------------------------------- on the sample captures


def test_compare_two_samples_against_their_episode_rows():
    import ebutool

    episodes = episodes_by_file([STANDARD, EARLY])
    table = compare_table(episodes, "file")
    for path, label in ((STANDARD, "standard.pcap"), (EARLY, "early-conservative.pcap")):
        rows = ebutool.analyze(path)
        assert len(rows) > 0
        assert (episodes["file"] == label).sum() == len(rows)
        for (kind, mode), group in rows.groupby(["kind", "mode"]):
            for q in ("send_latency", "recv_latency"):
                got = _row(table, file=label, kind=kind, mode=mode, quantity=q)
                values = group[f"{q}_ms"].dropna().to_numpy()
                assert got["episodes"] == len(group)
                assert got["n"] == len(values)
                assert got["median_ms"] == pytest.approx(float(np.median(values)))
            for name in FORMULAS:
                got = _row(table, file=label, kind=kind, mode=mode, quantity=name)
                values = group[f"{name}_ms"].dropna().to_numpy()
                assert got["source"] == "predicted"
                assert got["n"] == len(values)
                assert got["median_ms"] == pytest.approx(float(np.median(values)))
    # the samples hold one procedure each: standard.pcap only standard, the other only early
    assert set(table[table["file"] == "standard.pcap"]["kind"]) == {"standard"}
    assert set(table[table["file"] == "early-conservative.pcap"]["kind"]) == {"early"}
    # and the ratio of the medians (both samples are conservative) appears in the combined group
    assert set(episodes["mode"]) == {"conservative"}
    std = ebutool.analyze(STANDARD)["send_latency_ms"].median()
    early = ebutool.analyze(EARLY)["send_latency_ms"].median()
    got = _row(table, file=ALL_GROUPS, kind="early", mode="conservative", quantity="send_latency")
    assert got["ratio_to_standard"] == pytest.approx(early / std)


def test_cli_compare_json(tmp_path):
    result = run_cli("compare", STANDARD, EARLY, "-f", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {r["file"] for r in rows} == {"standard.pcap", "early-conservative.pcap", ALL_GROUPS}
    assert "2 input(s)" in result.stderr


@pytest.mark.parametrize("kind", ["cdf", "box"])
def test_cli_compare_plot(tmp_path, kind):
    out = tmp_path / f"cmp.{'svg' if kind == 'cdf' else 'png'}"
    result = run_cli(
        "compare",
        STANDARD,
        EARLY,
        "--plot",
        str(out),
        "--plot-kind",
        kind,
        "-f",
        "csv",
        "-q",
    )
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 1000


def test_compare_figure_objects():
    from ebutool.report import plots

    episodes = episodes_by_file([STANDARD, EARLY])
    fig = plots.distribution_figure(latency_samples(episodes, "file"), "cdf")
    send = fig.axes[0]
    labels = [ln.get_label() for ln in send.get_lines()]
    n_std = int(episodes[episodes["file"] == "standard.pcap"]["send_latency_ms"].notna().sum())
    assert f"standard, conservative, observed (n={n_std})" in labels
    assert len(labels) == 4  # 2 files x observed/predicted
    assert send.get_xlabel() == "latency after handover (ms)"


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["--plot-kind", "box"], "--plot-kind needs --plot"),
        (["--plot", "x.gif"], ".png, .svg or .pdf"),
        (["--by", "colour"], "colour"),
        (["--mn", "not-an-address"], "not an IPv6 address"),
    ],
)
def test_cli_compare_usage_errors(args, fragment):
    result = run_cli("compare", STANDARD, *args)
    assert result.exit_code == 2
    assert fragment in result.stderr or fragment in result.output
    assert "Traceback" not in result.output


def test_cli_compare_missing_file_exit_3():
    result = run_cli("compare", STANDARD, "no/such/file.pcap")
    assert result.exit_code == 3
    assert "no such file" in result.stderr


def test_cli_compare_without_matplotlib(no_matplotlib, tmp_path):
    out = tmp_path / "c.png"
    result = run_cli("compare", STANDARD, EARLY, "--plot", str(out))
    assert result.exit_code == 2
    assert "plotting needs matplotlib: pip install 'ebutool[plot]'" in result.stderr
    assert not out.exists()
    result = run_cli("compare", STANDARD, EARLY, "-f", "csv", "-q")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("file,kind,mode,")


def test_latency_samples_take_the_summarys_rows():
    # a hand-made table whose HA rows carry latencies: the summary pools the MN's view
    # only (summary.mn_view_mask), the figure drawn beside it drew the HA's 999 ms too
    df = _episodes().assign(vantage="mn")
    ha = _ep("a.pcap", "standard", "conservative", 999.0, 999.0)
    df = pd.concat([df, pd.DataFrame([dict(ha, vantage="ha")])], ignore_index=True)
    s = latency_samples(df, "file")
    a = "a, conservative"
    assert s["send"][a]["observed"] == [100.0, 140.0, 120.0]
    assert s["receive"][a]["observed"] == [90.0, 110.0]
    summary = compare_table(df, "file")
    row = _row(
        summary, file="a.pcap", kind="standard", mode="conservative", quantity="send_latency"
    )
    assert row["n"] == len(s["send"][a]["observed"])
