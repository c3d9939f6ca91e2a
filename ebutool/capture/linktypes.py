"""Link-layer types: where the IPv6 header starts inside a captured frame.

``ip6_offset(linktype, data)`` answers from the first few octets only, so it
can run on every frame of a large capture: it returns the offset of the IPv6
header, or None when the frame carries something else (IPv4, ARP, ...).  It
checks that the version nibble at that offset is 6, but not that a whole
40-octet header is present: a short IPv6 frame is still IPv6, and reporting
it as truncated is the decoder's job, not this one's.

Numbers are LINKTYPE_* values from https://www.tcpdump.org/linktypes.html.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

SUPPORTED_LINKTYPES: dict[int, str] = {
    0: "NULL",  # BSD loopback, address family in the capturing host's byte order
    1: "ETHERNET",
    12: "RAW",  # DLT_RAW as written on most BSDs (version nibble decides)
    14: "RAW",  # DLT_RAW as written on OpenBSD
    101: "RAW",  # LINKTYPE_RAW
    108: "LOOP",  # OpenBSD loopback, address family in network byte order
    113: "LINUX_SLL",
    228: "IPV4",
    229: "IPV6",
    276: "LINUX_SLL2",
}

ETHERTYPE_IPV6 = 0x86DD
# 802.1Q, 802.1ad (QinQ) and the pre-standard 0x9100 QinQ tag: 4 octets each
# (2 octets tag control + 2 octets inner EtherType), any number stacked.
VLAN_TYPES = frozenset((0x8100, 0x88A8, 0x9100))

# Address families meaning IPv6 in a NULL/LOOP header: Linux 10, NetBSD/OpenBSD 24,
# FreeBSD/DragonFly 28, Darwin 30.  IPv4 is 2 everywhere.
_AF_INET6 = (10, 24, 28, 30)
# NULL stores the family in the *capturing* host's byte order, which the file does
# not record, so both orders are accepted (the values cannot be confused: 10 in one
# order is 0x0a000000 in the other, which is no address family at all).
_NULL_AF6 = frozenset(
    [struct.pack("<I", af) for af in _AF_INET6] + [struct.pack(">I", af) for af in _AF_INET6]
)
_LOOP_AF6 = frozenset(struct.pack(">I", af) for af in _AF_INET6)


def _ethertype_chain(data: bytes, type_at: int, payload_at: int) -> int | None:
    """Follow VLAN tags from the EtherType at ``type_at`` (payload at ``payload_at``)."""
    n = len(data)
    while type_at + 2 <= n:
        etype = (data[type_at] << 8) | data[type_at + 1]
        if etype == ETHERTYPE_IPV6:
            if payload_at < n and data[payload_at] >> 4 == 6:
                return payload_at
            return None
        if etype not in VLAN_TYPES:
            return None
        # A tag: 2 octets of tag control, then the next EtherType.
        type_at = payload_at + 2
        payload_at += 4
    return None


def _ethernet(data: bytes) -> int | None:
    # Fast path for the untagged cases (by far the most common) before the loop.
    if len(data) > 14 and data[12] == 0x86 and data[13] == 0xDD:
        return 14 if data[14] >> 4 == 6 else None
    if len(data) < 14 or data[12] == 0x08:  # IPv4 0x0800, ARP 0x0806
        return None
    return _ethertype_chain(data, 12, 14)


def _sll(data: bytes) -> int | None:
    # Linux cooked v1: 16-octet header, protocol (an EtherType) at offset 14.
    return _ethertype_chain(data, 14, 16)


def _sll2(data: bytes) -> int | None:
    # Linux cooked v2: 20-octet header, protocol at offset 0.
    return _ethertype_chain(data, 0, 20)


def _raw(data: bytes) -> int | None:
    return 0 if data and data[0] >> 4 == 6 else None


def _ipv4(data: bytes) -> int | None:
    return None


def _null(data: bytes) -> int | None:
    if len(data) > 4 and data[:4] in _NULL_AF6 and data[4] >> 4 == 6:
        return 4
    return None


def _loop(data: bytes) -> int | None:
    if len(data) > 4 and data[:4] in _LOOP_AF6 and data[4] >> 4 == 6:
        return 4
    return None


_BY_LINKTYPE: dict[int, Callable[[bytes], int | None]] = {
    0: _null,
    1: _ethernet,
    12: _raw,
    14: _raw,
    101: _raw,
    108: _loop,
    113: _sll,
    228: _ipv4,
    229: _raw,
    276: _sll2,
}
assert _BY_LINKTYPE.keys() == SUPPORTED_LINKTYPES.keys()


def ip6_offset(linktype: int, data: bytes) -> int | None:
    """Offset of the IPv6 header in ``data``, or None if the frame is not IPv6."""
    f = _BY_LINKTYPE.get(linktype)
    return f(data) if f is not None else None


def ip6_offset_func(linktype: int) -> Callable[[bytes], int | None] | None:
    """The per-link-type function behind :func:`ip6_offset`, for hot loops that
    see one link type at a time and want to skip the dispatch; None if unsupported."""
    return _BY_LINKTYPE.get(linktype)


def linktype_name(linktype: int) -> str:
    return SUPPORTED_LINKTYPES.get(linktype, f"LINKTYPE_{linktype}")
