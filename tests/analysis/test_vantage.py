"""Vantage points (issue 13 items 1, 2, 4, 5): captures of one synthesized run taken at the
CN and at the HA, each on its own clock, give rows whose every number is right or empty.

Ground truth comes from the scenario (procedure, mode, care-of addresses, handover
times) and from the packets of each view, read here with a few lines of RFC 8200 /
RFC 6275 header walking (:func:`peek`), not with ebutool's decoder."""

from __future__ import annotations

import dataclasses
import math
import tomllib
from pathlib import Path

import pandas as pd
import pytest

import ebutool
from ebutool.analysis import analyze
from ebutool.core.diagnostics import Diagnostics
from ebutool.synth import parse_scenario, simulate, view_packets, write_capture

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
CN_OFFSET_MS, HA_OFFSET_MS = 700.0, -300.0  # the CN's clock 0.7 s ahead, the HA's 0.3 s behind
CN_DRIFT_PPM, HA_DRIFT_PPM = 40.0, -25.0
TOL_MS = 0.01  # drift over one interval (< 1 s x 40 ppm) and microsecond stamps

MN_VIEW_ONLY = [
    "t_handover",
    "rtt_ha_ms",
    "rtt_bt_ms",
    "rtt_ro_ms",
    "send_latency_ms",
    "recv_latency_ms",
    "std_send_conserv_ms",
    "std_send_optimst_ms",
    "std_recv_ms",
    "early_send_conserv_ms",
    "early_send_optimst_ms",
    "early_recv_ms",
    "rtt_bt_pred_ms",
    "data_gap_send_ms",
]


# Empty in an ambiguous file's rows: the MN-view values, and what only a known vantage
# point away from the MN measures (written out here, not taken from ebutool).
AMBIGUOUS_EMPTY = [
    *MN_VIEW_ONLY,
    "recv_latency_ms",
    "data_gap_recv_ms",
    "t_first_seen",
    "cn_send_interval_ms",
    "cn_recv_interval_ms",
    "cn_home_test_proc_ms",
    "cn_ro_proc_ms",
    "ha_bu_proc_ms",
    "owd_mn_ha_ms",
    "owd_ha_cn_ms",
    "owd_mn_cn_ms",
]


def peek(wire: bytes) -> dict:
    """src, dst (after a type 2 routing header: its address is the MN's home), hao, rh2,
    tunnelled, mh type, udp of one raw IPv6 packet (inner header of a tunnel)."""
    tunnelled = False
    nh, src, dst, off = wire[6], wire[8:24], wire[24:40], 40
    if nh == 41:
        tunnelled, wire = True, wire[40:]
        nh, src, dst, off = wire[6], wire[8:24], wire[24:40], 40
    hao = rh2 = None
    while nh in (60, 43):
        length = (wire[off + 1] + 1) * 8
        if nh == 60:  # Destination Options: find the Home Address option (type 201)
            p = off + 2
            while p < off + length:
                if wire[p] == 0:
                    p += 1
                    continue
                if wire[p] == 201:
                    hao = wire[p + 2 : p + 18]
                p += 2 + wire[p + 1]
        elif wire[off + 2] == 2:  # type 2 routing header
            rh2 = wire[off + 8 : off + 24]
        nh, off = wire[off], off + length
    mh_type = wire[off + 2] if nh == 135 else None
    return {
        "src": str(_addr(src)),
        "dst": str(_addr(dst)),
        "hao": _addr(hao),
        "rh2": _addr(rh2),
        "tunnelled": tunnelled,
        "mh": mh_type,
        "udp": nh == 17,
    }


def _addr(octets: bytes | None) -> str | None:
    import ipaddress

    return None if octets is None else str(ipaddress.IPv6Address(octets))


def scenario(name: str, mode: str | None = None):
    data = tomllib.loads((SAMPLES / f"{name}.toml").read_text())
    if mode is not None:
        for mn in data["mobile_node"]:
            mn["mode"] = mode
    return parse_scenario(data, name)


CASES = [
    ("standard", "conservative"),
    ("standard", "optimistic"),
    ("early-conservative", "conservative"),
    ("early-optimistic", "optimistic"),
]


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"{c[0]}-{c[1]}")
def run(request, tmp_path_factory):
    name, mode = request.param
    sc = scenario(name, mode)
    result = simulate(sc, views=("ha", "cn"))
    out = tmp_path_factory.mktemp("views")
    paths = {}
    for view, offset, drift in (
        ("mn", 0.0, 0.0),
        ("cn", CN_OFFSET_MS, CN_DRIFT_PPM),
        ("ha", HA_OFFSET_MS, HA_DRIFT_PPM),
    ):
        paths[view] = out / f"{view}.pcap"
        with open(paths[view], "wb") as fh:
            write_capture(result, fh, view=view, clock_offset_ms=offset, clock_drift_ppm=drift)
    return sc, result, paths


def windows(sc, offset_ms: float, drift_ppm: float):
    """(care-of address, start, end) in the view's clock (ns) of each handover."""
    (mn,) = sc.mobile_nodes.values()
    times = [h.at_ms for h in mn.handovers] + [sc.duration_ms]

    def clock(ms: float) -> float:
        return sc.start_ns + ms * 1e6 * (1 + drift_ppm * 1e-6) + offset_ms * 1e6

    return [(h.coa, clock(h.at_ms), clock(times[i + 1])) for i, h in enumerate(mn.handovers)]


def cn_truth(packets, coa: str, start: float, end: float) -> dict:
    seen = [(t, peek(w)) for t, w in packets if start <= t < end]
    first = next(t for t, p in seen if p["src"] == coa)
    ro_up = next((t for t, p in seen if p["src"] == coa and p["hao"] and p["udp"]), None)
    ro_down = next((t for t, p in seen if p["dst"] == coa and p["rh2"] and p["udp"]), None)
    return {
        "t_first_seen": first / 1e9,
        "cn_send_interval_ms": None if ro_up is None else (ro_up - first) / 1e6,
        "cn_recv_interval_ms": None if ro_down is None else (ro_down - first) / 1e6,
    }


def is_empty(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def test_cn_view_rows_are_right_or_empty(run):
    sc, result, paths = run
    diag = Diagnostics()
    df = analyze(paths["cn"], diag=diag)
    (mn,) = sc.mobile_nodes.values()
    assert set(df["vantage"]) == {"cn"} and "ambiguous_vantage" not in diag.counts
    assert df.attrs["vantage"][0]["role"] == "cn" and not df.attrs["vantage"][0]["given"]
    assert df[MN_VIEW_ONLY].isna().all().all()  # every row, matched below or not
    assert len(df) == len(mn.handovers)
    packets = view_packets(result, "cn", CN_OFFSET_MS, CN_DRIFT_PPM)
    for i, (coa, start, end) in enumerate(windows(sc, CN_OFFSET_MS, CN_DRIFT_PPM)):
        truth = cn_truth(packets, coa, start, end)
        rows = df[(df["coa"] == coa) & (abs(df["t_first_seen"] - truth["t_first_seen"]) < 1e-6)]
        assert len(rows) == 1, (coa, df[["coa", "t_first_seen"]])
        row = rows.iloc[0]
        # every CN of these runs answers early BUs; leaving home (no earlier care-of
        # address for the home test) is a standard update (the draft's section 4.3)
        from_home = i == 0 and mn.start_coa is None
        assert row["kind"] == ("standard" if from_home else mn.procedure)
        assert row["mode"] in (None, "optimistic")
        if row["mode"] == "optimistic":
            assert mn.mode == "optimistic"
        for col in MN_VIEW_ONLY:
            assert is_empty(row[col]), col
        for col in ("cn_send_interval_ms", "cn_recv_interval_ms"):
            assert abs(row[col] - truth[col]) <= TOL_MS, (col, row[col], truth[col])
        # the simulated nodes process instantly: the CN's processing times are 0
        assert row["cn_home_test_proc_ms"] == 0.0 and row["cn_ro_proc_ms"] == 0.0
        assert row["prev_coa"] != mn.home_address
        assert "unobservable_at_cn" in row["diagnosis"]
        assert is_empty(row["ha_bu_proc_ms"])


def test_ha_view_rows_are_right_or_empty(run):
    sc, result, paths = run
    diag = Diagnostics()
    df = ebutool.analyze(paths["ha"], diag=diag)  # the library's entry point
    (mn,) = sc.mobile_nodes.values()
    assert len(df) and set(df["vantage"]) == {"ha"}
    packets = [(t, peek(w)) for t, w in view_packets(result, "ha", HA_OFFSET_MS, HA_DRIFT_PPM)]
    bus = [t for t, p in packets if p["mh"] == 5]
    bas = [t for t, p in packets if p["mh"] == 6]
    assert len(bus) == len(bas) == len(df)
    for _, row in df.iterrows():
        for col in MN_VIEW_ONLY:
            assert is_empty(row[col]), col
        # home tests passed the HA: whether the MN also bound at a CN is not seen there
        assert is_empty(row["kind"]) and is_empty(row["mode"])
        assert row["cn"] is None and "unobservable_at_ha" in row["diagnosis"]
        # the float nearest the BU's exact time (int / int: ebutool.core.units.seconds)
        assert row["t_first_seen"] in [t / 10**9 for t in bus]
    truth = sorted((ba - bu) / 1e6 for bu, ba in zip(bus, bas, strict=True))
    assert sorted(df["ha_bu_proc_ms"]) == pytest.approx(truth, abs=TOL_MS)


def test_mn_view_is_unchanged_and_detected(run):
    _, _, paths = run
    df = analyze(paths["mn"])
    assert set(df["vantage"]) == {"mn"}
    assert df["rtt_ha_ms"].notna().all() and df["cn_send_interval_ms"].isna().all()


def test_given_vantage_overrides_detection(run):
    _, _, paths = run
    df = ebutool.analyze(paths["mn"], vantage={str(paths["mn"]): "cn"})
    assert set(df["vantage"]) == {"cn"} and df["rtt_ha_ms"].isna().all()
    assert df.attrs["vantage"][0]["given"]


def test_two_views_in_one_file_are_ambiguous(run, tmp_path):
    _, result, _ = run
    both = sorted(result.packets + result.views["cn"], key=lambda p: p[0])
    path = tmp_path / "both.pcap"
    with open(path, "wb") as fh:
        write_capture(dataclasses.replace(result, packets=both), fh)
    diag = Diagnostics()
    df = analyze(path, diag=diag)
    assert diag.counts["ambiguous_vantage"] == 1
    assert len(df) and df["vantage"].isna().all()
    assert all("vantage_unknown" in d for d in df["diagnosis"])
    # every vantage-dependent column empty (docs/analysis.md's vantage table: a value
    # that is "empty" at some vantage point, and the columns measured only away from
    # the MN), whatever the two views would have given
    assert df[AMBIGUOUS_EMPTY].isna().all().all(), df[AMBIGUOUS_EMPTY].notna().sum()
    # and the three that keep a part: only `optimistic`, never `home_only`, never the HoA
    assert set(df["mode"].dropna()) <= {"optimistic"}
    assert "home_only" not in set(df["kind"].dropna())
    assert not (df["prev_coa"] == df["mn"]).any()


def test_views_need_asking_and_clocks_shift(run):
    sc, result, _ = run
    assert set(result.views) == {"ha", "cn"}
    base = view_packets(result, "cn")
    shifted = view_packets(result, "cn", 1000.0, 0.0)
    assert [t - s for (t, _), (s, _) in zip(shifted, base, strict=True)] == [10**9] * len(base)
    with pytest.raises(ValueError):
        view_packets(simulate(sc), "cn")
