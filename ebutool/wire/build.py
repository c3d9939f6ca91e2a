"""Building whole IPv6 packets and captures: the encoder side of ``ipv6.py``.

Used by ``synth``, by the sample generator and by tests.  Every packet it makes
has correct lengths, RFC 6275 alignment (Home Address option at 8n+6) and MH
checksums computed with RFC 6275's pseudo-header rule.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from fractions import Fraction
from typing import BinaryIO

from ebutool.core import constants as C
from ebutool.core.addr import pton
from ebutool.wire.mh.codec import aligned, encode_mh, ones_complement_sum, pseudo_header_sum
from ebutool.wire.mh.messages import MobilityMessage

LINKTYPE_ETHERNET = 1
LINKTYPE_RAW_IPV6 = 229
ETH_P_IPV6 = 0x86DD


def ipv6_header(
    src: str,
    dst: str,
    next_header: int,
    payload_len: int,
    hop_limit: int = 64,
    flow: int = 0,
    tclass: int = 0,
) -> bytes:
    return struct.pack(
        "!IHBB16s16s",
        (6 << 28) | (tclass << 20) | flow,
        payload_len,
        next_header,
        hop_limit,
        pton(src),
        pton(dst),
    )


def hao_dstopts(next_header: int, hoa: str) -> bytes:
    """Destination options header with a Home Address option aligned 8n+6 (RFC 6275 6.3):
    next header, length 2 (24 octets), PadN(2 octets), HAO type 201 len 16, address."""
    return bytes((next_header, 2, 1, 2, 0, 0, C.OPT_HOME_ADDRESS, 16)) + pton(hoa)


def rh2(next_header: int, home: str) -> bytes:
    """Type 2 routing header (RFC 6275 6.4): 24 octets, segments left 1."""
    return bytes((next_header, 2, C.ROUTING_TYPE_2, 1, 0, 0, 0, 0)) + pton(home)


def ipv6_packet(
    src: str, dst: str, proto: int, payload: bytes, hoa: str | None = None, home: str | None = None
) -> bytes:
    """An IPv6 packet; ``hoa`` adds a Home Address option, ``home`` a type 2 routing header.
    ``payload`` is the upper-layer octets of protocol ``proto`` (already checksummed)."""
    ext = b""
    nh = proto
    if hoa is not None:  # RFC 6275: the HAO follows the routing header
        ext = hao_dstopts(nh, hoa) + ext
        nh = C.NH_DSTOPTS
    if home is not None:
        ext = rh2(nh, home) + ext
        nh = C.NH_ROUTING
    return ipv6_header(src, dst, nh, len(ext) + len(payload)) + ext + payload


def mh_packet(
    msg: MobilityMessage,
    src: str,
    dst: str,
    hoa: str | None = None,
    home: str | None = None,
    align: bool = True,
) -> bytes:
    """An IPv6 packet carrying ``msg`` with a correct MH checksum."""
    m = aligned(msg) if align else msg
    wire = encode_mh(m, pton(hoa or src), pton(home or dst))
    return ipv6_packet(src, dst, C.NH_MOBILITY, wire, hoa=hoa, home=home)


def udp_packet(
    src: str,
    dst: str,
    payload: bytes,
    sport: int = 5000,
    dport: int = 5000,
    hoa: str | None = None,
    home: str | None = None,
) -> bytes:
    """An IPv6 UDP datagram; the UDP checksum uses the home address rules too."""
    length = 8 + len(payload)
    seg = struct.pack("!HHHH", sport, dport, length, 0) + payload
    total = ones_complement_sum(
        seg, pseudo_header_sum(pton(hoa or src), pton(home or dst), length, C.NH_UDP)
    )
    csum = (~total) & 0xFFFF or 0xFFFF
    seg = seg[:6] + struct.pack("!H", csum) + seg[8:]
    return ipv6_packet(src, dst, C.NH_UDP, seg, hoa=hoa, home=home)


def tunnel(outer_src: str, outer_dst: str, inner: bytes) -> bytes:
    """IPv6-in-IPv6 (next header 41) around the complete packet ``inner``."""
    return ipv6_header(outer_src, outer_dst, C.NH_IPV6, len(inner)) + inner


def ethernet(
    ip6: bytes,
    src_mac: bytes = b"\x02\x00\x00\x00\x00\x01",
    dst_mac: bytes = b"\x02\x00\x00\x00\x00\x02",
) -> bytes:
    return dst_mac + src_mac + struct.pack("!H", ETH_P_IPV6) + ip6


def write_pcap(
    out: BinaryIO,
    packets: Iterable[tuple[int, bytes]],
    linktype: int = LINKTYPE_RAW_IPV6,
    nanosecond: bool = False,
) -> int:
    """Write (ts_ns, frame bytes) pairs as a pcap file with dpkt; returns the count."""
    import dpkt

    writer = dpkt.pcap.Writer(out, linktype=linktype, nano=nanosecond)
    n = 0
    for ts_ns, data in packets:
        writer.writepkt(data, ts=_exact_seconds(ts_ns, nanosecond))
        n += 1
    return n


def write_pcapng(
    out: BinaryIO, packets: Iterable[tuple[int, bytes]], linktype: int = LINKTYPE_RAW_IPV6
) -> int:
    """Write (ts_ns, frame bytes) pairs as pcapng (one interface, microsecond
    resolution, dpkt's default) ; returns the count."""
    import dpkt

    writer = dpkt.pcapng.Writer(out, linktype=linktype)
    n = 0
    for ts_ns, data in packets:
        writer.writepkt(data, ts=_exact_seconds(ts_ns, False))
        n += 1
    return n


def _exact_seconds(ts_ns: int, nanosecond: bool) -> Fraction:
    """Seconds as an exact Fraction, rounded to the file's unit: dpkt splits the value
    with int() and % 1, which a float of epoch seconds would round (about 0.2 us)."""
    unit = 1 if nanosecond else 1000
    return Fraction((ts_ns + unit // 2) // unit * unit, 10**9)
