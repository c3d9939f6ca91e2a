"""Routing headers other than type 2 still in transit: the packet's final destination.

A packet captured while a routing header still has segments left (an RPL source route
in a low-power network, RFC 6554 type 3; a Segment Routing header, RFC 8754 type 4; the
deprecated type 0, RFC 5095) carries a hop on its way in its destination address, not
the node it is for.  RFC 8200 8.1: an upper-layer checksum (the Mobility Header's too)
is computed with the final destination; and the analysis must see the node a message
is for, not a router on the way.  :func:`final_destination` finds it;
:func:`in_transit` is the counted warning that says the destination was replaced (or
could not be).  A type 2 routing header (RFC 6275) is the decoder's own business.
"""

from __future__ import annotations

ROUTING_TYPE_0 = 0  # RFC 2460 source route (deprecated, RFC 5095): full addresses
ROUTING_TYPE_RPL = 3  # RFC 6554 RPL source route: addresses with an elided prefix
ROUTING_TYPE_SRH = 4  # RFC 8754 Segment Routing header: Segment List[0] is the last
ROUTING_FIXED_LEN = 8  # next header, length, type, segments left, 4 type-specific octets
ADDRESS_LEN = 16


def final_destination(buf: bytes, i: int, hlen: int, dst: bytes) -> bytes | None:
    """The final destination (16 octets) of the routing header ``buf[i : i + hlen]``
    (of a packet whose destination address is ``dst``), None when its type is not known
    here or it does not hold one."""
    rtype, left = buf[i + 2], buf[i + 3]
    body = hlen - ROUTING_FIXED_LEN
    if rtype == ROUTING_TYPE_0:
        n = body // ADDRESS_LEN
        if n < 1 or left > n:
            return None
        start = i + ROUTING_FIXED_LEN + (n - 1) * ADDRESS_LEN
        return buf[start : start + ADDRESS_LEN]
    if rtype == ROUTING_TYPE_SRH:
        if body < ADDRESS_LEN:
            return None
        return buf[i + ROUTING_FIXED_LEN : i + ROUTING_FIXED_LEN + ADDRESS_LEN]
    if rtype == ROUTING_TYPE_RPL:
        return _rpl_final(buf, i, body, left, dst)
    return None


def _rpl_final(buf: bytes, i: int, body: int, left: int, dst: bytes) -> bytes | None:
    """RFC 6554 3: n addresses, the first n-1 of 16-CmprI octets, the last of 16-CmprE,
    each missing the first CmprI (CmprE) octets of the destination address."""
    cmpr_i, cmpr_e, pad = buf[i + 4] >> 4, buf[i + 4] & 0x0F, buf[i + 5] >> 4
    last = ADDRESS_LEN - cmpr_e
    rest = body - pad - last
    if rest < 0 or rest % (ADDRESS_LEN - cmpr_i):
        return None
    n = rest // (ADDRESS_LEN - cmpr_i) + 1
    if left > n:
        return None
    start = i + ROUTING_FIXED_LEN + rest
    return dst[:cmpr_e] + buf[start : start + last]


def in_transit(rtype: int, left: int, hop: str, final: str | None) -> tuple[str, str]:
    """The warning of a routing header of type ``rtype`` with ``left`` segments left in
    a packet whose destination address is ``hop``."""
    where = f"type {rtype} routing header with {left} segment{'s' if left != 1 else ''} left"
    if final is None:
        return (
            "routing_header_in_transit",
            f"{where}: the destination {hop} is a hop on the way and the final one is not "
            "known (the checksum is checked against the hop)",
        )
    return (
        "routing_header_in_transit",
        f"{where}: the destination {hop} is a hop on the way; the final destination "
        f"{final} is taken as the packet's (RFC 8200 8.1)",
    )
