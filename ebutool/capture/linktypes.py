"""Link-layer types: where the IPv6 header starts inside a captured frame.

``ip6_offset(linktype, data)`` answers from the first few octets only, so it
can run on every frame of a large capture: it returns the offset of the IPv6
header, or None when the frame carries something else (IPv4, ARP, ...).  It
checks that the version nibble at that offset is 6, but not that a whole
40-octet header is present: a short IPv6 frame is still IPv6, and reporting
it as truncated is the decoder's job, not this one's.  ``not_ipv6_reason`` says why
a frame is no IPv6, as the skip reason the stats count it under (802.11 frames that
are protected, or management, ...; frames of a link type not read).

Numbers are LINKTYPE_* values from https://www.tcpdump.org/linktypes.html.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from ebutool.capture.ethertype import ETHERTYPE_IPV6, VLAN_TYPES, ethertype_chain
from ebutool.capture.wlan import (
    WHY,
    dot11,
    dot11_code,
    dot11_why,
    radiotap,
    radiotap_parse,
    radiotap_why,
)

__all__ = [
    "ETHERTYPE_IPV6",
    "CODED_LINKTYPES",
    "NOT_IPV6_REASON",
    "REASON_OF_CODE",
    "SUPPORTED_LINKTYPES",
    "VLAN_TYPES",
    "ip6_offset",
    "ip6_offset_func",
    "linktype_name",
    "not_ipv6_reason",
]

SUPPORTED_LINKTYPES: dict[int, str] = {
    0: "NULL",  # BSD loopback, address family in the capturing host's byte order
    1: "ETHERNET",
    9: "PPP",  # RFC 1661 PPP, with or without the HDLC address/control 0xff 0x03
    12: "RAW",  # DLT_RAW as written on most BSDs (version nibble decides)
    14: "RAW",  # DLT_RAW as written on OpenBSD
    50: "PPP_HDLC",  # PPP in HDLC-like framing (RFC 1662), or Cisco HDLC
    101: "RAW",  # LINKTYPE_RAW
    104: "C_HDLC",  # Cisco HDLC: address, control, EtherType
    105: "IEEE802_11",
    108: "LOOP",  # OpenBSD loopback, address family in network byte order
    113: "LINUX_SLL",
    127: "IEEE802_11_RADIOTAP",
    228: "IPV4",
    229: "IPV6",
    276: "LINUX_SLL2",
}

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


def _ethernet(data: bytes) -> int | None:
    # Fast path for the untagged cases (by far the most common) before the loop.
    if len(data) > 14 and data[12] == 0x86 and data[13] == 0xDD:
        return 14 if data[14] >> 4 == 6 else None
    if len(data) < 14 or data[12] == 0x08:  # IPv4 0x0800, ARP 0x0806
        return None
    return ethertype_chain(data, 12, 14)


def _sll(data: bytes) -> int | None:
    # Linux cooked v1: 16-octet header, protocol (an EtherType) at offset 14.
    return ethertype_chain(data, 14, 16)


def _sll2(data: bytes) -> int | None:
    # Linux cooked v2: 20-octet header, protocol at offset 0.
    return ethertype_chain(data, 0, 20)


def _raw(data: bytes) -> int | None:
    return 0 if data and data[0] >> 4 == 6 else None


def _ipv4(data: bytes) -> int | None:
    return None


def _null(data: bytes) -> int | None:
    if len(data) > 4 and data[:4] in _NULL_AF6 and data[4] >> 4 == 6:
        return 4
    return None


# PPP (RFC 1661): an optional HDLC address/control 0xff 0x03 (RFC 1662; absent with
# address-and-control-field compression), then the protocol field: two octets, or one
# when protocol-field compression is on (an odd first octet).  IPv6 is 0x0057 (RFC 5072).
PPP_ADDRESS_CONTROL = b"\xff\x03"
PPP_IPV6 = 0x0057
# Cisco HDLC (and its form in LINKTYPE_PPP_HDLC): address 0x0f unicast or 0x8f
# broadcast, control 0x00, then a 2-octet EtherType.
CHDLC_ADDRESSES = frozenset((0x0F, 0x8F))


def _ppp(data: bytes) -> int | None:
    i = 2 if data[:2] == PPP_ADDRESS_CONTROL else 0
    n = len(data)
    if i >= n:
        return None
    if data[i] & 1:  # protocol-field compression: one octet
        proto, i = data[i], i + 1
    elif i + 2 <= n:
        proto, i = (data[i] << 8) | data[i + 1], i + 2
    else:
        return None
    return i if proto == PPP_IPV6 and i < n and data[i] >> 4 == 6 else None


def _chdlc(data: bytes) -> int | None:
    if data and data[0] in CHDLC_ADDRESSES:
        return ethertype_chain(data, 2, 4)
    return None


def _ppp_hdlc(data: bytes) -> int | None:
    # The first octet tells the two framings apart: 0xff PPP, 0x0f / 0x8f Cisco HDLC.
    return _chdlc(data) if data and data[0] in CHDLC_ADDRESSES else _ppp(data)


def _loop(data: bytes) -> int | None:
    if len(data) > 4 and data[:4] in _LOOP_AF6 and data[4] >> 4 == 6:
        return 4
    return None


_BY_LINKTYPE: dict[int, Callable[[bytes], int | None]] = {
    0: _null,
    1: _ethernet,
    9: _ppp,
    12: _raw,
    14: _raw,
    50: _ppp_hdlc,
    101: _raw,
    104: _chdlc,
    105: dot11,
    108: _loop,
    113: _sll,
    127: radiotap,
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


# Names of some link types ebutool does not read, for the messages and skip reasons
# about them (the rest are named by number).
OTHER_LINKTYPES: dict[int, str] = {
    6: "IEEE802_5",
    10: "FDDI",
    51: "PPP_ETHER",
    119: "PRISM_HEADER",
    129: "ARCNET_LINUX",
    138: "APPLE_IP_OVER_IEEE1394",
    139: "MTP2_WITH_PHDR",
    143: "DOCSIS",
    163: "IEEE802_11_AVS",
    166: "PPP_PPPD",
    187: "BLUETOOTH_HCI_H4",
    189: "USB_LINUX",
    192: "PPI",
    195: "IEEE802_15_4_WITHFCS",
    201: "BLUETOOTH_HCI_H4_WITH_PHDR",
    215: "IEEE802_15_4_NONASK_PHY",
    220: "USB_LINUX_MMAPPED",
    230: "IEEE802_15_4_NOFCS",
    249: "USBPCAP",
    251: "BLUETOOTH_LE_LL",
    252: "WIRESHARK_UPPER_PDU",
    254: "SCTP",
    256: "BLUETOOTH_LE_LL_WITH_PHDR",
    263: "NETLINK",
    283: "IEEE802_15_4_TAP",
    **{147 + k: f"USER{k}" for k in range(16)},
}

# Link types whose frames say why they are no IPv6 (see not_ipv6_reason) ...
_WHY: dict[int, Callable[[bytes], str]] = {105: dot11_why, 127: radiotap_why}
# ... and, for the fast path, their one-pass test: the IPv6 offset, or a negative code
# whose reason is REASON_OF_CODE[code].
CODED_LINKTYPES: dict[int, Callable[[bytes], int]] = {105: dot11_code, 127: radiotap_parse}
REASON_OF_CODE = WHY
NOT_IPV6_REASON = "not_ipv6"


def linktype_name(linktype: int) -> str:
    name = SUPPORTED_LINKTYPES.get(linktype) or OTHER_LINKTYPES.get(linktype)
    return name or f"LINKTYPE_{linktype}"


def unsupported_reason(linktype: int) -> str:
    """The skip reason counted for the frames of an unsupported link type:
    ``unsupported_linktype_`` and its name in lower case, or its number."""
    name = OTHER_LINKTYPES.get(linktype) or SUPPORTED_LINKTYPES.get(linktype)
    return f"unsupported_linktype_{name.lower() if name else linktype}"


def not_ipv6_reason(linktype: int, data: bytes) -> str:
    """Why a frame whose :func:`ip6_offset` is None is skipped: ``not_ipv6``, a reason
    of its link layer (802.11: ``wlan_protected``, ``wlan_not_data``, ``wlan_null_data``,
    ``wlan_amsdu``), or ``unsupported_linktype_NAME`` for a link type not read."""
    if linktype not in _BY_LINKTYPE:
        return unsupported_reason(linktype)
    why = _WHY.get(linktype)
    return why(data) if why is not None else NOT_IPV6_REASON
