"""The clock of one view against another (ebutool.analysis.clock), checked against the
offsets and drifts the synthesized views were written with (not against one-way delays,
which a symmetric mean hides)."""

from __future__ import annotations

import pytest

from ebutool.analysis.clock import estimate_clock, paired
from ebutool.core.diagnostics import Diagnostics
from ebutool.stream.reader import read_records
from ebutool.synth import load_scenario, simulate, write_capture
from tests.analysis.test_vantage import SAMPLES

CLOCKS = {"mn": (0.0, 0.0), "ha": (-300.0, -25.0), "cn": (700.0, 40.0)}


@pytest.fixture(scope="module", params=["standard", "early-conservative"])
def views(request, tmp_path_factory):
    sc = load_scenario(str(SAMPLES / f"{request.param}.toml"))
    result = simulate(sc, views=("ha", "cn"))
    out = tmp_path_factory.mktemp("clock")
    records = {}
    for role, (offset, drift) in CLOCKS.items():
        path = out / f"{role}.pcap"
        with open(path, "wb") as fh:
            write_capture(result, fh, view=role, clock_offset_ms=offset, clock_drift_ppm=drift)
        records[role] = list(read_records(str(path), Diagnostics()))
    return sc, records


def true_offset_ms(sc, role: str, t_ref_ns: int) -> float:
    """``role``'s clock minus the MN's (true time) at MN time ``t_ref_ns``."""
    offset, drift = CLOCKS[role]
    return offset + drift * 1e-6 * (t_ref_ns - sc.start_ns) / 1e6


@pytest.mark.parametrize("role", ["ha", "cn"])
def test_offset_and_drift_against_the_mn(views, role):
    sc, records = views
    est, t0 = estimate_clock(records["mn"], records[role], "mn", role)
    assert est.pairs and est.windows >= 2
    assert est.offset_ms == pytest.approx(true_offset_ms(sc, role, t0), abs=0.005)
    assert est.drift_ppm == pytest.approx(CLOCKS[role][1], abs=3.0)
    assert 0 < est.uncertainty_ms < 100  # half the round trip between the two points


def test_ha_against_cn_without_the_mn(views):
    sc, records = views
    est, t0 = estimate_clock(records["ha"], records["cn"], "ha", "cn")
    truth = true_offset_ms(sc, "cn", t0) - true_offset_ms(sc, "ha", t0)
    # t0 is on the HA's clock here: convert to true time for the drift term (tiny)
    assert est.offset_ms == pytest.approx(truth, abs=0.05)
    # and the other way round gives the opposite offset
    back, _ = estimate_clock(records["cn"], records["ha"], "cn", "ha")
    assert back.offset_ms == pytest.approx(-truth, abs=0.05)


def test_no_shared_message_no_estimate(views):
    _, records = views
    est, t0 = estimate_clock(records["mn"], [], "mn", "cn")
    assert est.offset_ms is None and est.pairs == 0 and t0 is None
    assert paired(records["mn"], records["cn"])  # the views do share messages
