"""IPv6 packet decoding: the extension-header chain and IPv6-in-IPv6 tunnels.

:func:`decode_ipv6` turns the IPv6 bytes of one frame into a :class:`Packet` that
says what matters to Mobile IPv6 analysis: addresses, the Home Address option,
the type 2 routing header, the tunnel endpoints, and the Mobility Header octets
if there is one (behind another routing header still in transit, the final
destination: :mod:`ebutool.wire.routing`).  Packets that cannot matter (no MH, no
HAO, no type 2 RH, not tunnelled) come back with ``relevant == False``.  Malformed
headers never raise: each anomaly is appended to ``problems`` as (code, one-line
message).
:func:`decode_ipv6_fields` gives the same as a plain tuple, for the hot path that
builds a Record straight away (:func:`ebutool.stream.reader.record_from_packet`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ebutool.core import constants as C
from ebutool.core.addr import CACHE_SIZE, format_address
from ebutool.wire.routing import final_destination, in_transit

NH_MOBILITY_OLD = C.NH_MOBILITY_OLD
_MAX_TUNNEL_DEPTH = 2  # MN<->HA tunnel, and one more for nested tunnels; deeper is odd


@dataclass(slots=True)
class Packet:
    # (the field order is the order of decode_ipv6_fields' tuple)
    src: str  # innermost IPv6 source address
    dst: str  # innermost IPv6 destination address (as on the wire, except the final
    # destination of a routing header other than type 2 in transit: ebutool.wire.routing)
    hoa: str | None = None  # Home Address destination option (innermost header)
    rh2: str | None = None  # address in a type 2 routing header (the MN's home address)
    tunnel_src: str | None = None  # outer addresses of an IPv6-in-IPv6 tunnel
    tunnel_dst: str | None = None
    proto: int = C.NH_NONE  # the upper-layer protocol (135 for MH, 50 ESP, ...)
    ip_len: int = 0  # octets of the outermost IPv6 packet (header + payload)
    mh: bytes | None = None  # the Mobility Header octets, if any (may be truncated);
    # ``proto`` is 135, or 62 for the pre-RFC 3775 number
    pseudo_src: bytes = b""  # checksum pseudo-header source (HAO if present)
    pseudo_dst: bytes = b""  # checksum pseudo-header destination (RH2 address if present)
    fragment: bool = False  # the packet is a fragment (not reassembled); atomic
    # fragments (offset 0, M=0, RFC 6946) are whole packets

    @property
    def relevant(self) -> bool:
        return is_relevant(self.mh, self.hoa, self.rh2, self.tunnel_src)


def is_relevant(mh: bytes | None, hoa: str | None, rh2: str | None, tunnel_src: str | None) -> bool:
    """What makes a packet matter to Mobile IPv6 analysis: a Mobility Header, a Home
    Address option, a type 2 routing header or an IPv6-in-IPv6 tunnel."""
    return mh is not None or hoa is not None or rh2 is not None or tunnel_src is not None


def decode_ipv6(buf: bytes, off: int, problems: list[tuple[str, str]]) -> Packet | None:
    """Decode the IPv6 packet at ``buf[off:]``; None when not even the fixed header is there."""
    fields = decode_ipv6_fields(buf, off, problems)
    return None if fields is None else Packet(*fields)


# PadN of two octets, then the Home Address option's type and length: the layout of a
# Destination Options header that holds just the HAO (RFC 6275 6.3: 8n+6 alignment).
_HAO_ALONE = bytes((C.OPT_PADN, 2, 0, 0, C.OPT_HOME_ADDRESS, C.HAO_LEN))
_EXT_HEADERS = frozenset((C.NH_HOPOPTS, C.NH_DSTOPTS, C.NH_ROUTING, C.NH_AH))
_MOBILITY = C.MH_NEXT_HEADERS


# Address octets -> text for the loop below, which looks them up in place (a third of
# the cost of calling the cached ntop): a capture reuses few addresses.
# This dict is the decoder's only address cache (it converts with the uncached
# format_address, so ntop's cache does not hold the same addresses again).
_TEXT: dict[bytes, str] = {}
_TEXT_MAX = CACHE_SIZE


def _text(octets: bytes) -> str:
    """``ntop(octets)``, remembered in _TEXT (emptied when full)."""
    if len(_TEXT) >= _TEXT_MAX:
        _TEXT.clear()
    text = _TEXT[octets] = format_address(octets)
    return text


# decode_ipv6_fields' answer: Packet's fields, in Packet's order.
IPv6Fields = tuple[
    str,
    str,
    str | None,
    str | None,
    str | None,
    str | None,
    int,
    int,
    bytes | None,
    bytes,
    bytes,
    bool,
]


# Problems of a packet (code, text), for the loop below: fixed texts made once, the
# others by helpers that run only when the packet has the problem.
_TUNNEL_TOO_DEEP = ("tunnel_too_deep", f"more than {_MAX_TUNNEL_DEPTH} nested IPv6 tunnels")
_FRAGMENTED_MH = (
    "fragmented_mh",
    "Mobility Header in the first fragment of a fragmented packet (fragments are not reassembled)",
)
_HBH_NOT_FIRST = (
    "misplaced_hop_by_hop",
    "Hop-by-Hop Options header not immediately after the IPv6 header (RFC 8200 4.1): "
    "a receiver drops the packet; decoded anyway",
)
_OLD_MH_PROTOCOL = (
    "old_mh_protocol",
    "next header 62, the pre-RFC 3775 Mobility Header number: decoded as a Mobility Header",
)


def _truncated_ipv6(tunnelled: bool, left: int) -> tuple[str, str]:
    what = "tunnelled IPv6 header" if tunnelled else "IPv6 header"
    return "truncated_ipv6", f"{what} cut off at {max(left, 0)} of 40 octets"


def _tunnel_cut(claimed: int, carried: int) -> tuple[str, str]:
    return (
        "truncated_tunnel",
        f"tunnelled IPv6 packet claims {claimed} payload octets, the outer packet carries "
        f"{max(carried, 0)}: decoded as far as it goes",
    )


MH_EXCEEDS_PAYLOAD = "mh_exceeds_payload_length"  # (the code of _mh_exceeds_payload)


def _mh_exceeds_payload(mh: bytes, plen: int) -> tuple[str, str]:
    """A Mobility Header longer than the IPv6 Payload Length leaves it, in a packet the
    capture holds to the end of that length: the header says the packet ends inside the
    message (a receiver drops it, RFC 8200 3 and RFC 6275 9.2), whatever the frame
    holds after it; no capture cut (record_from_packet: not decoded as a message)."""
    what = (
        f"{(mh[1] + 1) * 8} octets (Header Len {mh[1]})"
        if len(mh) >= 2
        else f"at least {C.MH_FIXED_LEN} octets"
    )
    return (
        "mh_exceeds_payload_length",
        f"Mobility Header of {what} exceeds the IPv6 Payload Length {plen}, which leaves it "
        f"{len(mh)}: a malformed packet, not a capture cut; not decoded as a message "
        "(a receiver drops it)",
    )


def _ext_header_too_long(nh: int, hlen: int) -> tuple[str, str]:
    return "truncated_ext_header", f"extension header {nh} of {hlen} octets exceeds the packet"


def _malformed_rh2(hlen: int, segments_left: int) -> tuple[str, str]:
    return (
        "malformed_rh2",
        f"type 2 routing header of {hlen} octets, "
        f"segments left {segments_left} (RFC 6275: 24 octets, 1)",
    )


def _packet_bytes(buf: bytes | bytearray | memoryview, off: int) -> tuple[bytes, int]:
    """A bytearray or memoryview's packet at ``off`` as bytes (the slices of the decoder
    must come out as bytes), and its offset there (0).  Only this packet is copied (to
    the end of the buffer for a jumbogram or a cut header), not all of a large buffer
    the caller walks packet by packet."""
    stop = len(buf)
    if stop - off >= 6 and (buf[off + 4] or buf[off + 5]):
        stop = min(stop, off + C.IPV6_HEADER_LEN + (buf[off + 4] << 8 | buf[off + 5]))
    return bytes(buf[off:stop]), 0


def decode_ipv6_fields(buf: bytes, off: int, problems: list[tuple[str, str]]) -> IPv6Fields | None:
    """What :func:`decode_ipv6` finds, in :class:`Packet` field order: this runs for every
    candidate packet, and record_from_packet builds its Record without a Packet between."""
    if type(buf) is not bytes:
        buf, off = _packet_bytes(buf, off)
    limit = len(buf)  # where the enclosing packet ends (the frame, or the outer payload)
    depth = ip_len = 0
    tunnel_src: str | None = None
    tunnel_dst: str | None = None
    outer: IPv6Fields | None = None  # the enclosing packet's (the answer if a tunnel is bad)
    # Where the enclosing packet's Payload Length ends it (-1: none; beyond: truncated_tunnel)
    declared = -1
    while True:  # one pass per IPv6 header: the outer one, then tunnelled ones
        if limit - off < C.IPV6_HEADER_LEN:
            problems.append(_truncated_ipv6(outer is not None, limit - off))
            return outer
        if buf[off] >> 4 != 6:
            problems.append(("not_ipv6", f"IP version {buf[off] >> 4} where IPv6 was expected"))
            return outer
        plen, nh = buf[off + 4] << 8 | buf[off + 5], buf[off + 6]
        pseudo_src, pseudo_dst = buf[off + 8 : off + 24], buf[off + 24 : off + 40]
        src = _TEXT.get(pseudo_src) or _text(pseudo_src)
        dst = _TEXT.get(pseudo_dst) or _text(pseudo_dst)
        if outer is None:  # (0: unknown, a Payload Length of 0)
            ip_len = C.IPV6_HEADER_LEN + plen if plen else 0
        hoa = rh2 = None
        said: list[tuple[str, str]] = []  # warnings said only if the packet matters (below)
        fragment, inner = False, -1  # (inner: where a tunnelled IPv6 header starts, if any)
        end = off + C.IPV6_HEADER_LEN + plen
        if declared >= 0 and end > declared and plen:
            problems.append(_tunnel_cut(plen, declared - off - C.IPV6_HEADER_LEN))
        if not plen:  # a jumbogram (RFC 2675), or a segmentation offload's: said
            end = _zero_payload_length(buf, off, limit, nh, said)
        whole = bool(plen) and end <= limit  # the capture holds all the payload claimed
        end = min(end, limit)  # (beyond: cut by the capture)
        i = off + C.IPV6_HEADER_LEN
        while True:
            if nh in _EXT_HEADERS:
                if i + 2 > end:
                    problems.append(("truncated_ext_header", f"extension header {nh} cut off"))
                    break
                hlen = (buf[i + 1] + 2) * 4 if nh == C.NH_AH else (buf[i + 1] + 1) * 8
                if nh == C.NH_HOPOPTS and i != off + C.IPV6_HEADER_LEN:
                    said.append(_HBH_NOT_FIRST)  # (tshark: ipv6.hopopts.not_first)
                if i + hlen > end:
                    problems.append(_ext_header_too_long(nh, hlen))
                    break
                if nh == C.NH_DSTOPTS:
                    found = (
                        buf[i + hlen - C.HAO_LEN : i + hlen]  # the usual header: PadN, HAO
                        if hlen == C.HAO_DSTOPTS_LEN and buf[i + 2 : i + 8] == _HAO_ALONE
                        else _home_address_option(buf, i + 2, i + hlen, problems)
                    )
                    if found is not None:
                        pseudo_src = found
                        hoa = _TEXT.get(found) or _text(found)
                elif nh == C.NH_ROUTING and buf[i + 2] == C.ROUTING_TYPE_2:
                    if hlen != C.RH2_LEN or buf[i + 3] != 1:
                        problems.append(_malformed_rh2(hlen, buf[i + 3]))
                    else:
                        pseudo_dst = buf[i + 8 : i + 24]
                        rh2 = _TEXT.get(pseudo_dst) or _text(pseudo_dst)
                elif nh == C.NH_ROUTING and buf[i + 3]:  # another type, segments left
                    pseudo_dst, dst, transit = _route_in_transit(buf, i, hlen, pseudo_dst, dst)
                    said.append(transit)
                nh = buf[i]
                i += hlen
            elif nh == C.NH_FRAGMENT:
                if i + 8 > end:
                    problems.append(("truncated_ext_header", "fragment header cut off"))
                    break
                offlg = buf[i + 2] << 8 | buf[i + 3]
                fragment |= offlg & 0xFFF9 != 0  # offset or M flag (else RFC 6946 atomic)
                if offlg >> 3:  # a later fragment: what it carries is unknown without reassembly
                    break
                nh = buf[i]
                i += 8
            elif nh == C.NH_IPV6:
                if depth >= _MAX_TUNNEL_DEPTH:
                    problems.append(_TUNNEL_TOO_DEEP)
                else:
                    inner = i
                break
            else:
                break
        mh = None
        if said and (inner >= 0 or nh in _MOBILITY or hoa or rh2):
            problems.extend(said)  # (on other packets: an RPL network's own traffic, ...)
        if inner < 0 and nh in _MOBILITY:
            mh = _mobility_header(buf[i:end], nh, fragment, plen if whole else -1, problems)
        fields: IPv6Fields = (
            src, dst, hoa, rh2, tunnel_src, tunnel_dst, nh, ip_len, mh, pseudo_src, pseudo_dst,
            fragment,
        )  # fmt: skip
        if inner < 0:
            return fields
        # IPv6-in-IPv6: what matters is the tunnelled packet, seen through this one
        outer, tunnel_src, tunnel_dst = fields, src, dst
        declared = off + C.IPV6_HEADER_LEN + plen if plen else -1
        off, limit, depth = inner, end, depth + 1


def _zero_payload_length(
    buf: bytes, off: int, limit: int, nh: int, problems: list[tuple[str, str]]
) -> int:
    """Where the IPv6 packet at ``buf[off:]`` with Payload Length 0 ends: a jumbogram
    (RFC 2675: a Hop-by-Hop header first, with a Jumbo Payload option) where its Jumbo
    Payload Length says; otherwise (a jumbogram of a sender's segmentation offload,
    Linux BIG TCP, captured before the offload cut it) at ``limit``, the end of the
    frame (or of the outer packet).  Either is said: its length is not read (ip_len 0,
    unknown: a trace's ip_len holds 16 bits' worth)."""
    i = off + C.IPV6_HEADER_LEN
    jumbo = None
    if nh == C.NH_HOPOPTS and i + 2 <= limit and i + (buf[i + 1] + 1) * 8 <= limit:
        jumbo = _jumbo_payload_length(buf, i + 2, i + (buf[i + 1] + 1) * 8)
    if jumbo is None:
        problems.append(
            (
                "ipv6_payload_length_zero",
                "IPv6 Payload Length 0 without a Jumbo Payload option (RFC 2675; a sender's "
                "segmentation offload?): read to the end of the frame, packet length "
                "unknown (ip_len empty)",
            )
        )
        return limit
    problems.append(
        (
            "ipv6_jumbogram",
            f"IPv6 jumbogram (RFC 2675): Jumbo Payload Length {jumbo}; its length is not "
            "read (ip_len empty), decoded as far as it goes",
        )
    )
    return i + jumbo


def _jumbo_payload_length(buf: bytes, i: int, end: int) -> int | None:
    """The Jumbo Payload Length in the Hop-by-Hop options ``buf[i:end]``, if any."""
    while i < end:
        if buf[i] == C.OPT_PAD1:
            i += 1
            continue
        if i + 2 > end or i + 2 + buf[i + 1] > end:
            return None  # (the walk of the header says nothing of its options)
        if buf[i] == C.OPT_JUMBO_PAYLOAD and buf[i + 1] == C.JUMBO_LEN:
            return int.from_bytes(buf[i + 2 : i + 2 + C.JUMBO_LEN], "big")
        i += 2 + buf[i + 1]
    return None


def _mobility_header(
    mh: bytes, nh: int, fragment: bool, plen: int, problems: list[tuple[str, str]]
) -> bytes:
    """The Mobility Header octets ``mh`` (to the end of the payload, or of the capture)
    under next header ``nh``, their problems said; ``plen``: the packet's Payload
    Length when the capture holds all the payload it claims, else -1."""
    if nh == NH_MOBILITY_OLD:
        problems.append(_OLD_MH_PROTOCOL)
    elif fragment:
        problems.append(_FRAGMENTED_MH)
    n = len(mh)
    if plen >= 0 and not fragment and (n < C.MH_FIXED_LEN or (mh[1] + 1) * 8 > n):
        problems.append(_mh_exceeds_payload(mh, plen))  # its Header Len exceeds the packet
    return mh


def _route_in_transit(
    buf: bytes, i: int, hlen: int, pseudo_dst: bytes, dst: str
) -> tuple[bytes, str, tuple[str, str]]:
    """(pseudo-header destination, destination, warning) of a packet whose routing
    header (not type 2) at ``buf[i]`` has segments left: the final destination when
    it is found (ebutool.wire.routing), else the hop as it was."""
    final = final_destination(buf, i, hlen, pseudo_dst)
    if final is None:
        return pseudo_dst, dst, in_transit(buf[i + 2], buf[i + 3], dst, None)
    to = _TEXT.get(final) or _text(final)
    return final, to, in_transit(buf[i + 2], buf[i + 3], dst, to)


def _home_address_option(
    buf: bytes, i: int, end: int, problems: list[tuple[str, str]]
) -> bytes | None:
    """Walk destination options (RFC 8200 4.2 TLVs); return the Home Address, if any."""
    hao = None
    while i < end:
        otype = buf[i]
        if otype == 0:  # Pad1
            i += 1
            continue
        if i + 2 > end:
            problems.append(("malformed_dst_option", "destination option without a length octet"))
            break
        olen = buf[i + 1]
        if i + 2 + olen > end:
            problems.append(
                (
                    "malformed_dst_option",
                    f"destination option {otype} of {olen} octets exceeds its header",
                )
            )
            break
        if otype == C.OPT_HOME_ADDRESS:
            if olen != C.HAO_LEN:
                problems.append(
                    ("malformed_hao", f"Home Address option of {olen} octets (RFC 6275: 16)")
                )
            else:
                hao = buf[i + 2 : i + 18]
        i += 2 + olen
    return hao
