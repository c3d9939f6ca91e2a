"""A HoT (tunnelled by the HA) that the capture (its snaplen) cut inside its fixed
fields has no cookie, nonce index or token to read, but it is there: the CN answered the
home test.  Before, the row said `hoti_unanswered` (a standard handover's HoTI, a loss not
observed) or `no_home_test` (an early one's, sent before the move: "no home test in the
capture", which holds it).  Now the diagnosis says `hot_cut_off`; RTT_BT stays empty.

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
HOT_LEN = 24  # MH 6 + nonce index 2 + cookie 8 + token 8: all fixed fields
LEFT_IN_FIXED_FIELDS = (6, 10, 20)


def _standard(s: Scenario) -> float:
    s.bu_ha(T0, seq=10)
    s.hoti(T0 + 0.01, H)
    s.coti(T0 + 0.02, C)
    s.ba_ha(T0 + 20, seq=10)
    s.cot(T0 + 30, C, index=2)
    s.hot(T0 + 80, H, index=1)
    s.bu_cn(T0 + 80.5, seq=20, hidx=1, cidx=2)
    s.ba_cn(T0 + 110.5, seq=20, key=(1, 2))
    s.data_down(T0 + 111, s.new)
    s.data_up(T0 + 112, s.new)
    return T0 + 80


def _early(s: Scenario) -> float:
    s.hoti(T0 - 500, H, coa=s.old)
    s.hot(T0 - 400, H, index=1, coa=s.old)
    s.bu_ha(T0, seq=10)
    s.bu_cn(T0 + 0.5, seq=30, hidx=1, cidx=0, kbm_cidx=None)  # the EBU
    s.coti(T0 + 1, C)
    s.ba_cn(T0 + 24, seq=30, key=(1, None))  # the EBA
    s.cot(T0 + 25, C, index=2)
    s.ba_ha(T0 + 40, seq=10)
    s.data_down(T0 + 30, s.new)
    s.data_up(T0 + 41, s.new)
    s.bu_cn(T0 + 50, seq=31, hidx=1, cidx=2)
    s.ba_cn(T0 + 74, seq=31, key=(1, 2))
    return T0 - 400


def _row(tmp_path, build, left: int):
    s = Scenario()
    s.data_up(800, s.old)
    hot_at = build(s)
    path = s.write(tmp_path, "cut.pcap", cut={hot_at: HOT_LEN - left})
    df = ebutool.analyze(path, diag=Diagnostics(), vantage="mn")
    rows = df[df["cn"].notna()]
    assert len(rows) == 1, rows[["cn", "kind", "diagnosis"]].to_string()
    row = rows.iloc[0]
    return row, (row["diagnosis"] or "").split(";")


@pytest.mark.parametrize(("build", "kind"), [(_standard, "standard"), (_early, "early")])
def test_whole_hot(tmp_path, build, kind):
    row, notes = _row(tmp_path, build, HOT_LEN)
    assert (row["kind"], row["quality"], notes) == (kind, "ok", [""])
    assert row["rtt_bt_ms"] == pytest.approx(79.99 if kind == "standard" else 100.0)


@pytest.mark.parametrize("left", LEFT_IN_FIXED_FIELDS)
@pytest.mark.parametrize(("build", "kind"), [(_standard, "standard"), (_early, "early")])
def test_a_hot_cut_in_its_fixed_fields_answered_the_home_test(tmp_path, build, kind, left):
    row, notes = _row(tmp_path, build, left)
    assert notes == ["hot_cut_off"]  # not hoti_unanswered, not no_home_test
    assert row["kind"] == kind
    assert row["rtt_bt_ms"] != row["rtt_bt_ms"]  # empty (NaN): not which HoTI it answered
