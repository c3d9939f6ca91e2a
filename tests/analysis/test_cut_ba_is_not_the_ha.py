"""A CN's accepting BA carries Binding Authorization Data (RFC 6275 6.1.8), an HA's does
not, so an accepting BA without it names the MN's home agent when the capture holds no
home registration.  A CN's BA the capture cut 2 octets short (its Binding Authorization
Data incomplete) made the CN the MN's HA: the row's `ha` was the CN, the BU
`bu_unanswered`, kind `incomplete`.  Now a cut BA names no HA.

Captures are built with the independent builder (tests/support/rfc_scenarios); the pcap
record headers are written by hand (rfc_packets.pcap, cut=) with captured length < original length.
"""

from __future__ import annotations

import pytest

import ebutool
from ebutool.core.diagnostics import Diagnostics
from tests.support.rfc_scenarios import Scenario

C = b"careck01"
T0, BA_AT = 1000.0, 1090.0


@pytest.mark.parametrize("cut", [0, 2, 8])
def test_a_cut_cn_ba_does_not_make_the_cn_the_home_agent(tmp_path, cut):
    s = Scenario()  # no home registration or home test in the capture (it began later)
    s.data_up(900, s.old)
    s.data_down(905, s.old)
    s.coti(T0 + 0.02, C)
    s.cot(T0 + 30, C, index=2)
    s.bu_cn(T0 + 80.5, seq=20, hidx=1, cidx=2)
    s.ba_cn(BA_AT, seq=20, key=(1, 2))
    s.data_down(T0 + 96, s.new)
    s.data_up(T0 + 111, s.new)
    path = s.write(tmp_path, "cut.pcap", cut={BA_AT: cut})
    df = ebutool.analyze(path, diag=Diagnostics(), vantage="mn")
    assert len(df) == 1
    row = df.iloc[0]
    assert row["cn"] == s.cn
    assert row["ha"] is None or row["ha"] != s.cn
    assert row["kind"] == "standard"  # the BA's status (accepted) is in the capture
    assert "bu_unanswered" not in (row["diagnosis"] or "")
