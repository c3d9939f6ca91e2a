"""An episode's second reply the capture cut counts as much as its first.  Before, only
the first cut reply's time was kept: a message cut before its MH type (`mh_cut_off`,
maybe the tunnelled HoT) after a cut CoT gave the HoTI sent between the two no possible
answer (`hoti_unanswered`), and a second cut BA after a second BU, or a second cut BA
from the HA after a second BU to the HA, left the last request without its possible
answer (`capture_ended_mid_episode` when the capture stopped soon after it).  Now the
last cut reply answers, maybe, every request sent before it; the mode still reads from
the first (an MN that sent after it may have waited for it).

Captures are built with the independent builder (tests/support/rfc_scenarios); the pcap
record headers are written by hand (rfc_packets.pcap, cut=) with captured length < original length.
"""

from __future__ import annotations

import ebutool
from ebutool.core.diagnostics import Diagnostics
from tests.support.rfc_scenarios import Scenario

H, C = b"homeck01", b"careck01"
T0 = 1000.0
COT_LEN, HOT_LEN, BA_LEN, HA_BA_LEN = 24, 24, 32, 16  # Mobility Header octets
IN_FIXED = 6  # octets left of a message cut inside its fixed fields (its type shown)
BEFORE_TYPE = 1  # octets left of a message cut before its MH type (octet 2)


def _analyze(tmp_path, s: Scenario, cut: dict[float, int]):
    path = s.write(tmp_path, "cut.pcap", cut=cut)
    df = ebutool.analyze(path, diag=Diagnostics(), vantage="mn")
    assert len(df) == 1, df[["cn", "kind", "diagnosis"]].to_string()
    row = df.iloc[0]
    return row, (row["diagnosis"] or "").split(";")


def test_a_message_cut_before_its_type_after_a_cut_cot_may_be_the_hot(tmp_path):
    s = Scenario()
    s.data_up(900, s.old)
    s.data_down(905, s.old)
    s.bu_ha(T0, seq=10)
    s.coti(T0 + 0.02, C)
    s.ba_ha(T0 + 20, seq=10)
    s.cot(T0 + 30, C, index=2)  # cut inside its fixed fields: the first cut reply
    s.hoti(T0 + 40, H)  # sent after the cut CoT
    s.hot(T0 + 80, H, index=1)  # cut before its MH type: the second, maybe its answer
    s.bu_cn(T0 + 80.5, seq=20, hidx=1, cidx=2)
    s.ba_cn(T0 + 110.5, seq=20, key=(1, 2))
    s.data_down(T0 + 111, s.new)
    s.data_up(T0 + 112, s.new)
    cut = {T0 + 30: COT_LEN - IN_FIXED, T0 + 80: HOT_LEN - BEFORE_TYPE}
    row, notes = _analyze(tmp_path, s, cut)
    assert "cot_cut_off" in notes and "mh_cut_off" in notes
    assert "hoti_unanswered" not in notes


def test_a_second_cut_ba_answers_the_second_bu(tmp_path):
    s = Scenario()
    s.data_up(900, s.old)
    s.data_down(905, s.old)
    s.bu_ha(T0, seq=10)
    s.hoti(T0 + 0.01, H)
    s.coti(T0 + 0.02, C)
    s.ba_ha(T0 + 20, seq=10)
    s.cot(T0 + 30, C, index=2)
    s.hot(T0 + 80, H, index=1)
    s.bu_cn(T0 + 80.5, seq=20, hidx=1, cidx=2)
    s.ba_cn(T0 + 110.5, seq=20, key=(1, 2))  # cut: the first cut reply
    s.bu_cn(T0 + 200, seq=21, hidx=1, cidx=2)
    s.ba_cn(T0 + 230, seq=21, key=(1, 2))  # cut: the second, after the last BU
    # the capture ends 30 ms after the last BU (less than INITIAL_BINDACK_TIMEOUT, 1 s)
    cut = {T0 + 110.5: BA_LEN - IN_FIXED, T0 + 230: BA_LEN - IN_FIXED}
    row, notes = _analyze(tmp_path, s, cut)
    assert "ba_cut_off" in notes
    assert "capture_ended_mid_episode" not in notes
    assert "bu_unanswered" not in notes


def test_a_second_cut_ba_from_the_ha_answers_the_second_bu(tmp_path):
    s = Scenario()
    s.data_up(900, s.old)
    s.data_down(905, s.old)
    s.bu_ha(T0, seq=10)
    s.ba_ha(T0 + 20, seq=10)  # cut: the first cut reply
    s.bu_ha(T0 + 2000, seq=11)  # more than INITIAL_BINDACK_TIMEOUT later
    s.ba_ha(T0 + 2020, seq=11)  # cut: the second, after the last BU
    cut = {T0 + 20: HA_BA_LEN - IN_FIXED, T0 + 2020: HA_BA_LEN - IN_FIXED}
    row, notes = _analyze(tmp_path, s, cut)
    assert "ha_ba_cut_off" in notes
    assert "capture_ended_mid_episode" not in notes
    assert "ha_bu_unanswered" not in notes
