"""A Mobility Header message from the MN to the CN (not tunnelled: sent from the
care-of address, as a BU or EBU is) that the capture cut before the reader could decode
it, before its MH type octet or after it with type BU: it may be the episode's update.
Before, the row read as if no update had been sent: with the BA lost, the CN's data to
the care-of address made it a `binding_refresh`; with an EBU cut so and its EBA lost,
no CN row at all (the handover `home_only`, quality ok); with the answer whole,
`cn_update_not_captured`.  Now the diagnosis says `update_cut_off`, the mode is
`unknown` and the row is out of statistics (quality `ambiguous_classification`).

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
BU_LEN = 32  # MH 6 + BU 6 + Nonce Indices 6 + pad + Binding Authorization Data 12
LEFTS = (1, 4)  # octets of its MH left: before its MH type (octet 2); its type BU in


def _standard(s: Scenario, answered: bool) -> float:
    s.hoti(T0 + 0.01, H)
    s.coti(T0 + 0.02, C)
    s.ba_ha(T0 + 20, seq=10)
    s.cot(T0 + 30, C, index=2)
    s.hot(T0 + 80, H, index=1)
    s.bu_cn(T0 + 80.5, seq=20, hidx=1, cidx=2)
    if answered:
        s.ba_cn(T0 + 110.5, seq=20, key=(1, 2))
    s.data_down(T0 + 111, s.new)
    s.data_up(T0 + 112, s.new)
    return T0 + 80.5


def _early(s: Scenario, answered: bool) -> float:
    s.hoti(T0 - 500, H, coa=s.old)
    s.hot(T0 - 400, H, index=1, coa=s.old)
    s.bu_cn(T0 + 0.5, seq=20, hidx=1, cidx=0, kbm_cidx=None)  # the EBU
    if answered:
        s.ba_cn(T0 + 24, seq=20, key=(1, None))
    s.ba_ha(T0 + 40, seq=10)
    s.data_down(T0 + 30, s.new)
    s.data_up(T0 + 41, s.new)
    return T0 + 0.5


def _cn_row(tmp_path, build, answered: bool, left: int):
    s = Scenario()
    s.data_up(900, s.old)
    s.data_down(905, s.old)
    s.bu_ha(T0, seq=10)
    at = build(s, answered)
    path = s.write(tmp_path, "cut.pcap", cut={at: BU_LEN - left})
    df = ebutool.analyze(path, diag=Diagnostics(), vantage="mn")
    rows = df[df["cn"].notna()]
    assert len(rows) == 1, df[["cn", "kind", "quality", "diagnosis"]].to_string()
    row = rows.iloc[0]
    return row, (row["diagnosis"] or "").split(";")


@pytest.mark.parametrize("left", LEFTS)
@pytest.mark.parametrize("build", [_standard, _early])
@pytest.mark.parametrize("answered", [False, True])
def test_a_cut_update_is_named_and_kept_out_of_statistics(tmp_path, build, answered, left):
    row, notes = _cn_row(tmp_path, build, answered, left)
    assert "update_cut_off" in notes
    assert "binding_refresh" not in notes
    assert "cn_update_not_captured" not in notes
    assert row["mode"] == "unknown"
    assert row["quality"] == "ambiguous_classification"
