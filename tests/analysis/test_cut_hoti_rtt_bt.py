"""A HoTI the capture cut before its cookie (hoti_cut_off), and a readable HoT after it
whose cookie matches no HoTI the capture can read: when that cut HoTI is the only one
since the CN's last HoT, the HoT can only answer it, so its send and the HoT's arrival,
both in the capture, give RTT_BT (Karn's rule: it went once) and link the home test.
Before, RTT_BT stayed empty.  Two cut HoTIs (a retransmission, maybe) leave it empty:
which one the HoT answers is unknown (`hoti_cut_off` says why).

Captures are built with the independent builder (tests/support/rfc_scenarios); the pcap
record headers are written by hand (rfc_packets.pcap, cut=) with captured length < original length.
"""

from __future__ import annotations

import pytest

import ebutool
from ebutool.core.diagnostics import Diagnostics
from tests.support.rfc_scenarios import Scenario

H, C = b"homeck01", b"careck01"
T0 = 1000.0
HOTI_AT, HOT_AT = T0 + 0.01, T0 + 80.0
HOTI_LEN = 16  # MH 6 + reserved 2 + cookie 8 (inside the HA tunnel)


def _row(tmp_path, left: int, second_at: float | None = None):
    s = Scenario()
    s.data_up(900, s.old)
    s.data_down(905, s.old)
    s.bu_ha(T0, seq=10)
    s.hoti(HOTI_AT, H)
    cut = {HOTI_AT: HOTI_LEN - left}
    if second_at is not None:
        s.hoti(second_at, H)
        cut[second_at] = HOTI_LEN - left
    s.coti(T0 + 0.02, C)
    s.ba_ha(T0 + 20, seq=10)
    s.cot(T0 + 30, C, index=2)
    s.hot(HOT_AT, H, index=1)
    s.bu_cn(T0 + 80.5, seq=20, hidx=1, cidx=2)
    s.ba_cn(T0 + 110.5, seq=20, key=(1, 2))
    s.data_down(T0 + 111, s.new)
    s.data_up(T0 + 112, s.new)
    path = s.write(tmp_path, "cut.pcap", cut=cut)
    df = ebutool.analyze(path, diag=Diagnostics(), vantage="mn")
    rows = df[df["cn"].notna()]
    assert len(rows) == 1, rows[["cn", "kind", "diagnosis"]].to_string()
    row = rows.iloc[0]
    return row, (row["diagnosis"] or "").split(";")


@pytest.mark.parametrize("left", [4, 10])  # its MH type in, its cookie cut
def test_the_only_cut_hoti_gets_its_rtt_from_the_hot(tmp_path, left):
    row, notes = _row(tmp_path, left)
    assert "hoti_cut_off" in notes and "no_home_test" not in notes
    assert row["rtt_bt_ms"] == pytest.approx(HOT_AT - HOTI_AT)  # 79.99 ms, by hand


def test_two_cut_hotis_leave_rtt_bt_empty(tmp_path):
    row, notes = _row(tmp_path, 10, second_at=T0 + 5)
    assert "hoti_cut_off" in notes
    assert row["rtt_bt_ms"] != row["rtt_bt_ms"]  # empty (NaN): which HoTI is unknown
