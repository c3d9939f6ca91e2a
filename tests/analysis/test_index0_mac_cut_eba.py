"""A BU with care-of nonce index 0 whose MAC the capture cut is `care_of_index_0_ambiguous`
(tests/analysis/test_index0_mac_cut.py): neither Kbm can be tried on it.  But its answer
can show what the CN took it for: an EBA of the draft's own MH type (--eba-mh-type), or
a BA whose MAC the oracle verifies with Kbm_early (a standard BU's BA has the standard
Kbm).  Such an answer was not used: the row stayed ambiguous (quality
`ambiguous_classification`) although its class was observed.  Now it is `early`, quality
`ok`; a BA that shows nothing (its own MAC cut, or wrong) leaves it ambiguous.

Captures are built with the independent builder (tests/support/rfc_scenarios,
rfc_packets, rr's hashlib arithmetic); the pcap record headers are written by hand
(rfc_packets.pcap, cut=) with captured length < original length.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

import ebutool
from ebutool.core.constants import DEFAULT_CONFIG
from ebutool.core.diagnostics import Diagnostics
from tests.support import rfc_packets as P
from tests.support import rr
from tests.support.rfc_scenarios import Scenario

H, C = b"homeck01", b"careck01"
T0, BU_AT, EBA_AT = 1000.0, 1080.5, 1110.5
MAC_CUTS = (2, 12)  # octets off the 32-octet EBU: its Nonce Indices whole, its MAC not
EBA_MH_TYPE = 11  # RFC 5096's experimental MH type, as a testbed might number the EBA


def _row(tmp_path, ebu_cut: int, eba: str = "ba", eba_cut: int = 0):
    """``eba``: "ba" (BA syntax, Kbm_early), "own" (MH type EBA_MH_TYPE, Kbm_early),
    "wrong" (BA syntax, a MAC of another key)."""
    s = Scenario()
    s.data_up(900, s.old)
    s.data_down(905, s.old)
    s.bu_ha(T0, seq=10)
    s.hoti(T0 + 0.01, H)
    s.coti(T0 + 0.02, C)
    s.ba_ha(T0 + 20, seq=10)
    s.cot(T0 + 30, C, index=2)
    s.hot(T0 + 79, H, index=1)
    s.bu_cn(BU_AT, seq=20, hidx=1, cidx=0, kbm_cidx=None)  # the EBU
    early = s.kbm(s.new, 1, None)
    key = early if eba != "wrong" else bytes(20)
    mh = P.mobility_header(
        EBA_MH_TYPE if eba == "own" else P.MH_BA, P.ba_body(0, 20, 60), [P.AUTH_PLACEHOLDER],
        src=s.cn, dst=s.hoa,
    )  # fmt: skip
    mh = P.set_authenticator(mh, rr.authenticator(key, s.new, s.cn, P.mac_data(mh)), s.cn, s.hoa)
    s.add(EBA_AT, P.packet(s.cn, s.new, P.NH_MH, mh, rh2=s.hoa))
    s.bu_cn(T0 + 112, seq=21, hidx=1, cidx=2)
    s.ba_cn(T0 + 140, seq=21, key=(1, 2))
    s.data_down(T0 + 96, s.new)
    s.data_up(T0 + 111, s.new)
    cuts = {BU_AT: ebu_cut, EBA_AT: eba_cut}
    path = s.write(tmp_path, "cut.pcap", cut=cuts)
    config = replace(DEFAULT_CONFIG, eba_mh_type=EBA_MH_TYPE) if eba == "own" else DEFAULT_CONFIG
    df = ebutool.analyze(path, diag=Diagnostics(), vantage="mn", config=config)
    rows = df[df["cn"].notna()]
    assert len(rows) == 1, rows[["cn", "kind", "diagnosis"]].to_string()
    row = rows.iloc[0]
    return row, (row["diagnosis"] or "").split(";")


@pytest.mark.parametrize("eba", ["ba", "own"])
def test_whole_exchange_is_early_and_ok(tmp_path, eba):
    row, _ = _row(tmp_path, 0, eba)
    assert (row["kind"], row["quality"]) == ("early", "ok")


@pytest.mark.parametrize("cut", MAC_CUTS)
@pytest.mark.parametrize("eba", ["ba", "own"])
def test_an_eba_that_shows_the_early_class_ends_the_ambiguity(tmp_path, cut, eba):
    row, notes = _row(tmp_path, cut, eba)
    assert "care_of_index_0_ambiguous" not in notes
    assert (row["kind"], row["quality"]) == ("early", "ok")
    assert row["auth"] == "unknown"  # the EBU's own MAC is still unchecked


@pytest.mark.parametrize("cut", MAC_CUTS)
def test_an_eba_whose_mac_is_cut_too_shows_nothing(tmp_path, cut):
    row, notes = _row(tmp_path, cut, "ba", eba_cut=2)
    assert "care_of_index_0_ambiguous" in notes
    assert row["quality"] == "ambiguous_classification"


@pytest.mark.parametrize("cut", MAC_CUTS)
def test_an_eba_with_a_wrong_mac_shows_nothing(tmp_path, cut):
    row, notes = _row(tmp_path, cut, "wrong")
    assert "care_of_index_0_ambiguous" in notes
    assert row["quality"] == "ambiguous_classification"


def test_the_early_key_forms_are_the_oracles():
    """The analysis names the oracle's key forms without importing it (layers)."""
    from ebutool.analysis.episodes import EARLY_KEY_FORMS
    from ebutool.oracle import crypto

    assert set(EARLY_KEY_FORMS) == {crypto.KEY_EARLY, crypto.KEY_EARLY_RFC4866}
