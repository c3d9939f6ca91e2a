"""Where the length, type and time fields of a capture are, found by a small parser of
its own (pcap, pcapng, IPv6, extension headers, Mobility Header, options), written from
the formats (pcap: the libpcap file format; pcapng: draft-ietf-opsawg-pcapng; IPv6:
RFC 8200; MH and options: RFC 6275 6.1, 6.2), not from ebutool.

A field is ``(offset, size, kind, byteorder)``; ``kind`` is "len", "type", "ts" or
"other".  Parsing stops quietly at anything it does not understand: a mutated input is
what it is fed.
"""

from __future__ import annotations

import struct
from typing import NamedTuple


class Field(NamedTuple):
    offset: int
    size: int
    kind: str  # "len", "type", "ts", "other"
    order: str  # "big" or "little"


PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": "little",
    b"\xa1\xb2\xc3\xd4": "big",
    b"\x4d\x3c\xb2\xa1": "little",
    b"\xa1\xb2\x3c\x4d": "big",
}
PCAPNG_SHB = b"\x0a\x0d\x0d\x0a"
# link type -> offset of the IPv6 header in a frame (Ethernet needs its ethertype)
LINK_IP_OFFSET = {0: 4, 1: 14, 101: 0, 228: 0, 229: 0, 113: 16, 276: 20, 12: 0, 14: 0}
EXT_WITH_OPTIONS = (0, 60)  # Hop-by-Hop, Destination Options
ROUTING, FRAGMENT, MH, IPV6_IN_IPV6 = 43, 44, 135, 41
# MH type -> octets before its mobility options (RFC 6275 6.1.x, the 6-octet header included)
MH_OPTIONS_AT = {0: 8, 1: 16, 2: 16, 3: 24, 4: 24, 5: 12, 6: 12, 7: 24}


def capture_fields(data: bytes) -> list[Field]:
    """Every field found in a pcap or pcapng capture (empty for anything else)."""
    out: list[Field] = []
    try:
        if data[:4] in PCAP_MAGICS:
            _pcap(data, PCAP_MAGICS[data[:4]], out)
        elif data[:4] == PCAPNG_SHB:
            _pcapng(data, out)
    except (struct.error, IndexError):
        pass
    return out


def _pcap(data: bytes, order: str, out: list[Field]) -> None:
    e = "<" if order == "little" else ">"
    out += [
        Field(0, 4, "type", order),
        Field(4, 2, "type", order),
        Field(6, 2, "type", order),
        Field(8, 4, "ts", order),
        Field(16, 4, "len", order),
        Field(20, 4, "type", order),
    ]
    link = struct.unpack_from(e + "I", data, 20)[0] & 0xFFFF
    o = 24
    while o + 16 <= len(data):
        out += [
            Field(o, 4, "ts", order),
            Field(o + 4, 4, "ts", order),
            Field(o + 8, 4, "len", order),
            Field(o + 12, 4, "len", order),
        ]
        incl = struct.unpack_from(e + "I", data, o + 8)[0]
        _frame(data, o + 16, min(o + 16 + incl, len(data)), link, out)
        o += 16 + incl


def _pcapng(data: bytes, out: list[Field]) -> None:
    o, order, links = 0, "little", []
    while o + 12 <= len(data):
        if data[o : o + 4] == PCAPNG_SHB:
            order = "little" if data[o + 8 : o + 12] == b"\x4d\x3c\x2b\x1a" else "big"
            links = []
        e = "<" if order == "little" else ">"
        btype, blen = struct.unpack_from(e + "II", data, o)
        out += [Field(o, 4, "type", order), Field(o + 4, 4, "len", order)]
        if blen < 12 or o + blen > len(data):
            return
        out.append(Field(o + blen - 4, 4, "len", order))
        if btype == 0x0A0D0D0A:
            out += [Field(o + 8, 4, "type", order), Field(o + 16, 8, "len", order)]
        elif btype == 1:  # Interface Description Block
            links.append(struct.unpack_from(e + "H", data, o + 8)[0])
            out += [Field(o + 8, 2, "type", order), Field(o + 12, 4, "len", order)]
            _options(data, o + 16, o + blen - 4, e, order, out)
        elif btype == 6:  # Enhanced Packet Block
            iface, _, _, cap = struct.unpack_from(e + "IIII", data, o + 8)
            out += [
                Field(o + 8, 4, "type", order),
                Field(o + 12, 4, "ts", order),
                Field(o + 16, 4, "ts", order),
                Field(o + 20, 4, "len", order),
                Field(o + 24, 4, "len", order),
            ]
            link = links[iface] if iface < len(links) else 1
            _frame(data, o + 28, min(o + 28 + cap, o + blen - 4), link, out)
        elif btype == 3:  # Simple Packet Block
            out.append(Field(o + 8, 4, "len", order))
        o += blen


def _options(data: bytes, o: int, end: int, e: str, order: str, out: list[Field]) -> None:
    """pcapng options: code, length, value; if_tsresol (9) and if_tsoffset (14) are times."""
    while o + 4 <= end:
        code, olen = struct.unpack_from(e + "HH", data, o)
        out += [Field(o, 2, "type", order), Field(o + 2, 2, "len", order)]
        if code == 9 and olen >= 1:
            out.append(Field(o + 4, 1, "ts", order))
        elif code == 14 and olen >= 8:
            out.append(Field(o + 4, 8, "ts", order))
        if code == 0:
            return
        o += 4 + ((olen + 3) & ~3)


def _frame(data: bytes, start: int, end: int, link: int, out: list[Field]) -> None:
    off = LINK_IP_OFFSET.get(link)
    if off is None:
        return
    if link == 1:
        out.append(Field(start + 12, 2, "type", "big"))  # ethertype
    _ipv6(data, start + off, end, out, depth=0)


def _ipv6(data: bytes, o: int, end: int, out: list[Field], depth: int) -> None:
    if o + 40 > end or depth > 3:
        return
    out += [
        Field(o, 1, "type", "big"),
        Field(o + 4, 2, "len", "big"),
        Field(o + 6, 1, "type", "big"),
        Field(o + 8, 16, "other", "big"),
        Field(o + 24, 16, "other", "big"),
    ]
    nh, p = data[o + 6], o + 40
    for _ in range(8):
        if p + 2 > end:
            return
        if nh == IPV6_IN_IPV6:
            _ipv6(data, p, end, out, depth + 1)
            return
        if nh not in (*EXT_WITH_OPTIONS, ROUTING, FRAGMENT, MH):
            return
        out += [Field(p, 1, "type", "big"), Field(p + 1, 1, "len", "big")]
        hlen = 8 if nh == FRAGMENT else 8 * (data[p + 1] + 1)
        if nh in EXT_WITH_OPTIONS:
            _tlv(data, p + 2, min(p + hlen, end), out)
        elif nh == ROUTING:
            out += [Field(p + 2, 1, "type", "big"), Field(p + 3, 1, "len", "big")]
        elif nh == MH:
            out += [Field(p + 2, 1, "type", "big"), Field(p + 4, 2, "other", "big")]
            at = MH_OPTIONS_AT.get(data[p + 2], 12)
            if data[p + 2] == 5 or data[p + 2] == 6:
                out.append(Field(p + 6, 2, "other", "big"))  # sequence / status
            _tlv(data, p + at, min(p + hlen, end), out)
            return
        nh, p = data[p], p + hlen


def _tlv(data: bytes, o: int, end: int, out: list[Field]) -> None:
    """Type-length-value options (IPv6 options, mobility options); type 0 is Pad1."""
    while o < end:
        out.append(Field(o, 1, "type", "big"))
        if data[o] == 0:
            o += 1
            continue
        if o + 2 > end:
            return
        out.append(Field(o + 1, 1, "len", "big"))
        o += 2 + data[o + 1]
