"""Karn's rule and a CoTI (or HoTI) the capture cut: a CoTI cut before its cookie (coti_cut_off),
sent from the same care-of address to the same CN after a readable CoTI and before that
CoTI's CoT, may be its retransmission (same cookie; RFC 6275 11.6.1 lets the MN resend a
CoTI).  Which copy the CoT answers is then unknown, so RTT_RO (CoTI -> CoT) is withheld,
as for a CoTI sent twice in full.  Before, the readable CoTI counted as sent once and the
CoT gave a sample from the first copy (29.98 ms, where the answer to the second copy at
T+5 would be 25 ms).  Likewise a HoTI cut before its cookie (hoti_cut_off) while a
readable HoTI to that CN is open withholds RTT_BT (it gave 79.99 ms).

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
COTI_AT, CUT_COTI_AT, COT_AT = T0 + 0.02, T0 + 5.0, T0 + 30.0
COTI_LEN = 16  # MH 6 + reserved 2 + cookie 8
COT_LEN = 24  # MH 6 + index 2 + cookie 8 + keygen token 8


def _row(tmp_path, cut_coti_at: float | None, cot_left: int | None = None, cut_hoti_at=None):
    s = Scenario()
    s.data_up(900, s.old)
    s.data_down(905, s.old)
    s.bu_ha(T0, seq=10)
    s.hoti(T0 + 0.01, H)
    s.coti(COTI_AT, C)
    cut = {}
    if cut_coti_at is not None:
        s.coti(cut_coti_at, C)  # the same CoTI again, cut before its cookie below
        cut[cut_coti_at] = COTI_LEN - 8  # its 8 first octets: type in, cookie gone
    if cut_hoti_at is not None:
        s.hoti(cut_hoti_at, H)  # the same HoTI again (tunnelled), cut likewise
        cut[cut_hoti_at] = COTI_LEN - 8  # a HoTI's MH is as long as a CoTI's
    s.ba_ha(T0 + 20, seq=10)
    s.cot(COT_AT, C, index=2)
    s.hot(T0 + 80, H, index=1)
    s.bu_cn(T0 + 80.5, seq=20, hidx=1, cidx=2)
    s.ba_cn(T0 + 110.5, seq=20, key=(1, 2))
    s.data_down(T0 + 111, s.new)
    s.data_up(T0 + 112, s.new)
    if cot_left is not None:
        cut[COT_AT] = COT_LEN - cot_left
    path = s.write(tmp_path, "cut.pcap", cut=cut)
    df = ebutool.analyze(path, diag=Diagnostics(), vantage="mn")
    rows = df[df["cn"].notna()]
    assert len(rows) == 1, rows[["cn", "kind", "diagnosis"]].to_string()
    row = rows.iloc[0]
    return row, (row["diagnosis"] or "").split(";")


@pytest.mark.parametrize("cot_left", [None, 6])  # the CoT read whole, or cut (cookie unread)
def test_a_cut_coti_before_the_cot_withholds_rtt_ro(tmp_path, cot_left):
    row, notes = _row(tmp_path, CUT_COTI_AT, cot_left)
    assert "coti_cut_off" in notes
    assert row["rtt_ro_ms"] != row["rtt_ro_ms"]  # empty (NaN): which copy is unknown
    assert "rtt_ro" in row["karn_excluded"]


def test_a_cut_coti_after_the_cot_leaves_the_sample(tmp_path):
    row, notes = _row(tmp_path, T0 + 40)  # after the CoT: no copy it could answer
    assert row["rtt_ro_ms"] == pytest.approx(COT_AT - COTI_AT)  # 29.98 ms, by hand


def test_a_cut_hoti_before_the_hot_withholds_rtt_bt(tmp_path):
    row, notes = _row(tmp_path, None, cut_hoti_at=T0 + 5)
    assert row["rtt_ro_ms"] == pytest.approx(COT_AT - COTI_AT)  # the care-of test stands
    assert row["rtt_bt_ms"] != row["rtt_bt_ms"]  # empty (NaN): which HoTI copy is unknown
    assert "rtt_bt" in row["karn_excluded"]
