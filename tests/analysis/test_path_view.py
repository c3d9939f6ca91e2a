"""The access router's view (issue 13 item 5): ``simulate(..., views=("ar",))`` captures
both interfaces of the MN's access router, ``ar_delay_ms`` from the MN, and the links can
be asymmetric (``uplink_extra_ms``).  The view is detected as ``path``, merges with the
others, and the clock estimates are checked against the offsets synth was given: under
asymmetric links they err by half the asymmetry (the symmetric-path assumption), which
the one-way delays' mean of both directions hides.

Ground truth: the scenario's numbers (tomllib) and the clocks given to write_capture."""

from __future__ import annotations

import ipaddress
import tomllib

import pytest

import ebutool
from ebutool.core.diagnostics import Diagnostics
from ebutool.synth import parse_scenario, simulate, write_capture
from tests.analysis.test_vantage import SAMPLES

AR_DELAY_MS, UPLINK_EXTRA_MS = 2.0, 6.0
CLOCKS = {"mn": (0.0, 0.0), "ar": (150.0, 10.0), "ha": (-300.0, -25.0), "cn": (700.0, 40.0)}


@pytest.fixture(scope="module", params=["standard", "early-conservative"])
def views(request, tmp_path_factory):
    data = tomllib.loads((SAMPLES / f"{request.param}.toml").read_text())
    for net in data["network"]:
        net["ar_delay_ms"], net["uplink_extra_ms"] = AR_DELAY_MS, UPLINK_EXTRA_MS
    sc = parse_scenario(data, request.param)
    result = simulate(sc, views=("ha", "cn", "ar"))
    out = tmp_path_factory.mktemp("path")
    paths = {}
    for role, (offset, drift) in CLOCKS.items():
        paths[role] = out / f"{role}.pcap"
        with open(paths[role], "wb") as fh:
            write_capture(result, fh, view=role, clock_offset_ms=offset, clock_drift_ppm=drift)
    return data, sc, paths


def test_the_access_router_is_detected_as_path(views):
    _, _, paths = views
    df = ebutool.analyze(paths["ar"])
    (decision,) = df.attrs["vantage"]
    assert decision["role"] == "path" and "forwarded" in decision["evidence"]
    assert set(df["vantage"]) == {"path"} and df["rtt_ha_ms"].isna().all()
    # the MN's own capture is still the MN's
    assert ebutool.analyze(paths["mn"]).attrs["vantage"][0]["role"] == "mn"


def test_four_views_merged_with_asymmetric_links(views):
    data, sc, paths = views
    diag = Diagnostics()
    df = ebutool.analyze(*(paths[r] for r in ("mn", "ar", "ha", "cn")), merge=True, diag=diag)
    alone = ebutool.analyze(paths["mn"])
    assert len(df) == len(alone) == 3 and set(df["vantage"]) == {"multi"}
    assert list(df["rtt_ro_ms"]) == list(alone["rtt_ro_ms"])
    assert not diag.counts.get("contradicting_views")
    nets = {ipaddress.IPv6Network(n["prefix"]): n for n in data["network"]}
    ha_cn = data["correspondent"][0]["ha_delay_ms"]
    for row in df.itertuples():
        net = next(n for p, n in nets.items() if ipaddress.IPv6Address(row.coa) in p)
        # the mean of both directions: up = down + UPLINK_EXTRA_MS
        assert row.owd_mn_ha_ms == pytest.approx(net["ha_delay_ms"] + UPLINK_EXTRA_MS / 2, abs=0.01)
        assert row.owd_mn_cn_ms == pytest.approx(
            next(iter(net["cn_delay_ms"].values())) + UPLINK_EXTRA_MS / 2, abs=0.01
        )
        if row.owd_ha_cn_ms == row.owd_ha_cn_ms:  # not NaN
            assert row.owd_ha_cn_ms == pytest.approx(ha_cn, abs=0.01)
    clocks = {c["role"]: c for c in df.attrs["clocks"]}
    assert set(clocks) == {"path", "ha", "cn"}
    for role, view in (("path", "ar"), ("ha", "ha"), ("cn", "cn")):
        offset, drift = CLOCKS[view]
        c = clocks[role]
        truth = offset + drift * 1e-6 * (c["t_ref_ns"] - sc.start_ns) / 1e6
        # the MN-AR link is symmetric; past the router the uplink is UPLINK_EXTRA_MS
        # longer, so the symmetric estimate is off by half of it (later clock seen ahead)
        error = 0.0 if role == "path" else UPLINK_EXTRA_MS / 2
        assert c["clock_offset_ms"] == pytest.approx(truth + error, abs=0.01)
        assert abs(c["clock_offset_ms"] - truth) <= c["uncertainty_ms"]
        assert c["clock_drift_ppm"] == pytest.approx(drift, abs=3.0)
