"""A Mobility Header message the capture (its snaplen) cut so short that not even its
fixed 6 octets are there.  Its MH type is octet 2: with 3 to 5 octets the type is in the
capture, and a CN's BA cut so is `ba_cut_off` as one cut at 6 or more (before, the
reader kept no octets under 6, and the row said `bu_unanswered`,
`capture_ended_mid_episode`, mode `optimistic`).  With fewer than 3, it is a message of
unknown type from the CN (or the HA) after a request: it may be the answer, so no
request before it is called unanswered either; the diagnosis says `mh_cut_off`
(`ha_mh_cut_off`) and the row is out of statistics.

Captures are built with the independent builder (tests/support/rfc_scenarios); the pcap
record headers are written by hand (rfc_packets.pcap, cut=) with captured length < original length.
"""

from __future__ import annotations

import pytest

import ebutool
from ebutool.core.diagnostics import Diagnostics
from tests.support.rfc_scenarios import Scenario, ns

H, C = b"homeck01", b"careck01"
T0 = 1000.0
COT_AT, BA_AT, HA_BA_AT = T0 + 30, T0 + 110.5, T0 + 20
BA_LEN, COT_LEN, HA_BA_LEN = 32, 24, 16  # the CN's BA, the CoT, the HA's BA (octets)
TYPE_SHOWN = (3, 5)  # octets of the MH left: its type octet among them
TYPE_CUT = (2, 1, 0)  # ... not


def _row(tmp_path, cut_at: float, left: int, whole_len: int, home_only: bool = False):
    """The capture's one row, the message at ``cut_at`` ms cut to ``left`` octets of its
    ``whole_len``-octet Mobility Header."""
    s = Scenario()
    s.data_up(900, s.old)
    s.data_down(905, s.old)
    s.bu_ha(T0, seq=10)
    s.ba_ha(HA_BA_AT, seq=10)
    if not home_only:
        s.hoti(T0 + 0.01, H)
        s.coti(T0 + 0.02, C)
        s.cot(COT_AT, C, index=2)
        s.hot(T0 + 80, H, index=1)
        s.bu_cn(T0 + 80.5, seq=20, hidx=1, cidx=2)
        s.ba_cn(BA_AT, seq=20, key=(1, 2))
        s.data_down(T0 + 96, s.new)
        s.data_up(T0 + 111, s.new)
    path = s.write(tmp_path, "cut.pcap", cut={cut_at: whole_len - left})
    diag = Diagnostics()
    df = ebutool.analyze(path, diag=diag, vantage="mn")
    assert len(df) == 1, df[["cn", "kind", "diagnosis"]].to_string()
    assert diag.counts["malformed_mh"] == 1
    row = df.iloc[0]
    return row, row["diagnosis"].split(";")


@pytest.mark.parametrize("left", TYPE_SHOWN)
def test_a_ba_cut_before_its_6_fixed_octets_still_shows_its_type(tmp_path, left):
    row, notes = _row(tmp_path, BA_AT, left, BA_LEN)
    assert notes == ["ba_cut_off"]  # not bu_unanswered, not capture_ended_mid_episode
    assert (row["mode"], row["quality"]) == ("unknown", "ambiguous_classification")


@pytest.mark.parametrize("left", TYPE_CUT)
def test_a_cn_message_cut_before_its_type_may_be_the_ba(tmp_path, left):
    row, notes = _row(tmp_path, BA_AT, left, BA_LEN)
    assert notes == ["mh_cut_off"]
    assert (row["mode"], row["quality"]) == ("unknown", "ambiguous_classification")


@pytest.mark.parametrize("left", TYPE_CUT)
def test_a_cn_message_cut_before_its_type_may_be_the_cot(tmp_path, left):
    row, notes = _row(tmp_path, COT_AT, left, COT_LEN)
    assert "coti_unanswered" not in notes
    assert "mh_cut_off" in notes
    assert row["quality"] == "ambiguous_classification"


@pytest.mark.parametrize("left", TYPE_CUT)
def test_an_ha_message_cut_before_its_type_may_be_the_ha_ba(tmp_path, left):
    row, notes = _row(tmp_path, HA_BA_AT, left, HA_BA_LEN, home_only=True)
    assert notes == ["ha_mh_cut_off"]  # not ha_bu_unanswered
    assert (row["kind"], row["quality"]) == ("incomplete", "ambiguous_classification")


@pytest.mark.parametrize("left", TYPE_SHOWN)
def test_an_ha_ba_cut_before_its_6_fixed_octets_still_shows_its_type(tmp_path, left):
    row, notes = _row(tmp_path, HA_BA_AT, left, HA_BA_LEN, home_only=True)
    assert notes == ["ha_ba_cut_off"]


def test_a_converted_trace_keeps_the_octets_that_show_the_type(tmp_path):
    """`ebutool convert` writes the 3 octets as mh_hex; the trace reads as the capture."""
    from ebutool.trace.jsonl import record_json

    _row(tmp_path, BA_AT, 3, BA_LEN)
    recs = list(ebutool.read_records(tmp_path / "cut.pcap", Diagnostics()))
    cut = [r for r in recs if r.ts_ns == ns(BA_AT)]
    assert record_json(cut[0])["mh_hex"] == "3b0306"  # next header 59, length 3, type BA


def test_octets_cut_before_the_checksum_name_no_packet_across_views():
    """3 to 5 octets are the same for every message of a type between two nodes: no
    invariant key (the views' matching of one packet seen twice, ebutool.analysis.clock)."""
    from ebutool.analysis.clock import invariant_key
    from ebutool.records.record import Record

    def cut(wire: bytes) -> Record:
        return Record(1, 0, "2001:db8:c::1", "2001:db8:b::100", rh2="2001:db8:1::100", mh_wire=wire)

    assert invariant_key(cut(bytes.fromhex("3b0306"))) is None
    assert invariant_key(cut(bytes.fromhex("3b0306005a11"))) is not None  # its checksum in
