"""A CoTI the capture cut before its cookie (coti_cut_off), and a readable CoT after it
whose cookie matches no CoTI the capture can read: when that cut CoTI is the episode's
only one, the CoT can only answer it, so its send and the CoT's arrival, both in the
capture, give RTT_RO (Karn's rule: it went once).  Before, RTT_RO stayed empty.  Two cut
CoTIs (a retransmission, maybe, or two tests) leave it empty: which one the CoT answers
is unknown (`coti_cut_off` says why).

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
COTI_AT, COT_AT = T0 + 0.02, T0 + 30.0
COTI_LEN = 16  # MH 6 + reserved 2 + cookie 8


def _row(tmp_path, left: int, second_at: float | None = None):
    s = Scenario()
    s.data_up(900, s.old)
    s.data_down(905, s.old)
    s.bu_ha(T0, seq=10)
    s.hoti(T0 + 0.01, H)
    s.coti(COTI_AT, C)
    cut = {COTI_AT: COTI_LEN - left}
    if second_at is not None:
        s.coti(second_at, C)
        cut[second_at] = COTI_LEN - left
    s.ba_ha(T0 + 20, seq=10)
    s.cot(COT_AT, C, index=2)
    s.hot(T0 + 80, H, index=1)
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
def test_the_only_cut_coti_gets_its_rtt_from_the_cot(tmp_path, left):
    row, notes = _row(tmp_path, left)
    assert "coti_cut_off" in notes and "coti_unanswered" not in notes
    assert row["rtt_ro_ms"] == pytest.approx(COT_AT - COTI_AT)  # 29.98 ms, by hand
    assert row["rtt_ro_from"] == "coti_cot"


def test_two_cut_cotis_leave_rtt_ro_empty(tmp_path):
    row, notes = _row(tmp_path, 10, second_at=T0 + 5)
    assert "coti_cut_off" in notes
    assert row["rtt_ro_ms"] != row["rtt_ro_ms"]  # empty (NaN): which CoTI is unknown
