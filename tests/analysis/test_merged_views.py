"""Views of one run merged into one timeline (issue 13 item 3): the MN, HA and CN captures of
a synthesized run, the CN's clock 0.7 s ahead and the HA's 0.3 s behind (with drifts), give
exactly one row per handover with the MN view's values, the one-way delays the scenario's
links have, and clock offsets and drifts equal to the ones the views were written with.

Ground truth: the scenario file (read here with tomllib: link delays, handovers), and the
offsets/drifts given to synth, not ebutool's analysis."""

from __future__ import annotations

import ipaddress
import math
import tomllib

import pandas as pd
import pytest

import ebutool
from ebutool.core.diagnostics import Diagnostics
from ebutool.synth import simulate, write_capture
from tests.analysis.test_vantage import (
    CASES,
    CN_DRIFT_PPM,
    CN_OFFSET_MS,
    HA_DRIFT_PPM,
    HA_OFFSET_MS,
    SAMPLES,
    is_empty,
    scenario,
)
from tests.support.cli import run_cli

CLOCKS = {
    "none": {"mn": (0.0, 0.0), "ha": (0.0, 0.0), "cn": (0.0, 0.0)},
    "skewed": {
        "mn": (0.0, 0.0),
        "ha": (HA_OFFSET_MS, HA_DRIFT_PPM),
        "cn": (CN_OFFSET_MS, CN_DRIFT_PPM),
    },
}
OWD_TOL_MS = 0.01  # microsecond stamps and the fitted drift
NUMBERS = ["rtt_ha_ms", "rtt_bt_ms", "rtt_ro_ms", "send_latency_ms", "recv_latency_ms"]


def write_views(sc, tmp, clocks, drop=None) -> dict:
    result = simulate(sc, views=("ha", "cn"))
    if drop is not None:  # the MN's capture misses one packet: its index in the MN view
        del result.packets[drop]
    paths = {}
    for view, (offset, drift) in clocks.items():
        paths[view] = tmp / f"{view}.pcap"
        with open(paths[view], "wb") as fh:
            write_capture(result, fh, view=view, clock_offset_ms=offset, clock_drift_ppm=drift)
    return paths


def links(name: str) -> tuple[dict, dict]:
    """network prefix -> (MN-HA, {cn address: MN-CN}) and cn address -> HA-CN (ms)."""
    data = tomllib.loads((SAMPLES / f"{name}.toml").read_text())
    cns = {c["name"]: c for c in data["correspondent"]}
    nets = {
        ipaddress.IPv6Network(n["prefix"]): (
            n["ha_delay_ms"],
            {cns[k]["address"]: v for k, v in n["cn_delay_ms"].items()},
        )
        for n in data["network"]
    }
    return nets, {c["address"]: c["ha_delay_ms"] for c in cns.values()}


def handovers(name: str) -> int:
    data = tomllib.loads((SAMPLES / f"{name}.toml").read_text())
    return sum(len(m.get("handover", [])) for m in data["mobile_node"])


@pytest.fixture(scope="module", params=[(c, k) for c in CASES for k in CLOCKS], ids=str)
def merged(request, tmp_path_factory):
    (name, mode), clock = request.param
    sc = scenario(name, mode)
    paths = write_views(sc, tmp_path_factory.mktemp("merged"), CLOCKS[clock])
    diag = Diagnostics()
    df = ebutool.analyze(paths["mn"], paths["ha"], paths["cn"], merge=True, diag=diag)
    alone = ebutool.analyze(paths["mn"])
    return name, clock, sc, df, alone, diag


def test_one_row_per_handover_with_the_mn_views_values(merged):
    name, _, _, df, alone, diag = merged
    assert len(df) == handovers(name) == len(alone)
    assert set(df["vantage"]) == {"multi"}
    for col in ["coa", "kind", "mode", *NUMBERS, "t_handover"]:
        assert list(df[col].astype(object)) == list(alone[col].astype(object)), col
    assert not diag.counts.get("contradicting_views")


def test_one_way_delays_are_the_links(merged):
    name, _, _, df, _, _ = merged
    nets, ha_cn = links(name)
    for row in df.itertuples():
        (mn_ha, mn_cn) = next(v for net, v in nets.items() if ipaddress.IPv6Address(row.coa) in net)
        assert row.owd_mn_ha_ms == pytest.approx(mn_ha, abs=OWD_TOL_MS)
        assert row.owd_mn_cn_ms == pytest.approx(mn_cn[row.cn], abs=OWD_TOL_MS)
        # HA <-> CN: only where a home test of this episode crossed it (else empty, why)
        if is_empty(row.owd_ha_cn_ms):
            assert "owd_ha_cn_unobserved" in row.diagnosis
        else:
            assert row.owd_ha_cn_ms == pytest.approx(ha_cn[row.cn], abs=OWD_TOL_MS)
    assert df["owd_ha_cn_ms"].notna().any()
    # and a direct RTT is twice its one-way delay: the MN view's own measure
    assert (df["rtt_ro_ms"] - 2 * df["owd_mn_cn_ms"]).abs().max() < 2 * OWD_TOL_MS


def test_estimated_offsets_and_drifts_are_synths(merged):
    _, clock, sc, df, _, _ = merged
    clocks = {c["role"]: c for c in df.attrs["clocks"]}
    assert set(clocks) == {"ha", "cn"}
    for role, c in clocks.items():
        offset, drift = CLOCKS[clock][role]
        assert not c["given"] and c["reliable"]
        assert c["clock_drift_ppm"] == pytest.approx(drift, abs=3.0)
        # the offset is given at the reference's first shared message: the drift since
        # the scenario's start is in it (under 5 s x 40 ppm = 0.2 ms, checked exactly)
        since_ms = (c["t_ref_ns"] - sc.start_ns) / 1e6
        assert 0 <= since_ms < sc.duration_ms
        assert c["clock_offset_ms"] == pytest.approx(offset + drift * 1e-6 * since_ms, abs=0.005)
        assert 0 < c["uncertainty_ms"] < 100


def test_cli_merges_and_reports_clocks(tmp_path):
    sc = scenario("standard", "conservative")
    paths = write_views(sc, tmp_path, CLOCKS["skewed"])
    args = [str(paths[v]) for v in ("mn", "ha", "cn")]
    res = run_cli("analyze", *args, "--merge", "-f", "csv")
    assert res.exit_code == 0, res.output
    assert "clock of cn.pcap (cn): +700.0" in res.stderr and "drift +40" in res.stderr
    assert "clock of ha.pcap (ha): -300.0" in res.stderr
    assert res.stdout.count("multi") == 3
    summary = run_cli("analyze", *args, "--merge", "--summary", "-f", "csv")
    table = pd.read_csv(__import__("io").StringIO(summary.stdout))
    clocks = table[table["kind"] == "clock"].set_index("clock_source")
    assert clocks.loc["cn.pcap", "clock_offset_ms"] == pytest.approx(700.04, abs=0.005)
    assert clocks.loc["ha.pcap", "clock_drift_ppm"] == pytest.approx(HA_DRIFT_PPM, abs=3.0)
    # --vantage naming the roles merges too
    named = run_cli(
        "analyze", *args, "-f", "csv", "--vantage", "ha.pcap=ha", "--vantage", "cn.pcap=cn"
    )
    assert named.exit_code == 0 and named.stdout == res.stdout
    # the provenance record of the merged run names the views' clocks (issue 17 item 6)
    record_path = tmp_path / "how.json"
    made = run_cli("analyze", *args, "--merge", "-f", "csv", "--provenance", str(record_path))
    assert made.exit_code == 0, made.stderr
    record = __import__("json").loads(record_path.read_text())
    offsets = {c["source"]: c["clock_offset_ms"] for c in record["clock_offsets"]}
    assert offsets["cn.pcap"] == pytest.approx(700.04, abs=0.005)
    assert "clock_offsets_reason" not in record


def test_without_merge_shared_messages_only_warn(tmp_path):
    paths = write_views(scenario("standard", "conservative"), tmp_path, CLOCKS["skewed"])
    diag = Diagnostics()
    df = ebutool.analyze(paths["mn"], paths["ha"], paths["cn"], diag=diag)
    assert sorted(set(df["vantage"])) == ["cn", "ha", "mn"]
    assert diag.counts["shared_messages"] == 3
    assert df["owd_mn_cn_ms"].isna().all()


def test_a_packet_the_mn_capture_lacks_is_taken_from_another_view(tmp_path):
    sc = scenario("standard", "conservative")
    (tmp_path / "full").mkdir()
    full = write_views(sc, tmp_path / "full", CLOCKS["none"])
    result = simulate(sc)
    # the first BU to the CN (a Mobility Header with the Home Address option, to cn1)
    cn1 = tomllib.loads((SAMPLES / "standard.toml").read_text())["correspondent"][0]["address"]
    index = next(
        i
        for i, (_, wire) in enumerate(result.packets)
        if wire[6] == 60 and str(ipaddress.IPv6Address(wire[24:40])) == cn1 and _mh_type(wire) == 5
    )
    (tmp_path / "gap").mkdir()
    gap = write_views(sc, tmp_path / "gap", CLOCKS["skewed"], drop=index)
    whole = ebutool.analyze(full["mn"])
    holed = ebutool.analyze(gap["mn"])
    # (the guard: the MN capture alone cannot classify that episode, cn_update_not_captured)
    labels = ["kind", "mode", "quality"]
    assert holed[labels].values.tolist() != whole[labels].values.tolist()
    df = ebutool.analyze(gap["mn"], gap["ha"], gap["cn"], merge=True)
    assert df[labels].values.tolist() == whole[labels].values.tolist()
    for col in NUMBERS:
        got, want = df[col].to_numpy(dtype=float), whole[col].to_numpy(dtype=float)
        assert got == pytest.approx(want, abs=0.01, nan_ok=True), col
    assert any("taken from cn.pcap" in n for n in df.attrs["notes"])


def _mh_type(wire: bytes) -> int | None:
    nh, off = wire[6], 40
    while nh in (60, 43, 0):
        nh, off = wire[off], off + (wire[off + 1] + 1) * 8
    return wire[off + 2] if nh == 135 else None


def test_a_wrong_offset_by_hand_gives_contradictions(tmp_path):
    paths = write_views(scenario("standard", "conservative"), tmp_path, CLOCKS["skewed"])
    diag = Diagnostics()
    df = ebutool.analyze(
        paths["mn"],
        paths["ha"],
        paths["cn"],
        merge=True,
        diag=diag,
        clock_offsets={str(paths["cn"]): 0.5},  # 0.2 s off
    )
    assert diag.counts["contradicting_views"] >= 1
    named = [d.message for d in diag.kept if d.code == "contradicting_views"]
    assert any("mn.pcap and cn.pcap" in m for m in named)
    clocks = {c["role"]: c for c in df.attrs["clocks"]}
    assert clocks["cn"]["given"] and clocks["cn"]["clock_offset_ms"] == 500.0
    # the right offset by hand: no contradiction, the links' delays
    diag = Diagnostics()
    df = ebutool.analyze(
        paths["mn"],
        paths["ha"],
        paths["cn"],
        vantage={str(paths["ha"]): "ha", str(paths["cn"]): "cn"},
        diag=diag,
        clock_offsets={"cn.pcap": (0.7, CN_DRIFT_PPM)},
    )
    assert not diag.counts.get("contradicting_views")
    assert df["owd_mn_cn_ms"].round(2).isin([10.0, 12.0]).all()


def test_views_of_different_runs_are_analysed_apart(tmp_path):
    paths = write_views(scenario("standard", "conservative"), tmp_path, CLOCKS["none"])
    other = tmp_path / "other"
    other.mkdir()
    foreign = write_views(scenario("mixed"), other, CLOCKS["none"])
    diag = Diagnostics()
    given = {str(paths["mn"]): "mn", str(foreign["cn"]): "cn"}
    df = ebutool.analyze(paths["mn"], foreign["cn"], diag=diag, vantage=given)
    assert diag.counts["views_share_nothing"] == 1
    assert set(df["vantage"]) == {"mn", "cn"}
    assert df["owd_mn_cn_ms"].isna().all()


def test_an_uncertain_clock_leaves_one_way_delays_empty(tmp_path):
    # the HA far away (80 ms), the CN near (2 ms): the HA's offset is uncertain by about
    # 80 ms, more than the smallest RTT (RTT_RO 4 ms)
    data = tomllib.loads((SAMPLES / "standard.toml").read_text())
    for net in data["network"]:
        net["ha_delay_ms"], net["cn_delay_ms"] = 80, {"cn1": 2}
    from ebutool.synth import parse_scenario

    sc = parse_scenario(data, "far-ha")
    paths = write_views(sc, tmp_path, CLOCKS["skewed"])
    diag = Diagnostics()
    df = ebutool.analyze(paths["mn"], paths["ha"], paths["cn"], merge=True, diag=diag)
    assert diag.counts["clock_unreliable"] == 1
    assert [c["reliable"] for c in df.attrs["clocks"]] == [False, True]  # ha, cn
    # the legs measured with the HA's clock are empty, the MN-CN leg is not
    assert df["owd_mn_ha_ms"].isna().all() and df["owd_ha_cn_ms"].isna().all()
    assert all("clock_unreliable" in d for d in df["diagnosis"])
    assert (df["owd_mn_cn_ms"] - 2.0).abs().max() < OWD_TOL_MS
    assert not math.isnan(df["rtt_ro_ms"].iloc[0])


def test_without_the_mn_the_ha_is_the_reference(tmp_path):
    paths = write_views(scenario("standard", "conservative"), tmp_path, CLOCKS["skewed"])
    diag = Diagnostics()
    df = ebutool.analyze(paths["ha"], paths["cn"], merge=True, diag=diag)
    assert len(df) == handovers("standard") and set(df["vantage"]) == {"multi"}
    assert any("reference ha.pcap (ha)" in n for n in df.attrs["notes"])
    (clock,) = df.attrs["clocks"]
    # the CN's clock against the HA's: +700 - (-300) ms, and the drifts' difference
    assert clock["clock_offset_ms"] == pytest.approx(1000.0, abs=0.3)
    assert clock["clock_drift_ppm"] == pytest.approx(CN_DRIFT_PPM - HA_DRIFT_PPM, abs=3.0)
    # no MN view: what the HA cannot observe stays empty, the legs to the MN too
    assert df["rtt_ro_ms"].isna().all() and df["owd_mn_cn_ms"].isna().all()
    # only what passes the HA is moved there (not the MN's CoTIs and BUs to the CN):
    # the HA's rows and times are its own view's
    alone = ebutool.analyze(paths["ha"])
    assert list(df["t_first_seen"]) == list(alone["t_first_seen"])
    assert any("never pass the ha's point" in n for n in df.attrs["notes"])


def test_without_the_mn_a_cn_first_is_the_reference(tmp_path):
    """The CN's view first: its episodes, and the HA-CN leg from the home tests."""
    paths = write_views(scenario("standard", "conservative"), tmp_path, CLOCKS["skewed"])
    df = ebutool.analyze(paths["cn"], paths["ha"], merge=True)
    assert len(df) == handovers("standard") and set(df["vantage"]) == {"multi"}
    assert df["owd_mn_cn_ms"].isna().all() and df["owd_mn_ha_ms"].isna().all()
    nets, ha_cn = links("standard")
    seen = df["owd_ha_cn_ms"].dropna()
    assert len(seen) == len(df)
    assert (seen - ha_cn[df["cn"].iloc[0]]).abs().max() < OWD_TOL_MS


def test_parallel_reading_gives_the_same_merged_table(tmp_path):
    paths = write_views(scenario("early-conservative"), tmp_path, CLOCKS["skewed"])
    args = [paths["mn"], paths["ha"], paths["cn"]]
    one = ebutool.analyze(*args, merge=True)
    two = ebutool.analyze(*args, merge=True, jobs=2)
    pd.testing.assert_frame_equal(one, two)


def test_bad_clock_offsets_are_usage_errors(tmp_path):
    paths = write_views(scenario("standard", "conservative"), tmp_path, CLOCKS["none"])
    for value in ("cn.pcap", "cn.pcap=soon", "=0.7", "cn.pcap=0.7,fast"):
        res = run_cli("analyze", str(paths["mn"]), str(paths["cn"]), "--clock-offset", value)
        assert res.exit_code == 2 and "--clock-offset" in res.stderr, (value, res.output)
