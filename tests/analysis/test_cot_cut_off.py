"""A CoT the capture (its snaplen) cut inside its fixed fields (cookie, nonce index,
token) has no content to read, but it is there: the CN answered the CoTI.  Before, the
reader's undecodable packet, sent to the care-of address with no routing header, was tied
to no MN, and the row said `coti_unanswered` (a loss not observed), quality ok.  Now the
diagnosis says `cot_cut_off` and the CoTI is not unanswered.  Its care-of nonce index is
not in the capture either: a later BU with care-of index 0, which that CoT would make
standard had it carried index 0 (DESIGN.md section 3), is `care_of_index_0_ambiguous`
unless its MAC shows its class (before: an EBU, quality ok).

Captures are built with the independent builder (tests/support/rfc_scenarios); the pcap
record headers are written by hand (rfc_packets.pcap, cut=) with captured length < original length.
"""

from __future__ import annotations

import pytest

import ebutool
from ebutool.core.diagnostics import Diagnostics
from tests.support.rfc_scenarios import Scenario

H, C = b"homeck01", b"careck01"
T0, COT_AT = 1000.0, 1030.0
COT_LEN = 24  # MH 6 + nonce index 2 + cookie 8 + token 8: all fixed fields
LEFT_IN_FIXED_FIELDS = (6, 10, 20)


def _row(tmp_path, left: int, cot_index: int = 2, home_test: bool = True):
    """A standard handover whose BU uses the CoT's care-of index ``cot_index``; the CoT
    cut to ``left`` octets of its Mobility Header."""
    s = Scenario()
    s.data_up(900, s.old)
    s.data_down(905, s.old)
    s.bu_ha(T0, seq=10)
    if home_test:
        s.hoti(T0 + 0.01, H)
    s.coti(T0 + 0.02, C)
    s.ba_ha(T0 + 20, seq=10)
    s.cot(COT_AT, C, index=cot_index)
    if home_test:
        s.hot(T0 + 80, H, index=1)
    s.bu_cn(T0 + 80.5, seq=20, hidx=1, cidx=cot_index)
    s.ba_cn(T0 + 110.5, seq=20, key=(1, cot_index))
    s.data_down(T0 + 111, s.new)
    s.data_up(T0 + 112, s.new)
    path = s.write(tmp_path, "cut.pcap", cut={COT_AT: COT_LEN - left})
    df = ebutool.analyze(path, diag=Diagnostics(), vantage="mn")
    rows = df[df["cn"].notna()]
    assert len(rows) == 1, rows[["cn", "kind", "diagnosis"]].to_string()
    row = rows.iloc[0]
    return row, (row["diagnosis"] or "").split(";")


def test_whole_cot(tmp_path):
    row, notes = _row(tmp_path, COT_LEN)
    assert (row["kind"], row["quality"], row["rtt_ro_ms"]) == ("standard", "ok", 30.0 - 0.02)
    assert notes == [""]


@pytest.mark.parametrize("left", LEFT_IN_FIXED_FIELDS)
def test_a_cot_cut_in_its_fixed_fields_answered_the_coti(tmp_path, left):
    row, notes = _row(tmp_path, left)
    assert notes == ["cot_cut_off"]  # not coti_unanswered
    assert (row["kind"], row["quality"]) == ("standard", "ok")  # the rest is whole
    # the one CoTI open, sent once: the cut CoT's arrival is its answer's
    # (tests/analysis/test_cut_cot_rtt_ro.py; two open CoTIs leave it empty)
    assert row["rtt_ro_ms"] == pytest.approx(30.0 - 0.02)


def test_whole_cot_with_index_0_makes_the_bu_standard(tmp_path):
    row, notes = _row(tmp_path, COT_LEN, cot_index=0, home_test=False)
    assert row["kind"] == "standard"
    assert "care_of_index_0_standard" in notes


@pytest.mark.parametrize("left", LEFT_IN_FIXED_FIELDS)
def test_a_bu_with_care_of_index_0_after_a_cut_cot_is_ambiguous(tmp_path, left):
    """No home test in the capture: the BU's MAC cannot be checked either way."""
    row, notes = _row(tmp_path, left, cot_index=0, home_test=False)
    assert "care_of_index_0_ambiguous" in notes
    assert row["quality"] == "ambiguous_classification"
