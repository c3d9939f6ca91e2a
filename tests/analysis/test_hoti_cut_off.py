"""A HoTI (tunnelled to the HA) that the capture cut before the reader could decode it:
the MN sent a home test, its cookie is not in the capture, so its HoT answers no HoTI the
capture can read.  Before, the row said `no_home_test` ("no home test in the capture"),
though one is there.  Now it says `hoti_cut_off`; RTT_BT stays empty (which HoT answers
it cannot be read).

Captures are built with the independent builder (tests/support/rfc_scenarios); the pcap
record headers are written by hand (rfc_packets.pcap, cut=) with captured length < original length.
"""

from __future__ import annotations

import pytest

import ebutool
from ebutool.core.diagnostics import Diagnostics
from tests.support.rfc_scenarios import Scenario

H, C = b"homeck01", b"careck01"
T0, HOTI_AT = 1000.0, 1000.01
HOTI_LEN = 16  # MH 6 + reserved 2 + cookie 8 (inside the HA tunnel)


@pytest.mark.parametrize("left", [1, 4, 10])  # before its MH type, type in, cookie cut
def test_a_cut_hoti_is_named_not_no_home_test(tmp_path, left):
    s = Scenario()
    s.data_up(900, s.old)
    s.data_down(905, s.old)
    s.bu_ha(T0, seq=10)
    s.hoti(HOTI_AT, H)
    s.coti(T0 + 0.02, C)
    s.ba_ha(T0 + 20, seq=10)
    s.cot(T0 + 30, C, index=2)
    s.hot(T0 + 80, H, index=1)
    s.bu_cn(T0 + 80.5, seq=20, hidx=1, cidx=2)
    s.ba_cn(T0 + 110.5, seq=20, key=(1, 2))
    s.data_down(T0 + 111, s.new)
    s.data_up(T0 + 112, s.new)
    path = s.write(tmp_path, "cut.pcap", cut={HOTI_AT: HOTI_LEN - left})
    df = ebutool.analyze(path, diag=Diagnostics(), vantage="mn")
    rows = df[df["cn"].notna()]
    assert len(rows) == 1, df[["cn", "kind", "diagnosis"]].to_string()
    row = rows.iloc[0]
    notes = (row["diagnosis"] or "").split(";")
    assert "hoti_cut_off" in notes
    assert "no_home_test" not in notes and "update_cut_off" not in notes
    assert (row["kind"], row["mode"]) == ("standard", "conservative")
    # its HoT answers no readable HoTI and it is the only cut one: they pair
    # (tests/analysis/test_cut_hoti_rtt_bt.py)
    assert row["rtt_bt_ms"] == pytest.approx(1080.0 - HOTI_AT)
