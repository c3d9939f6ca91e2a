"""A BA that the capture cut after its Sequence Number, inside its Lifetime (RFC 6275
6.1.8: after the 6-octet MH fixed part, Status 8 bits, K flag and 7 reserved bits,
Sequence Number 16 bits, then Lifetime 16 bits), holds the status and the sequence
number: it answers the BU with that sequence number, accepting or refusing it.  Before,
any BA cut before its 12 fixed octets was of unknown content (`ba_cut_off`,
`ha_ba_cut_off`): mode `unknown`, out of statistics.  Now it is read as a BA whose
Lifetime is unread and whose authenticator cannot be checked, as a BA cut in its options.

Captures are built with the independent builder (tests/support/rfc_scenarios); the pcap
record headers are written by hand (rfc_packets.pcap, cut=) with captured length < original length.
"""

from __future__ import annotations

import struct

import pytest

import ebutool
from ebutool.core.diagnostics import Diagnostics
from tests.support.rfc_scenarios import Scenario, ns

H, C = b"homeck01", b"careck01"
T0, BA_AT, HA_BA_AT = 1000.0, 1110.5, 1020.0
BA_LEN, HA_BA_LEN = 32, 16  # the CN's BA (with its authenticator), the HA's BA
LEFT = 10  # 6 fixed + Status + K/reserved + Sequence: the Lifetime cut (22 off the CN's BA)


def _scenario(status: int = 0, ba_seq: int = 20, ha_status: int = 0) -> Scenario:
    s = Scenario()
    s.data_up(900, s.old)
    s.data_down(905, s.old)
    s.bu_ha(T0, seq=10)
    s.hoti(T0 + 0.01, H)
    s.coti(T0 + 0.02, C)
    s.ba_ha(HA_BA_AT, seq=10, status=ha_status)
    s.cot(T0 + 30, C, index=2)
    s.hot(T0 + 80, H, index=1)
    s.bu_cn(T0 + 80.5, seq=20, hidx=1, cidx=2)
    s.ba_cn(BA_AT, seq=ba_seq, status=status, key=(1, 2))
    s.data_down(T0 + 111, s.new)
    s.data_up(T0 + 112, s.new)
    return s


def _row(tmp_path, s: Scenario, cut: dict[float, int]):
    path = s.write(tmp_path, "cut.pcap", cut=cut)
    diag = Diagnostics()
    df = ebutool.analyze(path, diag=diag, vantage="mn")
    rows = df[df["cn"].notna()]
    assert len(rows) == 1, df[["cn", "kind", "diagnosis"]].to_string()
    row = rows.iloc[0]
    return row, (row["diagnosis"] or "").split(";"), diag


def test_the_capture_holds_status_and_sequence(tmp_path):
    """The layout, by hand: what the reader keeps of the cut BA is its first 10 octets."""
    path = _scenario(status=0).write(tmp_path, "cut.pcap", cut={BA_AT: BA_LEN - LEFT})
    (rec,) = [r for r in ebutool.read_records(path, Diagnostics()) if r.ts_ns == ns(BA_AT)]
    assert rec.mh is None and rec.mh_wire is not None and len(rec.mh_wire) == LEFT
    wire = bytes(rec.mh_wire)
    # next header 59, Header Len 3 (32 octets), MH type 6 (BA), reserved 0
    assert wire[:4] == bytes([59, BA_LEN // 8 - 1, 6, 0])
    assert wire[6:10] == struct.pack("!BBH", 0, 0, 20)  # Status 0, flags 0, Sequence 20


def test_an_accepting_ba_cut_in_its_lifetime_completes_the_episode(tmp_path):
    row, notes, _ = _row(tmp_path, _scenario(), {BA_AT: BA_LEN - LEFT})
    assert "ba_cut_off" not in notes and "bu_unanswered" not in notes
    assert (row["kind"], row["mode"]) == ("standard", "conservative")
    assert row["complete"]


def test_a_refusing_ba_cut_in_its_lifetime_says_its_status(tmp_path):
    row, notes, _ = _row(tmp_path, _scenario(status=129), {BA_AT: BA_LEN - LEFT})
    assert "ba_rejected_129" in notes
    assert "ba_cut_off" not in notes


def test_its_sequence_number_chooses_the_bu_it_answers(tmp_path):
    row, notes, diag = _row(tmp_path, _scenario(ba_seq=99), {BA_AT: BA_LEN - LEFT})
    assert diag.counts["orphan_reply"] == 1  # seq 99 answers no BU
    assert "ba_cut_off" not in notes


@pytest.mark.parametrize("ha_status", [0, 129])
def test_the_has_ba_cut_in_its_lifetime_is_read(tmp_path, ha_status):
    row, notes, _ = _row(tmp_path, _scenario(ha_status=ha_status), {HA_BA_AT: HA_BA_LEN - LEFT})
    assert "ha_ba_cut_off" not in notes
    if ha_status:
        assert "ha_ba_rejected_129" in notes
    else:
        assert row["rtt_ha_ms"] == pytest.approx(HA_BA_AT - T0)
