"""IEEE 802.11 frames (link type 105) and 802.11 behind a radiotap header (127).

``parse_dot11(data, at, pad)`` finds the IPv6 header of an 802.11 data frame that
starts at ``data[at]``: a data frame (type 2) of a subtype that carries data (not the
Null and CF-only subtypes), QoS or not, three or four addresses (To DS and From DS
both set), not protected, whose frame body starts with an LLC/SNAP header (RFC 1042
``aa aa 03 00 00 00`` or 802.1H bridge-tunnel ``aa aa 03 00 00 f8``) followed by the
EtherType 0x86dd (after any 802.1Q tags).  It answers the offset, or a negative code
saying why the frame is no IPv6 (:data:`WHY`): protected frames cannot be read without
their keys, management and control frames carry no IP, an A-MSDU packs several frames
in one and is not taken apart.

Header layout (IEEE 802.11-2020, 9.2.3): frame control (2 octets: version, type,
subtype; flags To DS 0x01, From DS 0x02, Protected 0x40, +HTC/Order 0x80), duration (2),
three addresses (18), sequence control (2): 24 octets; a fourth address (6) when To DS
and From DS are both set; QoS data subtypes (subtype bit 3) add the 2-octet QoS
control (bit 7 of its first octet: A-MSDU present), and with +HTC a 4-octet HT control.

Radiotap (https://www.radiotap.org): version 0, pad, ``it_len`` (little endian, the
whole radiotap header), then ``it_present`` words (bit 31 of each: another word
follows).  The 802.11 frame starts at ``it_len`` whatever fields are present; only the
Flags field (present bit 1, after the 8-octet TSFT of bit 0 aligned to 8) is read, for
its "data pad" flag 0x20 (padding between the 802.11 header and the body to a multiple
of 4 octets) and its "bad FCS" flag 0x40 (the frame failed its checksum: skipped as
``wlan_bad_fcs``, its octets cannot be trusted).
"""

from __future__ import annotations

from ebutool.capture.ethertype import ethertype_chain

# Why a frame is not IPv6, as the skip reasons counted in the stats.
NOT_IPV6, NOT_DATA, NULL_DATA, PROTECTED, AMSDU, BAD_FCS = -1, -2, -3, -4, -5, -6
WHY = {
    BAD_FCS: "wlan_bad_fcs",
    NOT_IPV6: "not_ipv6",
    NOT_DATA: "wlan_not_data",
    NULL_DATA: "wlan_null_data",
    PROTECTED: "wlan_protected",
    AMSDU: "wlan_amsdu",
}

FC_TYPE_DATA = 0x08  # type bits (2-3) of the first frame-control octet: data
FC_TO_FROM_DS = 0x03
FC_PROTECTED = 0x40
FC_ORDER = 0x80  # +HTC in QoS data frames
SUBTYPE_NO_DATA = 0x4  # Null, CF-Ack, CF-Poll, CF-Ack+CF-Poll (and their QoS forms)
SUBTYPE_QOS = 0x8
QOS_AMSDU = 0x80
HEADER_3ADDR, ADDR4, QOS_CONTROL, HT_CONTROL = 24, 6, 2, 4
LLC_SNAP = (b"\xaa\xaa\x03\x00\x00\x00", b"\xaa\xaa\x03\x00\x00\xf8")

RADIOTAP_FLAGS_PRESENT, RADIOTAP_TSFT_PRESENT = 0x2, 0x1  # bits of the present word
RADIOTAP_EXT_OCTET = 0x80  # bit 31 of a present word (in its last, little-endian octet)
RADIOTAP_DATA_PAD = 0x20
RADIOTAP_BAD_FCS = 0x40  # the frame failed its FCS check: its octets cannot be trusted


def parse_dot11(data: bytes, at: int, pad: bool = False) -> int:
    """IPv6 offset of the 802.11 frame at ``data[at:]``, or a negative :data:`WHY` code."""
    n = len(data)
    if at + 2 > n:
        return NOT_IPV6
    fc0, fc1 = data[at], data[at + 1]
    if fc0 & 0x0F != FC_TYPE_DATA:  # version 0, type data
        return NOT_DATA if fc0 & 0x03 == 0 else NOT_IPV6
    subtype = fc0 >> 4
    if subtype & SUBTYPE_NO_DATA:
        return NULL_DATA
    if fc1 & FC_PROTECTED:
        return PROTECTED
    if at + HEADER_3ADDR > n:
        return NOT_IPV6
    h = at + HEADER_3ADDR + (ADDR4 if fc1 & FC_TO_FROM_DS == FC_TO_FROM_DS else 0)
    if subtype & SUBTYPE_QOS:
        if h + QOS_CONTROL > n:
            return NOT_IPV6
        if data[h] & QOS_AMSDU:
            return AMSDU
        h += QOS_CONTROL + (HT_CONTROL if fc1 & FC_ORDER else 0)
    if pad:
        h = at + ((h - at + 3) & ~3)
    if data[h : h + 6] not in LLC_SNAP:
        return NOT_IPV6
    off = ethertype_chain(data, h + 6, h + 8)
    return NOT_IPV6 if off is None else off


def radiotap_parse(data: bytes) -> int:
    """IPv6 offset of a radiotap + 802.11 frame, or a negative :data:`WHY` code."""
    if len(data) < 8 or data[0] != 0:
        return NOT_IPV6
    it_len = data[2] | (data[3] << 8)
    pad = False
    if data[4] & RADIOTAP_FLAGS_PRESENT:  # (the low octet of the first present word)
        p = 4
        while data[p + 3] & RADIOTAP_EXT_OCTET:  # further present words before the fields
            p += 4
            if p + 4 > min(it_len, len(data)):
                return NOT_IPV6
        f = p + 4
        if data[4] & RADIOTAP_TSFT_PRESENT:
            f = ((f + 7) & ~7) + 8
        if f < it_len and f < len(data):
            if data[f] & RADIOTAP_BAD_FCS:
                return BAD_FCS
            pad = bool(data[f] & RADIOTAP_DATA_PAD)
    return parse_dot11(data, it_len, pad)


def dot11_code(data: bytes) -> int:
    """IPv6 offset of a plain 802.11 frame, or a negative :data:`WHY` code."""
    return parse_dot11(data, 0)


def dot11(data: bytes) -> int | None:
    off = parse_dot11(data, 0)
    return off if off >= 0 else None


def radiotap(data: bytes) -> int | None:
    off = radiotap_parse(data)
    return off if off >= 0 else None


def dot11_why(data: bytes) -> str:
    """The skip reason of a plain 802.11 frame that is no IPv6."""
    return WHY[min(parse_dot11(data, 0), NOT_IPV6)]


def radiotap_why(data: bytes) -> str:
    """The skip reason of a radiotap + 802.11 frame that is no IPv6."""
    return WHY[min(radiotap_parse(data), NOT_IPV6)]
