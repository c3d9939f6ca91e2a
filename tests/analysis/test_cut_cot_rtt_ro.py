"""A CoT the capture cut inside its fixed fields, when exactly one CoTI of that care-of
address to that CN is open and was sent once: the CoT can only answer it, and its arrival
time is in the capture though its body is not, so RTT_RO is measured (CoTI sent -> cut
CoT arrived).  Before, a cut CoT never gave RTT_RO.  Two open CoTIs (or a CoTI sent
twice, Karn's rule) leave it empty: which one it answered is unknown (`cot_cut_off` says
so).

Captures are built with the independent builder (tests/support/rfc_scenarios); the pcap
record headers are written by hand (rfc_packets.pcap, cut=) with captured length < original length.
"""

from __future__ import annotations

import pytest

import ebutool
from ebutool.core.diagnostics import Diagnostics
from tests.support.rfc_scenarios import Scenario

H, C, C2 = b"homeck01", b"careck01", b"careck02"
T0 = 1000.0
COTI_AT, COT_AT = T0 + 0.02, T0 + 30.0
COT_LEN, LEFT = 24, 6  # the CoT's Mobility Header, cut to its 6 fixed octets


def _row(tmp_path, second_coti: float | None = None, retransmit: float | None = None):
    s = Scenario()
    s.data_up(900, s.old)
    s.data_down(905, s.old)
    s.bu_ha(T0, seq=10)
    s.hoti(T0 + 0.01, H)
    s.coti(COTI_AT, C)
    if second_coti is not None:
        s.coti(second_coti, C2)
    if retransmit is not None:
        s.coti(retransmit, C)
    s.ba_ha(T0 + 20, seq=10)
    s.cot(COT_AT, C, index=2)
    s.hot(T0 + 80, H, index=1)
    s.bu_cn(T0 + 80.5, seq=20, hidx=1, cidx=2)
    s.ba_cn(T0 + 110.5, seq=20, key=(1, 2))
    s.data_down(T0 + 111, s.new)
    s.data_up(T0 + 112, s.new)
    path = s.write(tmp_path, "cut.pcap", cut={COT_AT: COT_LEN - LEFT})
    df = ebutool.analyze(path, diag=Diagnostics(), vantage="mn")
    rows = df[df["cn"].notna()]
    assert len(rows) == 1, rows[["cn", "kind", "diagnosis"]].to_string()
    row = rows.iloc[0]
    return row, (row["diagnosis"] or "").split(";")


def test_the_one_open_coti_gets_its_rtt_from_the_cut_cot(tmp_path):
    row, notes = _row(tmp_path)
    assert "cot_cut_off" in notes and "coti_unanswered" not in notes
    assert row["rtt_ro_ms"] == pytest.approx(COT_AT - COTI_AT)  # 29.98 ms, by hand
    assert row["rtt_ro_from"] == "coti_cot"


def test_two_open_cotis_leave_rtt_ro_empty(tmp_path):
    row, notes = _row(tmp_path, second_coti=T0 + 5)
    assert "cot_cut_off" in notes and "coti_unanswered" not in notes
    assert row["rtt_ro_ms"] != row["rtt_ro_ms"]  # empty (NaN): which CoTI is unknown


def test_a_coti_sent_twice_leaves_rtt_ro_empty(tmp_path):
    row, notes = _row(tmp_path, retransmit=T0 + 5)
    assert "cot_cut_off" in notes
    assert row["rtt_ro_ms"] != row["rtt_ro_ms"]  # Karn's rule: which copy is unknown
