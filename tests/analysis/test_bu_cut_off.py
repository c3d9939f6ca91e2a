"""A BU to the CN that the capture cut (snaplen) before its Nonce Indices option hides
its care-of nonce index, the one field that tells an EBU (index 0, DESIGN.md section 3)
from a standard BU.  Before, such an early handover read as `standard` with quality
`ok` (its EBU's type unknown, the reader labels it BU); now its quality is
`ambiguous_classification` (diagnosis `bu_cut_off`), so it leaves statistics.

Captures are built with the independent builder (tests/support/rfc_scenarios); the pcap
record headers are written by hand (rfc_packets.pcap, cut=) with captured length < original length.
"""

from __future__ import annotations

import struct

import pytest

import ebutool
from ebutool.core.diagnostics import Diagnostics
from tests.support import rfc_packets as P
from tests.support import rr
from tests.support.rfc_scenarios import Scenario

H, C = b"homeck01", b"careck01"
T0 = 1000.0
# The BU to the CN: MH 6 + BU 6 + Nonce Indices 6 (octets 12-17) + pad 2 + BAD 12 = 32
CUT_BEFORE_NONCE_INDICES, CUT_AFTER_NONCE_INDICES = 20, 2


def _capture(tmp_path, early: bool, cut: int) -> tuple:
    s = Scenario()
    s.data_up(900, s.old)
    s.data_down(905, s.old)
    s.bu_ha(T0, seq=10)
    s.hoti(T0 + 0.01, H)
    s.coti(T0 + 0.02, C)
    s.ba_ha(T0 + 20, seq=10)
    s.cot(T0 + 30, C, index=2)
    s.hot(T0 + 80, H, index=1)
    if early:  # an EBU (care-of index 0, home-only Kbm) and its EBA
        s.bu_cn(T0 + 80.5, seq=20, hidx=1, cidx=0, kbm_cidx=None)
        s.ba_cn(T0 + 110.5, seq=20, key=(1, None))
        s.bu_cn(T0 + 112, seq=21, hidx=1, cidx=2)  # the standard BU that follows
        s.ba_cn(T0 + 140, seq=21, key=(1, 2))
    else:
        s.bu_cn(T0 + 80.5, seq=20, hidx=1, cidx=2)
        s.ba_cn(T0 + 110.5, seq=20, key=(1, 2))
    s.data_down(T0 + 96, s.new)
    s.data_up(T0 + 111, s.new)
    path = s.write(tmp_path, "cut.pcap", cut={T0 + 80.5: cut})
    df = ebutool.analyze(path, diag=Diagnostics(), vantage="mn")
    rows = df[df["cn"].notna()]
    assert len(rows) == 1, rows[["cn", "kind", "diagnosis"]].to_string()
    return rows.iloc[0]


@pytest.mark.parametrize("early", [True, False])
def test_whole_bu_is_classified_with_quality_ok(tmp_path, early):
    row = _capture(tmp_path, early, 0)
    assert (row["kind"], row["quality"]) == ("early" if early else "standard", "ok")


@pytest.mark.parametrize("early", [True, False])
def test_bu_cut_before_its_nonce_indices_is_ambiguous(tmp_path, early):
    row = _capture(tmp_path, early, CUT_BEFORE_NONCE_INDICES)
    assert row["quality"] == "ambiguous_classification"
    assert "bu_cut_off" in row["diagnosis"].split(";")


@pytest.mark.parametrize("early", [True, False])
def test_bu_cut_after_its_nonce_indices_is_still_classified(tmp_path, early):
    """Only its MAC's tail is gone: the care-of index is there, the kind is known."""
    row = _capture(tmp_path, early, CUT_AFTER_NONCE_INDICES)
    assert row["kind"] == ("early" if early else "standard")
    assert "bu_cut_off" not in (row["diagnosis"] or "")
    assert row["auth"] == "unknown"  # its MAC cannot be checked: not valid, not invalid


def _ebu_with_malformed_nonce_indices(s: Scenario, t: float, seq: int) -> None:
    """An EBU (home index 1, care-of index 0, home-only Kbm) whose Nonce Indices option
    is 6 octets long (RFC 6275 6.2.6: 4), built by hand as Scenario.bu_cn builds one."""
    bad_ni = (P.OPT_NONCE, struct.pack("!HHH", 1, 0, 0), (2, 0))
    body = P.bu_body(seq, P.BU_A, 60)
    mh = P.mobility_header(P.MH_BU, body, [bad_ni, P.AUTH_PLACEHOLDER], src=s.hoa, dst=s.cn)
    mac = rr.authenticator(s.kbm(s.new, 1, None), s.new, s.cn, P.mac_data(mh))
    mh = P.set_authenticator(mh, mac, s.hoa, s.cn)
    s.add(t, P.packet(s.new, s.cn, P.NH_MH, mh, hoa=s.hoa))


def test_a_bu_with_a_malformed_nonce_indices_option_is_ambiguous(tmp_path):
    """Its care-of index cannot be read either: it was taken for a standard BU, quality
    ok (and the oracle said "no Nonce Indices option")."""
    s = Scenario()
    s.data_up(900, s.old)
    s.bu_ha(T0, seq=10)
    s.hoti(T0 + 0.01, H)
    s.ba_ha(T0 + 20, seq=10)
    s.hot(T0 + 15, H, index=1)
    _ebu_with_malformed_nonce_indices(s, T0 + 16, seq=20)
    s.data_up(T0 + 17, s.new)
    s.ba_cn(T0 + 40, seq=20, key=(1, None))
    s.data_down(T0 + 45, s.new)
    path = s.write(tmp_path)
    row = ebutool.analyze(path, diag=Diagnostics(), vantage="mn").query("cn.notna()").iloc[0]
    assert row["quality"] == "ambiguous_classification"
    assert "nonce_indices_malformed" in row["diagnosis"].split(";")
    bu = ebutool.verify(path).query("seq == 20 and msg in ('BU', 'EBU')").iloc[0]
    assert (bu["verdict"], bu["reason"]) == (
        "invalid",
        "malformed Nonce Indices option (6 octets, not 4)",
    )
