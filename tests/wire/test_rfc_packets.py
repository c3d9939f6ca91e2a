"""The independent test packet builder (tests/support/rfc_packets.py) against scapy.

Protocol tests build their captures with that module rather than with ebutool's encoder;
here scapy, a third party, decodes every message type it builds and recomputes each
checksum, so a mistake in the builder cannot hide a matching mistake in ebutool.
"""

from __future__ import annotations

import pytest

scapy_inet6 = pytest.importorskip("scapy.layers.inet6")
from scapy.layers.inet6 import (  # noqa: E402
    MIP6MH_BA,
    MIP6MH_BE,
    MIP6MH_BRR,
    MIP6MH_BU,
    IPv6,
    MIP6MH_CoT,
    MIP6MH_CoTI,
    MIP6MH_HoT,
    MIP6MH_HoTI,
)

from tests.support import rfc_packets as P  # noqa: E402

HOA, COA, CN, HA = "2001:db8:1::100", "2001:db8:2::100", "2001:db8:c::1", "2001:db8:1::1"
COOKIE, TOKEN = bytes(range(1, 9)), bytes(range(0x10, 0x18))


def _rechecksummed(pkt, layer) -> int:
    """The checksum scapy computes for ``layer`` of ``pkt``.

    scapy's own pseudo-header rule (``in6_pseudoheader``) takes the Home Address option's
    address as the source only when the Destination Options header holds that single
    option; RFC 6275 6.3 asks for the HAO at offset 8n+6, which needs a PadN before it.
    So where the packet has a HAO, the pseudo-header is built here explicitly (source =
    home address, RFC 6275 6.1.1 and 9.3.1) and summed with scapy's ``checksum``."""
    from scapy.layers.inet6 import HAO, IPv6ExtHdrDestOpt, PseudoIPv6
    from scapy.utils import checksum

    copy = IPv6(bytes(pkt))
    del copy[layer].cksum
    rebuilt = IPv6(bytes(copy))
    if not rebuilt.haslayer(IPv6ExtHdrDestOpt):
        return rebuilt[layer].cksum
    hoa = next(o.hoa for o in rebuilt[IPv6ExtHdrDestOpt].options if isinstance(o, HAO))
    mh = bytes(pkt[layer])
    mh = mh[:4] + b"\0\0" + mh[6:]
    inner = pkt.getlayer(IPv6, 2) or pkt[IPv6]
    pseudo = PseudoIPv6(src=hoa, dst=inner.dst, uplen=len(mh), nh=135)
    return checksum(bytes(pseudo) + mh)


CASES = [
    (
        "HoTI",
        lambda: P.tunnel(COA, HA, P.mh_packet(HOA, CN, P.MH_HOTI, P.hoti_body(COOKIE))),
        MIP6MH_HoTI,
    ),
    ("CoTI", lambda: P.mh_packet(COA, CN, P.MH_COTI, P.hoti_body(COOKIE)), MIP6MH_CoTI),
    (
        "HoT",
        lambda: P.tunnel(HA, COA, P.mh_packet(CN, HOA, P.MH_HOT, P.hot_body(3, COOKIE, TOKEN))),
        MIP6MH_HoT,
    ),
    ("CoT", lambda: P.mh_packet(CN, COA, P.MH_COT, P.hot_body(4, COOKIE, TOKEN)), MIP6MH_CoT),
    (
        "BU",
        lambda: P.mh_packet(
            COA,
            CN,
            P.MH_BU,
            P.bu_body(7, P.BU_A, 10),
            [P.nonce_indices(3, 4), P.alt_coa(COA), P.AUTH_PLACEHOLDER],
            hoa=HOA,
        ),
        MIP6MH_BU,
    ),
    (
        "BA",
        lambda: P.mh_packet(CN, COA, P.MH_BA, P.ba_body(0, 7, 10), [P.AUTH_PLACEHOLDER], rh2=HOA),
        MIP6MH_BA,
    ),
    ("BE", lambda: P.mh_packet(CN, COA, P.MH_BE, P.be_body(2, HOA)), MIP6MH_BE),
    ("BRR", lambda: P.mh_packet(CN, COA, P.MH_BRR, b"\0\0", rh2=HOA), MIP6MH_BRR),
]


@pytest.mark.parametrize(("name", "build", "layer"), CASES, ids=[c[0] for c in CASES])
def test_scapy_decodes_and_agrees_on_the_checksum(name, build, layer):
    raw = build()
    pkt = IPv6(raw)
    assert pkt.haslayer(layer), pkt.summary()
    mh = pkt[layer]
    assert len(P.mh_of(raw)) % 8 == 0
    assert mh.cksum == _rechecksummed(pkt, layer), name


def test_bu_fields_and_option_alignment():
    raw = P.mh_packet(
        COA,
        CN,
        P.MH_BU,
        P.bu_body(7, P.BU_A | P.BU_H, 10),
        [P.nonce_indices(3, 0), P.alt_coa(COA), P.AUTH_PLACEHOLDER],
        hoa=HOA,
    )
    bu = IPv6(raw)[MIP6MH_BU]
    assert (bu.seq, bu.mhtime) == (7, 10)
    assert bu.flags.A and bu.flags.H and not bu.flags.L
    mh = P.mh_of(raw)
    # RFC 6275 6.2: Nonce Indices 2n, Alternate CoA 8n+6, Authorization Data 8n+2
    assert mh.index(bytes([P.OPT_NONCE, 4])) % 2 == 0
    assert mh.index(bytes([P.OPT_ALT_COA, 16])) % 8 == 6
    assert mh.index(bytes([P.OPT_AUTH, 12])) % 8 == 2


def test_authenticator_is_placed_and_checksum_follows():
    raw = P.mh_packet(
        COA,
        CN,
        P.MH_BU,
        P.bu_body(9, P.BU_A, 10),
        [P.nonce_indices(1, 2), P.AUTH_PLACEHOLDER],
        hoa=HOA,
    )
    mh = P.mh_of(raw)
    signed = P.set_authenticator(mh, b"\xaa" * 12, HOA, CN)
    assert signed.endswith(b"\xaa" * 12) or b"\xaa" * 12 in signed
    assert P.mac_data(signed)[4:6] == b"\0\0"
    pkt = IPv6(P.packet(COA, CN, P.NH_MH, signed, hoa=HOA))
    assert pkt[MIP6MH_BU].cksum == _rechecksummed(pkt, MIP6MH_BU)


def test_pcap_reads_back_with_dpkt():
    dpkt = pytest.importorskip("dpkt")
    import io

    pkts = [
        (1_700_000_000_123_456_000, P.udp_packet(COA, CN, hoa=HOA)),
        (1_700_000_001_000_000_000, b"\x60" + b"\0" * 39),
    ]
    for nano in (False, True):
        rd = dpkt.pcap.Reader(io.BytesIO(P.pcap(pkts, nanosecond=nano)))
        got = [(ts, buf) for ts, buf in rd]
        assert [buf for _, buf in got] == [p for _, p in pkts]
        assert abs(float(got[0][0]) - 1_700_000_000.123456) < 1e-6
