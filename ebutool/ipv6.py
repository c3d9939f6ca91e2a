"""IPv6 packet decoding: the extension-header chain and IPv6-in-IPv6 tunnels.

:func:`decode_ipv6` turns the IPv6 bytes of one frame into a :class:`Packet` that
says what matters to Mobile IPv6 analysis: addresses, the Home Address option,
the type 2 routing header, the tunnel endpoints, and the Mobility Header octets
if there is one.  Packets that cannot matter (no MH, no HAO, no type 2 RH, not
tunnelled) come back with ``relevant == False``.  Malformed headers never raise:
each anomaly is appended to ``problems`` as (code, one-line message).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from . import constants as C
from .addr import ntop

_EXT_SIMPLE = (C.NH_HOPOPTS, C.NH_DSTOPTS, C.NH_ROUTING)
NH_MOBILITY_OLD = C.NH_MOBILITY_OLD
_MAX_TUNNEL_DEPTH = 2   # MN<->HA tunnel, and one more for nested tunnels; deeper is odd


@dataclass(slots=True)
class Packet:
    src: str                       # innermost IPv6 source address
    dst: str                       # innermost IPv6 destination address (as on the wire)
    hoa: str | None = None         # Home Address destination option (innermost header)
    rh2: str | None = None         # address in a type 2 routing header (the MN's home address)
    tunnel_src: str | None = None  # outer addresses of an IPv6-in-IPv6 tunnel
    tunnel_dst: str | None = None
    proto: int = C.NH_NONE         # the upper-layer protocol (135 for MH, 50 ESP, ...)
    ip_len: int = 0                # octets of the outermost IPv6 packet (header + payload)
    mh: bytes | None = None        # the Mobility Header octets, if any (may be truncated);
                                   # ``proto`` is 135, or 62 for the pre-RFC 3775 number
    pseudo_src: bytes = b""        # checksum pseudo-header source (HAO if present)
    pseudo_dst: bytes = b""        # checksum pseudo-header destination (RH2 address if present)
    fragment: bool = False         # the packet is a fragment (not reassembled); atomic
                                   # fragments (offset 0, M=0, RFC 6946) are whole packets

    @property
    def relevant(self) -> bool:
        return (self.mh is not None or self.hoa is not None or self.rh2 is not None
                or self.tunnel_src is not None)


def decode_ipv6(buf: bytes, off: int, problems: list[tuple[str, str]]) -> Packet | None:
    """Decode the IPv6 packet at ``buf[off:]``; None when not even the fixed header is there."""
    return _decode(memoryview(buf), off, len(buf), problems, 0, None)


def _decode(buf, off, limit, problems, depth, outer: Packet | None) -> Packet | None:
    # ``limit``: where the enclosing packet ends (the frame, or the outer IPv6 payload).
    if limit - off < C.IPV6_HEADER_LEN:
        what = "IPv6 header" if outer is None else "tunnelled IPv6 header"
        problems.append(("truncated_ipv6", f"{what} cut off at {max(limit - off, 0)} of 40 octets"))
        return outer
    if buf[off] >> 4 != 6:
        problems.append(("not_ipv6", f"IP version {buf[off] >> 4} where IPv6 was expected"))
        return outer
    plen, nh = struct.unpack_from("!HB", buf, off + 4)
    src_b = bytes(buf[off + 8:off + 24])
    dst_b = bytes(buf[off + 24:off + 40])
    pkt = Packet(src=ntop(src_b), dst=ntop(dst_b), ip_len=C.IPV6_HEADER_LEN + plen)
    if outer is not None:
        pkt.tunnel_src, pkt.tunnel_dst, pkt.ip_len = outer.src, outer.dst, outer.ip_len
    pseudo_src, pseudo_dst = src_b, dst_b
    end = min(limit, off + C.IPV6_HEADER_LEN + plen) if plen else limit
    i = off + C.IPV6_HEADER_LEN
    while True:
        if nh in _EXT_SIMPLE or nh == C.NH_AH:
            if i + 2 > end:
                problems.append(("truncated_ext_header", f"extension header {nh} cut off"))
                break
            hlen = (buf[i + 1] + 2) * 4 if nh == C.NH_AH else (buf[i + 1] + 1) * 8
            if i + hlen > end:
                problems.append(("truncated_ext_header",
                                 f"extension header {nh} of {hlen} octets exceeds the packet"))
                break
            if nh == C.NH_DSTOPTS:
                hao = _home_address_option(buf, i + 2, i + hlen, problems)
                if hao is not None:
                    pseudo_src = hao
                    pkt.hoa = ntop(hao)
            elif nh == C.NH_ROUTING and buf[i + 2] == C.ROUTING_TYPE_2:
                if hlen != 24 or buf[i + 3] != 1:
                    problems.append(("malformed_rh2", f"type 2 routing header of {hlen} octets, "
                                     f"segments left {buf[i + 3]} (RFC 6275: 24 octets, 1)"))
                else:
                    pseudo_dst = bytes(buf[i + 8:i + 24])
                    pkt.rh2 = ntop(pseudo_dst)
            nh = buf[i]
            i += hlen
        elif nh == C.NH_FRAGMENT:
            if i + 8 > end:
                problems.append(("truncated_ext_header", "fragment header cut off"))
                break
            offlg = struct.unpack_from("!H", buf, i + 2)[0]
            if offlg & 0xFFF9:   # offset or M flag: a real fragment (else RFC 6946 atomic)
                pkt.fragment = True
            if offlg >> 3:  # a later fragment: what it carries is unknown without reassembly
                break
            nh = buf[i]
            i += 8
        elif nh == C.NH_IPV6:
            if depth >= _MAX_TUNNEL_DEPTH:
                problems.append(("tunnel_too_deep", f"more than {_MAX_TUNNEL_DEPTH} nested IPv6 tunnels"))
                break
            pkt.proto = nh
            pkt.pseudo_src, pkt.pseudo_dst = pseudo_src, pseudo_dst
            inner = _decode(buf, i, end, problems, depth + 1, pkt)
            return inner if inner is not None else pkt
        else:
            break
    pkt.proto = nh
    pkt.pseudo_src, pkt.pseudo_dst = pseudo_src, pseudo_dst
    if nh == C.NH_MOBILITY:
        pkt.mh = bytes(buf[i:end])
        if pkt.fragment:
            problems.append(("fragmented_mh", "Mobility Header in the first fragment of a "
                             "fragmented packet (fragments are not reassembled)"))
    elif nh == NH_MOBILITY_OLD:
        pkt.mh = bytes(buf[i:end])
        problems.append(("old_mh_protocol", "next header 62, the pre-RFC 3775 Mobility Header "
                         "number: decoded as a Mobility Header"))
    return pkt


def _home_address_option(buf, i: int, end: int, problems) -> bytes | None:
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
            problems.append(("malformed_dst_option",
                             f"destination option {otype} of {olen} octets exceeds its header"))
            break
        if otype == C.OPT_HOME_ADDRESS:
            if olen != 16:
                problems.append(("malformed_hao", f"Home Address option of {olen} octets (RFC 6275: 16)"))
            else:
                hao = bytes(buf[i + 2:i + 18])
        i += 2 + olen
    return hao
