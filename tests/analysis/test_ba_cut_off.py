"""A BA from the CN that the capture (its snaplen) cut inside the BA's fixed fields has
no status or sequence number to read, but it is there: the CN answered.  Before, the
row read as if no BA had come: `bu_unanswered` (`ebu_unanswered` for an EBA) and
`capture_ended_mid_episode`, and mode `optimistic` for an MN whose data left after that
BA.  Now the diagnosis says `ba_cut_off`, no request is called unanswered, the mode of
an MN that sent after the cut BA is `unknown`, and the row is out of statistics
(quality `ambiguous_classification`), as for a BU cut before its Nonce Indices
(`bu_cut_off`).

Captures are built with the independent builder (tests/support/rfc_scenarios); the pcap
record headers are written by hand (rfc_packets.pcap, cut=) with captured length < original length.
"""

from __future__ import annotations

import pytest

import ebutool
from ebutool.core.diagnostics import Diagnostics
from tests.support.rfc_scenarios import Scenario

H, C = b"homeck01", b"careck01"
T0, CUT_AT = 1000.0, 1110.5
# The CN's BA: MH 6 + BA 6 + pad 2 + Binding Authorization Data 12 + pad 6 = 32 octets.
# Cutting 24 leaves 8 (its sequence number gone; 22, its Lifetime only, is read:
# tests/analysis/test_ba_cut_in_lifetime.py), 26 leaves 6 (the fixed MH part, type BA).
CUTS_IN_FIXED_FIELDS = (24, 26)


def _row(tmp_path, cut: int, early: bool = False, data_up_at: float = T0 + 111):
    s = Scenario()
    s.data_up(900, s.old)
    s.data_down(905, s.old)
    s.bu_ha(T0, seq=10)
    s.hoti(T0 + 0.01, H)
    s.coti(T0 + 0.02, C)
    s.ba_ha(T0 + 20, seq=10)
    s.cot(T0 + 30, C, index=2)
    s.hot(T0 + 80, H, index=1)
    if early:  # the EBA is the BA cut; the standard BU that follows is answered whole
        s.bu_cn(T0 + 80.5, seq=20, hidx=1, cidx=0, kbm_cidx=None)
        s.ba_cn(CUT_AT, seq=20, key=(1, None))
        s.bu_cn(T0 + 112, seq=21, hidx=1, cidx=2)
        s.ba_cn(T0 + 140, seq=21, key=(1, 2))
    else:
        s.bu_cn(T0 + 80.5, seq=20, hidx=1, cidx=2)
        s.ba_cn(CUT_AT, seq=20, key=(1, 2))
    s.data_down(T0 + 96, s.new)
    s.data_up(data_up_at, s.new)
    path = s.write(tmp_path, "cut.pcap", cut={CUT_AT: cut})
    df = ebutool.analyze(path, diag=Diagnostics(), vantage="mn")
    rows = df[df["cn"].notna()]
    assert len(rows) == 1, rows[["cn", "kind", "diagnosis"]].to_string()
    return rows.iloc[0]


def test_whole_ba_completes_the_standard_episode(tmp_path):
    row = _row(tmp_path, 0)
    assert (row["kind"], row["mode"], row["quality"]) == ("standard", "conservative", "ok")


@pytest.mark.parametrize("cut", CUTS_IN_FIXED_FIELDS)
def test_ba_cut_in_its_fixed_fields_is_named_not_unanswered(tmp_path, cut):
    row = _row(tmp_path, cut)
    notes = row["diagnosis"].split(";")
    assert "ba_cut_off" in notes
    assert "bu_unanswered" not in notes
    assert "capture_ended_mid_episode" not in notes
    assert row["mode"] == "unknown"  # its data left after the cut BA: it may have waited
    assert row["quality"] == "ambiguous_classification"


def test_data_before_the_cut_ba_is_still_optimistic(tmp_path):
    row = _row(tmp_path, CUTS_IN_FIXED_FIELDS[0], data_up_at=T0 + 100)
    assert row["mode"] == "optimistic"
    assert "ba_cut_off" in row["diagnosis"].split(";")


@pytest.mark.parametrize("cut", CUTS_IN_FIXED_FIELDS)
def test_eba_cut_in_its_fixed_fields_is_named_not_unanswered(tmp_path, cut):
    row = _row(tmp_path, cut, early=True)
    notes = row["diagnosis"].split(";")
    assert "ba_cut_off" in notes
    assert "ebu_unanswered" not in notes
    assert row["quality"] == "ambiguous_classification"
