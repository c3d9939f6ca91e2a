"""The packets the simulated nodes exchange: wire octets plus what the nodes read.

A :class:`Pkt` carries the exact IPv6 octets (built with :mod:`ebutool.wire.build`, so
checksums and alignment are RFC 6275's) and, beside them, the decoded facts the
receiving node acts on, so no node has to parse octets.  Binding updates and
acknowledgements get a real authenticator (RFC 6275 5.2.6): the message is built
with a placeholder, its MAC data taken from the encoded octets, and then rebuilt
with the real value (the checksum is computed last, over the final octets).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, replace

from ebutool.core import constants as C
from ebutool.core.addr import pton
from ebutool.oracle import crypto
from ebutool.wire import build
from ebutool.wire.mh.codec import aligned, encode_mh, mac_data
from ebutool.wire.mh.messages import MobilityMessage
from ebutool.wire.mh.mobility_options import BindingAuthorizationData


@dataclass(slots=True)
class Pkt:
    wire: bytes  # the whole IPv6 packet
    src: str  # (outer) source address
    dst: str  # (outer) destination address
    msg: MobilityMessage | None = None  # the MH message, None for data
    hoa: str | None = None  # Home Address option
    home: str | None = None  # type 2 routing header address
    inner: Pkt | None = None  # the tunnelled packet (IPv6-in-IPv6)
    mh_wire: bytes = b""  # the MH octets (for MAC checks at the receiver)
    flow: int = -1  # data: index of the flow, and packet number
    number: int = -1


def mh(
    msg: MobilityMessage, src: str, dst: str, hoa: str | None = None, home: str | None = None
) -> Pkt:
    """A Mobility Header packet with a correct checksum."""
    m = aligned(msg)
    wire = build.mh_packet(m, src, dst, hoa=hoa, home=home, align=False)
    mh_wire = encode_mh(m, pton(hoa or src), pton(home or dst))
    return Pkt(wire, src, dst, m, hoa, home, mh_wire=mh_wire)


def signed(
    msg: MobilityMessage,
    key: bytes,
    coa: str,
    cn: str,
    src: str,
    dst: str,
    hoa: str | None = None,
    home: str | None = None,
) -> Pkt:
    """``msg`` (without authorization data) with a Binding Authorization Data option
    whose authenticator is First(96, HMAC_SHA1(key, coa | cn | MH data))."""
    draft = aligned(replace(msg, options=[*msg.options, BindingAuthorizationData()]))
    data = mac_data(encode_mh(draft))
    assert data is not None  # the draft has its Binding Authorization Data option
    mac = crypto.authenticator(key, pton(coa), pton(cn), data)
    final = replace(
        draft,
        options=[
            BindingAuthorizationData(mac) if isinstance(o, BindingAuthorizationData) else o
            for o in draft.options
        ],
    )
    return mh(final, src, dst, hoa=hoa, home=home)


def mac_ok(pkt: Pkt, key: bytes, coa: str, cn: str) -> bool:
    """True when ``pkt``'s authenticator was made with ``key`` for (coa, cn)."""
    auth = pkt.msg.option(BindingAuthorizationData) if pkt.msg is not None else None
    data = mac_data(pkt.mh_wire)
    if auth is None or data is None:
        return False
    return crypto.same(auth.authenticator, crypto.authenticator(key, pton(coa), pton(cn), data))


def tunnelled(outer_src: str, outer_dst: str, inner: Pkt) -> Pkt:
    """``inner`` in an IPv6-in-IPv6 tunnel (MN <-> HA)."""
    return Pkt(build.tunnel(outer_src, outer_dst, inner.wire), outer_src, outer_dst, inner=inner)


def forwarded(pkt: Pkt) -> Pkt:
    """``pkt`` as a router sends it on: its (outer) hop limit one less (RFC 8200 3)."""
    wire = bytearray(pkt.wire)
    wire[7] = max(wire[7] - 1, 0)
    return replace(pkt, wire=bytes(wire))


def data(
    src: str,
    dst: str,
    flow: int,
    number: int,
    size: int,
    sport: int,
    dport: int,
    hoa: str | None = None,
    home: str | None = None,
) -> Pkt:
    """A UDP datagram of ``size`` payload octets: flow index and packet number, then zeros."""
    payload = struct.pack("!II", flow, number) + bytes(size - 8)
    wire = build.udp_packet(src, dst, payload, sport=sport, dport=dport, hoa=hoa, home=home)
    return Pkt(wire, src, dst, hoa=hoa, home=home, flow=flow, number=number)


def home_token(kcn: bytes, hoa: str, nonce: bytes) -> bytes:
    return crypto.home_keygen_token(kcn, pton(hoa), nonce)


def careof_token(kcn: bytes, coa: str, nonce: bytes) -> bytes:
    return crypto.careof_keygen_token(kcn, pton(coa), nonce)


def lifetime_units(seconds: float) -> int:
    """A lifetime in the BU/BA field's 4-second units, rounded up, at least 1 (a
    lifetime of 0 would mean deletion), at most 0xFFFF."""
    return max(1, min(0xFFFF, -int(-seconds // C.LIFETIME_UNIT_S)))
