"""A Mobility Header the capture cut inside its fixed fields (snaplen) cannot be decoded;
the reader keeps its packet (counted, `malformed_mh`) with no message.  The analysis
took it for route-optimised data: a CN's BA cut so at 90 ms became the first data
received (recv_latency_ms 90.0, where the data came at 96.0), an MN's BU cut so at
80.5 ms the first data sent (send_latency_ms 80.5, not 111.0).  Now such a packet is
signalling of unknown type, never a latency's data packet.

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
BU_AT, BA_AT, DATA_DOWN_AT, DATA_UP_AT = 80.5, 90.0, 96.0, 111.0
# The CN's BA and the BU are 32-octet Mobility Headers; a BA's fixed fields end at octet
# 12: cutting 24 or 30 leaves 8 or 2 octets of it (the BU: 8 or 2 of its 12).
CUTS = (24, 30)


def _row(tmp_path, cut_at: float, cut: int):
    s = Scenario()
    s.data_up(900, s.old)
    s.data_down(905, s.old)
    s.bu_ha(T0, seq=10)
    s.hoti(T0 + 0.01, H)
    s.coti(T0 + 0.02, C)
    s.ba_ha(T0 + 20, seq=10)
    s.cot(T0 + 30, C, index=2)
    s.hot(T0 + 80, H, index=1)
    s.bu_cn(T0 + BU_AT, seq=20, hidx=1, cidx=2)
    s.ba_cn(T0 + BA_AT, seq=20, key=(1, 2))
    s.data_down(T0 + DATA_DOWN_AT, s.new)
    s.data_up(T0 + DATA_UP_AT, s.new)
    path = s.write(tmp_path, "cut.pcap", cut={T0 + cut_at: cut})
    diag = Diagnostics()
    df = ebutool.analyze(path, diag=diag, vantage="mn")
    rows = df[df["cn"].notna()]
    assert len(rows) == 1, rows[["cn", "kind", "diagnosis"]].to_string()
    return rows.iloc[0], diag


def test_whole_capture_latencies(tmp_path):
    row, _ = _row(tmp_path, BA_AT, 0)
    assert (row["send_latency_ms"], row["recv_latency_ms"]) == (DATA_UP_AT, DATA_DOWN_AT)


@pytest.mark.parametrize("cut", CUTS)
def test_a_ba_cut_in_its_fixed_fields_is_not_the_first_data_received(tmp_path, cut):
    row, diag = _row(tmp_path, BA_AT, cut)
    assert diag.counts["malformed_mh"] == 1
    assert row["recv_latency_ms"] == DATA_DOWN_AT
    assert row["quality"] != "ok"  # the BU's answer is not readable


@pytest.mark.parametrize("cut", CUTS)
def test_a_bu_cut_in_its_fixed_fields_is_not_the_first_data_sent(tmp_path, cut):
    row, diag = _row(tmp_path, BU_AT, cut)
    assert diag.counts["malformed_mh"] == 1
    assert row["send_latency_ms"] == DATA_UP_AT
    assert row["quality"] != "ok"
