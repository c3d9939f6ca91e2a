"""A CN's EBA that the capture (its snap length) cut inside its fixed fields is no
Mobility Header message the reader can decode, but it is signalling, not route-optimised
data: the analysis says so (ba_cut_off, tests/analysis/test_ba_cut_off.py).  The replay
counted it as a CN packet to the tentative binding's care-of address: the exposure row
of the EBU's tentative binding got 1 unverified packet of 96 octets (the EBA's IPv6
length) where the whole capture has 0.

Captures are built with the independent builder (tests/support/rfc_scenarios); the pcap
record headers are written by hand (rfc_packets.pcap, cut=) with captured length < original length.
"""

from __future__ import annotations

import pytest

from ebutool.cn_replay import replay
from ebutool.core.diagnostics import Diagnostics
from tests.support.rfc_scenarios import Scenario

H, C = b"homeck01", b"careck01"
T0, EBA_AT = 1000.0, 1110.5
# The CN's EBA: MH 6 + BA 6 + pad 2 + Binding Authorization Data 12 + pad 6 = 32 octets;
# cutting 22 leaves 10 (inside the fixed fields), 26 leaves the 6 octets of the MH part.
CUTS = (0, 22, 26)


def _capture(tmp_path, cut: int):
    s = Scenario()
    s.data_down(905, s.old)
    s.bu_ha(T0, seq=10)
    s.hoti(T0 + 0.01, H)
    s.coti(T0 + 0.02, C)
    s.ba_ha(T0 + 20, seq=10)
    s.cot(T0 + 30, C, index=2)
    s.hot(T0 + 80, H, index=1)
    s.bu_cn(T0 + 80.5, seq=20, hidx=1, cidx=0, kbm_cidx=None)  # an EBU (early Kbm)
    s.ba_cn(EBA_AT, seq=20, key=(1, None))  # its EBA, the packet cut
    s.bu_cn(T0 + 112, seq=21, hidx=1, cidx=2)  # the standard BU that verifies it
    s.ba_cn(T0 + 140, seq=21, key=(1, 2))
    path = s.write(tmp_path, "cut.pcap", cut={EBA_AT: cut})
    return path


@pytest.mark.parametrize("cut", CUTS)
def test_a_cut_eba_is_not_a_cn_packet_to_the_tentative_binding(tmp_path, cut):
    diag = Diagnostics()
    result = replay(_capture(tmp_path, cut), diag=diag)
    rows = result.exposure
    assert len(rows) == 1, rows.to_string()
    # no CN data to the new care-of address in this capture: nothing was sent to it
    # while the binding was tentative, whether the EBA came whole or cut
    assert rows.iloc[0]["unverified_packets"] == 0
    assert rows.iloc[0]["unverified_bytes"] == 0
    if cut:
        assert diag.counts.get("malformed_mh") == 1  # the cut EBA is still diagnosed
