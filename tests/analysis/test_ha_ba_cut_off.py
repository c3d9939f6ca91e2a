"""A BA from the home agent that the capture (its snaplen) cut inside the BA's fixed
fields has no status or sequence number to read, but it is there: the HA answered.
Before, the home registration read as never acknowledged: `ha_bu_unanswered` (quality
`ha_bu_unanswered`, a failure that was not observed), an HA-only row also
`capture_ended_mid_episode`, and an early MN whose data left after the EBA and after that
BA had mode `eba_only` (as if it had not waited for the HA's BA).  Now the diagnosis says
`ha_ba_cut_off`, the home registration is not called unanswered, that MN's mode is
`unknown`, and the row is out of statistics (quality `ambiguous_classification`), as
for the CN's BA (`ba_cut_off`, tests/analysis/test_ba_cut_off.py).

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
HA_BA_AT = T0 + 40
# The HA's BA: MH 6 + BA 6 + PadN 4 = 16 octets.  Cutting 8 leaves 8 (its sequence
# number and lifetime gone), 10 leaves 6 (the fixed MH part, type BA).  (Cutting 6
# leaves 10: status and sequence number, read: tests/analysis/test_ba_cut_in_lifetime.py)
CUTS_IN_FIXED_FIELDS = (8, 10)


def _rows(tmp_path, s: Scenario, cut: int):
    path = s.write(tmp_path, "cut.pcap", cut={HA_BA_AT: cut})
    diag = Diagnostics()
    df = ebutool.analyze(path, diag=diag, vantage="mn")
    assert len(df) == 1, df[["cn", "kind", "diagnosis"]].to_string()
    assert diag.counts.get("malformed_mh", 0) == (1 if cut else 0)
    return df.iloc[0]


def _home_only() -> Scenario:
    s = Scenario()
    s.data_up(900, s.old)
    s.bu_ha(T0, seq=10)
    s.ba_ha(HA_BA_AT, seq=10)
    return s


def _standard() -> Scenario:
    s = Scenario()
    s.data_up(900, s.old)
    s.data_down(905, s.old)
    s.bu_ha(T0, seq=10)
    s.hoti(T0 + 0.01, H)
    s.coti(T0 + 0.02, C)
    s.ba_ha(HA_BA_AT, seq=10)
    s.cot(T0 + 30, C, index=2)
    s.hot(T0 + 80, H, index=1)
    s.bu_cn(T0 + 80.5, seq=20, hidx=1, cidx=2)
    s.ba_cn(T0 + 110.5, seq=20, key=(1, 2))
    s.data_down(T0 + 111, s.new)
    s.data_up(T0 + 112, s.new)
    return s


def _early(data_up_at: float) -> Scenario:
    """An early handover: the EBA at +24 ms, the HA's BA at +40 ms."""
    s = Scenario()
    s.hoti(T0 - 500, b"E" * 8, coa=s.old)
    s.hot(T0 - 400, b"E" * 8, index=1, coa=s.old)
    s.bu_ha(T0, seq=10)
    s.bu_cn(T0 + 0.5, seq=30, hidx=1, cidx=0, kbm_cidx=None)  # the EBU (care-of index 0)
    s.coti(T0 + 1, C)
    s.ba_cn(T0 + 24, seq=30, key=(1, None))  # the EBA
    s.cot(T0 + 25, C, index=2)
    s.ba_ha(HA_BA_AT, seq=10)
    s.data_down(T0 + 30, s.new)
    s.data_up(data_up_at, s.new)
    s.bu_cn(T0 + 50, seq=31, hidx=1, cidx=2)
    s.ba_cn(T0 + 74, seq=31, key=(1, 2))
    return s


def test_whole_home_registration_is_ok(tmp_path):
    row = _rows(tmp_path, _home_only(), 0)
    assert (row["kind"], row["quality"], row["rtt_ha_ms"]) == ("home_only", "ok", 40.0)
    row = _rows(tmp_path, _standard(), 0)
    assert (row["kind"], row["quality"]) == ("standard", "ok")


@pytest.mark.parametrize("cut", CUTS_IN_FIXED_FIELDS)
def test_ha_only_row_names_the_cut_ba_not_an_unanswered_bu(tmp_path, cut):
    row = _rows(tmp_path, _home_only(), cut)
    notes = row["diagnosis"].split(";")
    assert notes == ["ha_ba_cut_off"]  # not ha_bu_unanswered, not capture_ended_mid_episode
    assert (row["kind"], row["complete"]) == ("incomplete", False)  # accepted? unknown
    assert row["quality"] == "ambiguous_classification"
    assert row["rtt_ha_ms"] != row["rtt_ha_ms"]  # empty (NaN): no status to read


@pytest.mark.parametrize("cut", CUTS_IN_FIXED_FIELDS)
def test_cn_row_of_a_cut_home_registration_is_out_of_statistics(tmp_path, cut):
    row = _rows(tmp_path, _standard(), cut)
    notes = row["diagnosis"].split(";")
    assert "ha_ba_cut_off" in notes
    assert "ha_bu_unanswered" not in notes
    assert row["quality"] == "ambiguous_classification"
    assert row["kind"] == "standard"  # the CN's own procedure is whole


def test_early_mn_whose_data_left_after_the_cut_ha_ba_has_mode_unknown(tmp_path):
    whole = _rows(tmp_path, _early(T0 + 41), 0)
    assert (whole["kind"], whole["mode"], whole["quality"]) == ("early", "conservative", "ok")
    row = _rows(tmp_path, _early(T0 + 41), CUTS_IN_FIXED_FIELDS[0])
    assert row["mode"] == "unknown"  # it may have waited for that BA: conservative or not
    assert row["quality"] == "ambiguous_classification"


def test_early_mn_whose_data_left_before_the_cut_ha_ba_is_still_eba_only(tmp_path):
    row = _rows(tmp_path, _early(T0 + 35), CUTS_IN_FIXED_FIELDS[0])
    assert row["mode"] == "eba_only"  # after the EBA, before any BA from the HA
    assert "ha_ba_cut_off" in row["diagnosis"].split(";")
