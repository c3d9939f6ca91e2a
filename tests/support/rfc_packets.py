"""Test-only packet builder written from the RFC text, independently of ``ebutool.wire``.

A test whose input is made by ebutool's own encoder checks nothing about that encoder's
mistakes; captures for protocol tests are built here instead, octet by octet:

* IPv6 header (RFC 8200 3), Destination Options header with the Home Address option
  (RFC 6275 6.3, alignment 8n+6), type 2 Routing Header (RFC 6275 6.4), IPv6-in-IPv6;
* the Mobility Header (RFC 6275 6.1): payload proto 59, header length in 8-octet units
  not counting the first 8, MH type, reserved, checksum over the pseudo-header whose
  source is the Home Address option's address and whose destination is the type 2
  routing header's address when present (RFC 6275 6.1.1, RFC 8200 8.1);
* mobility options with the alignment rules of RFC 6275 6.2 (Nonce Indices 2n,
  Binding Authorization Data 8n+2, Alternate Care-of Address 8n+6, Binding Refresh
  Advice 2n), the message padded to a multiple of 8 octets with Pad1/PadN;
* UDP (RFC 768) with its checksum over the same pseudo-header rule;
* a classic pcap file (raw IPv6 link type 101, microsecond or nanosecond timestamps).

Binding authenticators are computed with ``tests.support.rr`` (hashlib/hmac from the RFC
text).  ``tests/wire/test_rfc_packets.py`` checks this module against scapy.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterable, Mapping, Sequence

NH_UDP, NH_IPV6, NH_ROUTING, NH_NONE, NH_DSTOPTS, NH_MH = 17, 41, 43, 59, 60, 135
MH_BRR, MH_HOTI, MH_COTI, MH_HOT, MH_COT, MH_BU, MH_BA, MH_BE = range(8)
BU_A, BU_H, BU_L, BU_K = 0x8000, 0x4000, 0x2000, 0x1000
OPT_PAD1, OPT_PADN, OPT_BRA, OPT_ALT_COA, OPT_NONCE, OPT_AUTH = 0, 1, 2, 3, 4, 5
OPT_COTI, OPT_COT = 15, 16  # RFC 4866 9.x
HAO_TYPE = 201


def ip(addr: str) -> bytes:
    return ipaddress.IPv6Address(addr).packed


def _csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def checksum(src: str, dst: str, next_header: int, upper: bytes) -> int:
    """RFC 8200 8.1: ones' complement over the pseudo-header and the upper-layer octets."""
    pseudo = ip(src) + ip(dst) + struct.pack("!I3xB", len(upper), next_header)
    return _csum(pseudo + upper)


# --- mobility options (type, length, value; RFC 6275 6.2) --------------------------------


def nonce_indices(home: int, careof: int) -> tuple[int, bytes, tuple[int, int]]:
    return (OPT_NONCE, struct.pack("!HH", home, careof), (2, 0))


def alt_coa(addr: str) -> tuple[int, bytes, tuple[int, int]]:
    return (OPT_ALT_COA, ip(addr), (8, 6))


def refresh_advice(units_of_4s: int) -> tuple[int, bytes, tuple[int, int]]:
    return (OPT_BRA, struct.pack("!H", units_of_4s), (2, 0))


def coti_option() -> tuple[int, bytes, tuple[int, int]]:
    return (OPT_COTI, b"", (1, 0))


def cot_option(token: bytes) -> tuple[int, bytes, tuple[int, int]]:
    return (OPT_COT, token, (1, 0))


AUTH_PLACEHOLDER = (OPT_AUTH, b"\0" * 12, (8, 2))


def _pad(n: int) -> bytes:
    if n == 0:
        return b""
    if n == 1:
        return bytes([OPT_PAD1])
    return bytes([OPT_PADN, n - 2]) + b"\0" * (n - 2)


def _options(start: int, options: Sequence[tuple[int, bytes, tuple[int, int]]]) -> bytes:
    out = b""
    for otype, value, (mult, off) in options:
        pos = start + len(out)
        need = (off - pos) % mult
        out += _pad(need) + bytes([otype, len(value)]) + value
    total = start + len(out)
    return out + _pad((-total) % 8)


def mobility_header(
    mh_type: int,
    body: bytes,
    options: Sequence[tuple[int, bytes, tuple[int, int]]] = (),
    src: str = "::",
    dst: str = "::",
) -> bytes:
    """The whole MH with its checksum for the pseudo-header (``src``, ``dst``): those
    must already be the home address / final destination where RFC 6275 says so."""
    opts = _options(6 + len(body), options)
    length = 6 + len(body) + len(opts)
    assert length % 8 == 0, length
    mh = struct.pack("!BBBBH", NH_NONE, length // 8 - 1, mh_type, 0, 0) + body + opts
    c = checksum(src, dst, NH_MH, mh)
    return mh[:4] + struct.pack("!H", c) + mh[6:]


def with_checksum(mh: bytes, src: str, dst: str) -> bytes:
    mh = mh[:4] + b"\0\0" + mh[6:]
    return mh[:4] + struct.pack("!H", checksum(src, dst, NH_MH, mh)) + mh[6:]


def set_authenticator(mh: bytes, auth12: bytes, src: str, dst: str) -> bytes:
    """Put the 12-octet authenticator into the (last) Binding Authorization Data option
    and recompute the checksum."""
    i = mh.rindex(bytes([OPT_AUTH, 12]))
    return with_checksum(mh[: i + 2] + auth12 + mh[i + 14 :], src, dst)


def mac_data(mh: bytes) -> bytes:
    """RFC 6275 5.2.6: the MH up to and including the BAD option's type and length,
    checksum zeroed."""
    i = mh.rindex(bytes([OPT_AUTH, 12]))
    return mh[:4] + b"\0\0" + mh[6 : i + 2]


def hoti_body(cookie: bytes) -> bytes:
    return b"\0\0" + cookie


def hot_body(index: int, cookie: bytes, token: bytes) -> bytes:
    return struct.pack("!H", index) + cookie + token


def bu_body(seq: int, flags: int, lifetime_4s: int) -> bytes:
    return struct.pack("!HHH", seq, flags, lifetime_4s)


def ba_body(status: int, seq: int, lifetime_4s: int, k_flag: bool = False) -> bytes:
    return struct.pack("!BBHH", status, 0x80 if k_flag else 0, seq, lifetime_4s)


def be_body(status: int, hoa: str) -> bytes:
    return struct.pack("!BB", status, 0) + ip(hoa)


# --- IPv6 and its extension headers ----------------------------------------------------


def ipv6(src: str, dst: str, next_header: int, payload: bytes, hop_limit: int = 64) -> bytes:
    return (
        struct.pack("!IHBB", 6 << 28, len(payload), next_header, hop_limit)
        + ip(src)
        + ip(dst)
        + payload
    )


def hao_header(next_header: int, hoa: str) -> bytes:
    """Destination Options header: PadN(2 octets of data) then the HAO at offset 6 (8n+6)."""
    return bytes([next_header, 2, OPT_PADN, 2, 0, 0, HAO_TYPE, 16]) + ip(hoa)


def rh2_header(next_header: int, hoa: str) -> bytes:
    return bytes([next_header, 2, 2, 1, 0, 0, 0, 0]) + ip(hoa)


def packet(
    src: str,
    dst: str,
    next_header: int,
    upper: bytes,
    hoa: str | None = None,
    rh2: str | None = None,
) -> bytes:
    """An IPv6 packet carrying ``upper`` (already checksummed), with a Home Address option
    (sent from a care-of address) and/or a type 2 routing header (sent to one)."""
    nh, payload = next_header, upper
    if hoa is not None:
        payload = hao_header(nh, hoa) + payload
        nh = NH_DSTOPTS
    if rh2 is not None:
        payload = rh2_header(nh, rh2) + payload
        nh = NH_ROUTING
    return ipv6(src, dst, nh, payload)


def mh_packet(
    src: str,
    dst: str,
    mh_type: int,
    body: bytes,
    options: Sequence[tuple[int, bytes, tuple[int, int]]] = (),
    hoa: str | None = None,
    rh2: str | None = None,
) -> bytes:
    mh = mobility_header(mh_type, body, options, src=hoa or src, dst=rh2 or dst)
    return packet(src, dst, NH_MH, mh, hoa, rh2)


def udp_packet(
    src: str,
    dst: str,
    payload: bytes = b"x" * 32,
    sport: int = 5000,
    dport: int = 5001,
    hoa: str | None = None,
    rh2: str | None = None,
) -> bytes:
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    c = checksum(hoa or src, rh2 or dst, NH_UDP, udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    return packet(src, dst, NH_UDP, udp, hoa, rh2)


def tunnel(outer_src: str, outer_dst: str, inner: bytes) -> bytes:
    return ipv6(outer_src, outer_dst, NH_IPV6, inner)


def mh_of(pkt: bytes) -> bytes:
    """The Mobility Header of a packet built here (after any HAO/RH2, inside any tunnel)."""
    nh, off = pkt[6], 40
    while nh != NH_MH:
        if nh == NH_IPV6:
            nh, off = pkt[off + 6], off + 40
        elif nh in (NH_DSTOPTS, NH_ROUTING):
            nh, off = pkt[off], off + (pkt[off + 1] + 1) * 8
        else:
            raise ValueError(f"no MH in packet (next header {nh})")
    return pkt[off:]


def pcap(
    packets: Iterable[tuple[int, bytes]],
    nanosecond: bool = False,
    cut: Mapping[int, int] | None = None,
) -> bytes:
    """A little-endian classic pcap file, link type 101 (raw IP); ``packets`` are
    (time in ns since the epoch, IPv6 packet).  ``cut``: time in ns -> octets the capture
    lost off the end of the packet sent then (snaplen): its record keeps the original
    length and holds that many octets fewer."""
    magic = 0xA1B23C4D if nanosecond else 0xA1B2C3D4
    out = [struct.pack("<IHHiIII", magic, 2, 4, 0, 0, 65535, 101)]
    for ts_ns, data in packets:
        sec, frac = divmod(ts_ns, 1_000_000_000)
        captured = data[: len(data) - (cut or {}).get(ts_ns, 0)]
        out.append(
            struct.pack(
                "<IIII", sec, frac if nanosecond else frac // 1000, len(captured), len(data)
            )
        )
        out.append(captured)
    return b"".join(out)
