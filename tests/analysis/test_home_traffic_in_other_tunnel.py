"""Plain traffic of a home address inside an IPv6-in-IPv6 tunnel whose ends are not the
MN's (known) home agent: an MN at home behind an RPL root (RFC 9008: the root and the
6LR of a node that is not RPL-aware tunnel what enters or leaves the low-power network).

An MN-HA tunnel has the HA at one end (RFC 6275 10.4.5, 11.3.1).  The analysis took any
tunnel around a known home address for the HA's: the 6LR's address became the MN's
care-of address (prev_coa of its next handover) and the RPL root its home agent.  Once
the MN's HA is known, a tunnel with neither end a known HA is another tunnel on the way:
the inner packet alone says who.  (While the HA is not known it still cannot be told:
docs/analysis.md.)

Captures are built with the independent builder (tests/support/rfc_scenarios).
"""

from __future__ import annotations

import pytest

import ebutool
from ebutool.analysis.addressing import AddressBook
from ebutool.core.diagnostics import Diagnostics
from ebutool.records.record import Record
from tests.support import rfc_packets as P
from tests.support.rfc_scenarios import Scenario

H, C = b"homeck01", b"careck01"
T0 = 1000.0
SIXLR, ROOT = "2001:db8:99::1", "2001:db8:99::ff"  # the RPL tunnel's ends (RFC 9008)


@pytest.mark.parametrize("in_rpl_tunnel", [False, True], ids=["plain", "rpl_tunnel"])
def test_the_next_handover_comes_from_the_registered_address(tmp_path, in_rpl_tunnel):
    """Registered at the old care-of address, the MN's home address talks to a peer
    (plain, or inside the RPL tunnel), then a handover to the new address: its previous
    care-of address is the old one, never the 6LR's."""
    s = Scenario()
    s.bu_ha(100, seq=9, coa=s.old)
    s.ba_ha(120, seq=9, coa=s.old)
    for k in range(2):
        up, down = P.udp_packet(s.hoa, s.cn), P.udp_packet(s.cn, s.hoa)
        if in_rpl_tunnel:
            up, down = P.tunnel(SIXLR, ROOT, up), P.tunnel(ROOT, SIXLR, down)
        s.add(500 + 10 * k, up)
        s.add(505 + 10 * k, down)
    s.bu_ha(T0, seq=10)
    s.hoti(T0 + 0.01, H)
    s.coti(T0 + 0.02, C)
    s.ba_ha(T0 + 20, seq=10)
    s.cot(T0 + 30, C, index=2)
    s.hot(T0 + 80, H, index=1)
    s.bu_cn(T0 + 80.5, seq=20, hidx=1, cidx=2)
    s.ba_cn(T0 + 90, seq=20, key=(1, 2))
    df = ebutool.analyze(s.write(tmp_path), diag=Diagnostics(), vantage="mn")
    row = df[df["cn"].notna()].iloc[0]
    assert (row["coa"], row["prev_coa"], row["ha"]) == (s.new, s.old, s.ha)


def test_the_address_book_keeps_the_ha():
    mn, ha, cn = "2001:db8:1::100", "2001:db8:1::1", "2001:db8:c::1"
    book = AddressBook()
    book.learn_ha(mn, ha)
    for src, dst, t_src, t_dst in ((mn, cn, SIXLR, ROOT), (cn, mn, ROOT, SIXLR)):
        rec = Record(1, 0, src, dst, "data", tunnel_src=t_src, tunnel_dst=t_dst)
        assert book.resolve(rec) is None  # plain data of an MN at home: as without the tunnel
    assert book.ha_of == {mn: ha} and list(book.home_agents) == [ha]
    # the MN-HA tunnel itself is still read so
    rec = Record(1, 0, mn, cn, "data", tunnel_src="2001:db8:b::100", tunnel_dst=ha)
    res = book.resolve(rec)
    assert res is not None and (res.mn, res.coa, res.tunnelled) == (mn, "2001:db8:b::100", True)
