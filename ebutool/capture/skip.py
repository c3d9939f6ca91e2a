"""The skip rule: which packets a walker may count without handing them on.

In a real capture well under 2% of the packets are Mobile IPv6 signalling or
route-optimised data; the rest (ordinary TCP/UDP/ICMPv6, IPv4, ARP) only need to be
*counted*.  A walker given :data:`MOBILITY` decides from a few octets whether a packet
can matter and yields a Frame only for the candidates; the others are counted in the
caller's stats exactly as :func:`ebutool.stream.reader.records_from_frames` would count
them, so every Record, diagnosis and count is the same as with :data:`NONE` (the
reference run: every frame is yielded).

The decision (:func:`must_decode`), for the IPv6 header at ``buf[ip]`` of a frame that
ends at ``buf[end]``:

- fewer than 40 octets: decode (the decoder reports ``truncated_ipv6``);
- next header in :data:`SKIP_NEXT_HEADERS` (TCP, UDP, ICMPv6, no next header, ...; not ESP):
  skip -- the decoder would stop right there, irrelevant and silent;
- Hop-by-Hop, Routing (not type 2), Fragment, AH: walk the chain exactly as the decoder
  does; skip only when it ends cleanly in a skippable header (or a non-first fragment);
  anything odd (a header cut off, a type 2 routing header) goes to the decoder;
- everything else (Mobility Header 135 or 62, IPv6-in-IPv6 41, Destination Options
  that may hold a Home Address option, unknown numbers): decode.

A frame that is not IPv6 at all is skipped as ``not_ipv6``, or under the reason its
link layer gives (:func:`~ebutool.capture.linktypes.not_ipv6_reason`: a protected or
management 802.11 frame, a frame of a link type ebutool does not read, ...).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal, Protocol

from ebutool.capture.linktypes import (
    CODED_LINKTYPES,
    ETHERTYPE_IPV6,
    NOT_IPV6_REASON,
    REASON_OF_CODE,
    VLAN_TYPES,
    ip6_offset_func,
    not_ipv6_reason,
)

# Upper-layer next-header values at which the IPv6 decoder stops without looking
# further and without a diagnosis: TCP, UDP, ICMPv6, no next header, IPv4-in-IPv6, GRE,
# SCTP, UDP-Lite.  (Keep this list to protocols the decoder treats as opaque; tests
# check each one against the decoder.)  ESP (50) is not here: an ESP packet goes on to
# record_from_packet, whose first test counts one of an SPI without SA by SPI without
# decoding it (ebutool.esp.context.EspContext.skip_unknown; the esp_no_sa hint needs
# the counts), and decrypts those of known SAs.
SKIP_NEXT_HEADERS = frozenset((6, 17, 58, 59, 4, 47, 132, 136))
# Extension headers the walk below follows (the decoder follows them the same way).
WALK_NEXT_HEADERS = frozenset((0, 43, 44, 51))

# What classify() answers besides an IPv6 offset: skipped as not_ipv6, as
# not_mobility_related, or under another reason already counted in ``skipped`` (the
# walker then counts only the frame).
NOT_IPV6, NOT_MOBILITY, COUNTED = -1, -2, -3


@dataclass(frozen=True)
class SkipRule:
    """The next headers a walker may skip at, and those it walks through to decide.
    An empty rule (:data:`NONE`) skips nothing: the walker yields every frame."""

    next_headers: frozenset[int]
    walk_headers: frozenset[int]

    def __bool__(self) -> bool:
        return bool(self.next_headers)


NONE = SkipRule(frozenset(), frozenset())
MOBILITY = SkipRule(SKIP_NEXT_HEADERS, WALK_NEXT_HEADERS)


class Counts(Protocol):
    """Where skipped frames are counted (``ebutool.records.from_packet.StreamStats``)."""

    frames: int
    numbered_blocks: int  # pcapng blocks numbered as frames that are no packets
    ipv6: int
    skipped: Counter
    time_decimals: int  # 6, or 9 once a capture has nanosecond timestamps


@dataclass
class Tally:
    """Counts for a walker whose caller keeps none (the reference run skips nothing)."""

    frames: int = 0
    numbered_blocks: int = 0
    ipv6: int = 0
    skipped: Counter = field(default_factory=Counter)
    time_decimals: int = 6


def must_decode(buf, ip: int, end: int) -> bool:
    """True unless the IPv6 packet at ``buf[ip:end]`` certainly cannot matter (see module doc)."""
    if end - ip < 40:
        return True
    nh = buf[ip + 6]
    if nh in SKIP_NEXT_HEADERS:
        return False
    if nh in WALK_NEXT_HEADERS:
        return walk_must_decode(buf, ip, end, nh)
    return True


def walk_must_decode(buf, ip: int, end: int, nh: int) -> bool:
    """The decoder's extension-header loop from next header ``nh``, answering only
    "must decode?"."""
    plen = (buf[ip + 4] << 8) | buf[ip + 5]
    if plen and ip + 40 + plen < end:
        end = ip + 40 + plen
    i = ip + 40
    while True:
        if nh == 0 or nh == 43 or nh == 51:
            if i + 2 > end:
                return True  # truncated_ext_header
            hlen = (buf[i + 1] + 2) * 4 if nh == 51 else (buf[i + 1] + 1) * 8
            if i + hlen > end:
                return True  # truncated_ext_header
            if nh == 43 and buf[i + 2] == 2:
                return True  # type 2 routing header
            nh = buf[i]
            i += hlen
        elif nh == 44:
            if i + 8 > end:
                return True  # truncated fragment header
            if ((buf[i + 2] << 8) | buf[i + 3]) >> 3:
                return False  # a later fragment: the decoder stops here
            nh = buf[i]
            i += 8
        else:
            return nh not in SKIP_NEXT_HEADERS


def not_ipv6(linktype: int, data: bytes, skipped: Counter) -> int:
    """NOT_IPV6 (the key registered), or COUNTED with the frame's own reason counted."""
    return count_reason(not_ipv6_reason(linktype, data), skipped)


def count_reason(reason: str, skipped: Counter) -> int:
    """NOT_IPV6 for ``not_ipv6`` (the key registered), else COUNTED (``reason`` counted)."""
    if reason == NOT_IPV6_REASON:
        if reason not in skipped:
            skipped[reason] += 0
        return NOT_IPV6
    skipped[reason] += 1
    return COUNTED


def classify(linktype: int, data: bytes, skipped: Counter) -> int:
    """IPv6 offset of a frame that must be decoded, NOT_IPV6, NOT_MOBILITY (registering
    the skip reason's key in ``skipped`` on its first occurrence, to keep the key order)
    or COUNTED (another reason, counted: see :func:`not_ipv6`)."""
    coded = CODED_LINKTYPES.get(linktype)
    if coded is not None:  # one pass gives the offset or the reason
        off = coded(data)
        if off < 0:
            return count_reason(REASON_OF_CODE[off], skipped)
    else:
        fn = ip6_offset_func(linktype)
        found = fn(data) if fn is not None else None
        if found is None:
            return not_ipv6(linktype, data, skipped)
        off = found
    if not must_decode(data, off, len(data)):
        if "not_mobility_related" not in skipped:
            skipped["not_mobility_related"] += 0
        return NOT_MOBILITY
    return off


def classify_at(buf, start: int, end: int, linktype: int, offset_of, skipped: Counter) -> int:
    """:func:`classify` of the frame ``buf[start:end]`` of ``linktype``, whose IPv6 test
    is ``offset_of`` (:func:`~ebutool.capture.linktypes.ip6_offset_func`); a raw IPv6
    link is tested in place."""
    if offset_of in RAW_OFFSET:
        data = b""
        off = 0 if end > start and buf[start] >> 4 == 6 else None
    elif linktype in CODED_LINKTYPES:
        return classify(linktype, bytes(buf[start:end]), skipped)
    else:
        data = bytes(buf[start:end])
        off = offset_of(data)
    if off is None:
        return not_ipv6(linktype, data, skipped)
    if not must_decode(buf, start + off, end):
        if "not_mobility_related" not in skipped:
            skipped["not_mobility_related"] += 0
        return NOT_MOBILITY
    return off


def time_decimals(tick_ns: float) -> int:
    """Decimals of epoch seconds at a clock tick of ``tick_ns``: 9 when finer than 1 us."""
    return 9 if tick_ns < 1000 else 6


def flush(stats: Counts, nv6: int, nirr: int) -> None:
    """Add ``nv6`` frames skipped as not IPv6 and ``nirr`` as not mobility related."""
    stats.frames += nv6 + nirr
    stats.ipv6 += nirr
    if nv6:
        stats.skipped["not_ipv6"] += nv6
    if nirr:
        stats.skipped["not_mobility_related"] += nirr


def register(skipped: Counter, reason: str) -> None:
    """Register a skip reason's key on its first occurrence (keeps the reference's order)."""
    if reason not in skipped:
        skipped[reason] += 0


# Link types whose IPv6 test is an EtherType: (offset of the EtherType, offset of the
# network header).  The walkers read the EtherType, the first IPv6 octet and the next
# header of such frames with one struct call; anything unusual (VLAN tags, short
# frames, a record at the end of the buffer) takes the general path.
ETHERTYPE_LINKS = {1: (12, 14), 113: (14, 16), 276: (0, 20)}
RAW_LINKS = frozenset((12, 14, 101, 229))
RAW_OFFSET = frozenset(ip6_offset_func(lt) for lt in RAW_LINKS)


def ethertypes(order: str) -> tuple[int, frozenset[int]]:
    """The IPv6 and VLAN EtherTypes as a probe with byte order ``order`` reads them: the
    probes read the (big-endian) EtherType as an "H" in the file's byte order, so that one
    struct call serves all fields, and an int compares faster than a 2-octet bytes."""
    as_read: Literal["little", "big"] = "little" if order == "<" else "big"

    def value(t: int) -> int:
        return int.from_bytes(t.to_bytes(2, "big"), as_read)

    return value(ETHERTYPE_IPV6), frozenset(map(value, VLAN_TYPES))
