"""A CoTI (sent from the care-of address, no Home Address option) that the capture cut
before the reader could decode it: the MN sent a care-of test, its cookie is not in the
capture, so its CoT answers no CoTI the capture can read.  Before, the cut packet was tied
to no MN and the CoT's orphan reply made the handover `request_not_captured` (quality
`t0_uncertain`: "the capture lost the request, the move may be earlier"), though the
request is there.  Now the diagnosis says `coti_cut_off` and t0 stands (RTT_RO: its
CoT, answering no readable CoTI, pairs with it, the only cut one).

Captures are built with the independent builder (tests/support/rfc_scenarios); the pcap
record headers are written by hand (rfc_packets.pcap, cut=) with captured length < original length.
"""

from __future__ import annotations

import pytest

import ebutool
from ebutool.core.diagnostics import Diagnostics
from tests.support.rfc_scenarios import Scenario

H, C = b"homeck01", b"careck01"
T0, COTI_AT = 1000.0, 1000.02
COTI_LEN = 16  # MH 6 + reserved 2 + cookie 8


@pytest.mark.parametrize("left", [1, 4, 10])  # before its MH type, type in, cookie cut
def test_a_cut_coti_is_named_not_a_lost_request(tmp_path, left):
    s = Scenario()
    s.data_up(900, s.old)
    s.data_down(905, s.old)
    s.bu_ha(T0, seq=10)
    s.hoti(T0 + 0.01, H)
    s.coti(COTI_AT, C)
    s.ba_ha(T0 + 20, seq=10)
    s.cot(T0 + 30, C, index=2)
    s.hot(T0 + 80, H, index=1)
    s.bu_cn(T0 + 80.5, seq=20, hidx=1, cidx=2)
    s.ba_cn(T0 + 110.5, seq=20, key=(1, 2))
    s.data_down(T0 + 111, s.new)
    s.data_up(T0 + 112, s.new)
    path = s.write(tmp_path, "cut.pcap", cut={COTI_AT: COTI_LEN - left})
    df = ebutool.analyze(path, diag=Diagnostics(), vantage="mn")
    rows = df[df["cn"].notna()]
    assert len(rows) == 1, df[["cn", "kind", "diagnosis"]].to_string()
    row = rows.iloc[0]
    notes = (row["diagnosis"] or "").split(";")
    assert "coti_cut_off" in notes
    assert "request_not_captured" not in notes and "update_cut_off" not in notes
    assert (row["kind"], row["mode"], row["quality"]) == ("standard", "conservative", "ok")
    # its CoT answers no readable CoTI and it is the only cut one: they pair
    # (tests/analysis/test_cut_coti_rtt_ro.py)
    assert row["rtt_ro_ms"] == pytest.approx(1030.0 - COTI_AT)
