"""A BU with care-of nonce index 0 is an EBU or a standard BU (RFC 6275 does not reserve
index 0; DESIGN.md section 3).  Unless a CoT with care-of index 0 came before it, the
analysis decides by its MAC: standard if the standard Kbm verifies, ambiguous if the
early Kbm fails (docs/analysis.md "Early or standard").  When the capture cut its MAC
(snaplen), neither can be tried: the row was `early`, quality `ok`, as if the MAC had
been checked; now `care_of_index_0_ambiguous`, quality `ambiguous_classification` (here
its EBA's MAC is cut too, so that the answer shows nothing either: an EBA that shows the
class is tests/analysis/test_index0_mac_cut_eba.py).  A BU made standard by a CoT with
index 0 needs no MAC for its class and stays `ok`.

Captures are built with the independent builder (tests/support/rfc_scenarios); the pcap
record headers are written here by hand with captured length < original length.
"""

from __future__ import annotations

import struct

import pytest

import ebutool
from ebutool.core.diagnostics import Diagnostics
from tests.support.rfc_scenarios import Scenario, ns

PCAP_NS_MAGIC, LINKTYPE_RAW = 0xA1B23C4D, 101
H, C = b"homeck01", b"careck01"
T0, BU_AT = 1000.0, 1080.5
# The BU to the CN: MH 6 + BU 6 + Nonce Indices 6 + pad 2 + Binding Authorization Data 12;
# cutting 2 or 12 octets leaves its Nonce Indices whole and its authenticator cut.
MAC_CUTS = (2, 12)


def _row(tmp_path, cot_index: int, cut: int):
    """An MN's handover with a BU (care-of index 0) to the CN: an EBU with the home-only
    Kbm after a CoT with care-of index ``cot_index`` != 0, or, with ``cot_index`` 0, a
    standard BU with the standard Kbm of indices (1, 0)."""
    s = Scenario()
    s.data_up(900, s.old)
    s.data_down(905, s.old)
    s.bu_ha(T0, seq=10)
    s.hoti(T0 + 0.01, H)
    s.coti(T0 + 0.02, C)
    s.ba_ha(T0 + 20, seq=10)
    s.cot(T0 + 30, C, index=cot_index)
    s.hot(T0 + 79, H, index=1)
    if cot_index == 0:
        s.bu_cn(BU_AT, seq=20, hidx=1, cidx=0)
        s.ba_cn(T0 + 110.5, seq=20, key=(1, 0))
    else:
        s.bu_cn(BU_AT, seq=20, hidx=1, cidx=0, kbm_cidx=None)
        s.ba_cn(T0 + 110.5, seq=20, key=(1, None))
        s.bu_cn(T0 + 112, seq=21, hidx=1, cidx=cot_index)
        s.ba_cn(T0 + 140, seq=21, key=(1, cot_index))
    s.data_down(T0 + 96, s.new)
    s.data_up(T0 + 111, s.new)
    out = [struct.pack("<IHHiIII", PCAP_NS_MAGIC, 2, 4, 0, 0, 65535, LINKTYPE_RAW)]
    for ts_ns, data in sorted(s.packets, key=lambda p: p[0]):
        # (the EBA's MAC cut as well: it would show the EBU's class otherwise)
        cut_here = ts_ns == ns(BU_AT) or (cot_index != 0 and ts_ns == ns(T0 + 110.5))
        captured = data[: len(data) - cut] if cut_here else data
        sec, frac = divmod(ts_ns, 1_000_000_000)
        out.append(struct.pack("<IIII", sec, frac, len(captured), len(data)) + captured)
    path = tmp_path / "cut.pcap"
    path.write_bytes(b"".join(out))
    df = ebutool.analyze(path, diag=Diagnostics(), vantage="mn")
    rows = df[df["cn"].notna()]
    assert len(rows) == 1, rows[["cn", "kind", "diagnosis"]].to_string()
    return rows.iloc[0]


def test_whole_ebu_with_care_of_index_0_is_early_and_ok(tmp_path):
    row = _row(tmp_path, cot_index=2, cut=0)
    assert (row["kind"], row["quality"], row["auth"]) == ("early", "ok", "valid")


@pytest.mark.parametrize("cut", MAC_CUTS)
def test_ebu_whose_mac_is_cut_is_ambiguous(tmp_path, cut):
    row = _row(tmp_path, cot_index=2, cut=cut)
    assert row["kind"] == "early"  # presumed, as DESIGN.md says, and the row says so:
    assert row["quality"] == "ambiguous_classification"
    assert "care_of_index_0_ambiguous" in row["diagnosis"].split(";")
    assert row["auth"] == "unknown"


@pytest.mark.parametrize("cut", (0, *MAC_CUTS))
def test_bu_made_standard_by_a_cot_with_index_0_needs_no_mac(tmp_path, cut):
    row = _row(tmp_path, cot_index=0, cut=cut)
    assert (row["kind"], row["quality"]) == ("standard", "ok")
    assert "care_of_index_0_standard" in row["diagnosis"].split(";")
