"""Route-optimised data inside an IPv6-in-IPv6 tunnel that is not the MN-HA tunnel.

An RPL root tunnels what enters or leaves its low-power network (RFC 9008: IPv6-in-IPv6
between the root and the 6LR of a node that is not RPL-aware), and a 6in6 transition
tunnel does the same on other links.  A packet with a Home Address option or a type 2
routing header is route-optimised (RFC 6275 6.3, 6.4); an MN-HA tunnel never carries
one (its inner header is home address <-> peer in the clear).  The analysis took every
tunnelled packet for the HA's: the MN's first data to the CN (HAO, at 111 ms) and the
CN's to the MN (RH2, at 96 ms) inside an RPL root's tunnel were "reverse-/HA-tunnelled,
not route-optimised": send and recv latency empty, mode unknown, quality ok.

Captures are built with the independent builder (tests/support/rfc_scenarios).
"""

from __future__ import annotations

import pytest

import ebutool
from ebutool.core.diagnostics import Diagnostics
from tests.support import rfc_packets as P
from tests.support.rfc_scenarios import Scenario

H, C = b"homeck01", b"careck01"
T0 = 1000.0
DATA_DOWN_AT, DATA_UP_AT = 96.0, 111.0
SIXLR, ROOT = "2001:db8:99::1", "2001:db8:99::ff"  # the RPL tunnel's ends (RFC 9008)


def _row(tmp_path, in_rpl_tunnel: bool):
    s = Scenario()
    s.data_up(900, s.old)
    s.data_down(905, s.old)
    s.bu_ha(T0, seq=10)
    s.hoti(T0 + 0.01, H)  # (the MN-HA tunnel's, as the builder writes it)
    s.coti(T0 + 0.02, C)
    s.ba_ha(T0 + 20, seq=10)
    s.cot(T0 + 30, C, index=2)
    s.hot(T0 + 80, H, index=1)
    s.bu_cn(T0 + 80.5, seq=20, hidx=1, cidx=2)
    s.ba_cn(T0 + 90, seq=20, key=(1, 2))
    down = P.udp_packet(s.cn, s.new, rh2=s.hoa)
    up = P.udp_packet(s.new, s.cn, hoa=s.hoa)
    if in_rpl_tunnel:
        down, up = P.tunnel(ROOT, SIXLR, down), P.tunnel(SIXLR, ROOT, up)
    s.add(T0 + DATA_DOWN_AT, down)
    s.add(T0 + DATA_UP_AT, up)
    diag = Diagnostics()
    df = ebutool.analyze(s.write(tmp_path), diag=diag, vantage="mn")
    rows = df[df["cn"].notna()]
    assert len(rows) == 1, rows[["cn", "kind", "diagnosis"]].to_string()
    return rows.iloc[0], s


@pytest.mark.parametrize("in_rpl_tunnel", [False, True], ids=["plain", "rpl_tunnel"])
def test_route_optimised_data_in_another_tunnel_is_route_optimised(tmp_path, in_rpl_tunnel):
    row, s = _row(tmp_path, in_rpl_tunnel)
    assert (row["send_latency_ms"], row["recv_latency_ms"]) == (DATA_UP_AT, DATA_DOWN_AT)
    assert (row["kind"], row["mode"], row["quality"]) == ("standard", "conservative", "ok")
    # the RPL tunnel's ends are neither the care-of address nor the home agent
    assert (row["coa"], row["ha"]) == (s.new, s.ha)
