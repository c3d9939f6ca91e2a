"""Mobility Header wire codec: bytes <-> message objects, and the MH checksum.

``decode_mh`` never raises on bad input: it returns ``None`` (message unusable) or
a message, and appends one-line descriptions of every anomaly to ``problems``.
``encode_mh`` writes exactly the options it is given (use :func:`aligned` first to
insert RFC 6275 alignment padding), so ``decode_mh(encode_mh(m)) == m`` holds.
"""
from __future__ import annotations

import struct
from dataclasses import fields, replace

from .. import constants as C
from ..addr import ntop, pton
from .messages import (MESSAGE_CLASSES, BindingUpdate, MobilityMessage,
                       OtherMobilityMessage)
from .options import BindingAuthorizationData, decode_options, encode_option, pad_to

_FIXED = struct.Struct("!BBBBH")   # payload proto, header len, MH type, reserved, checksum


def _body_struct(cls: type[MobilityMessage]) -> struct.Struct:
    return struct.Struct("!" + "".join(fmt for _, fmt, _ in cls.BODY))


_BODY = {t: _body_struct(cls) for t, cls in MESSAGE_CLASSES.items()}


def ones_complement_sum(data: bytes, start: int = 0) -> int:
    """16-bit one's complement sum of ``data`` (odd length padded with a zero octet)."""
    if len(data) % 2:
        data = bytes(data) + b"\x00"
    total = start + sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def pseudo_header_sum(src: bytes, dst: bytes, length: int, next_header: int) -> int:
    """Sum of the IPv6 pseudo-header (RFC 8200 8.1) for an upper layer of ``length`` octets."""
    return ones_complement_sum(src + dst + struct.pack("!IxxxB", length, next_header))


def mh_checksum(mh: bytes, src: bytes, dst: bytes) -> int:
    """The checksum the MH ``mh`` (checksum field zeroed by the caller) must carry."""
    total = ones_complement_sum(mh, pseudo_header_sum(src, dst, len(mh), C.NH_MOBILITY))
    return (~total) & 0xFFFF


def checksum_ok(mh: bytes, src: bytes, dst: bytes) -> bool:
    """True when the MH checksum verifies; ``src``/``dst`` already follow RFC 6275's
    rule (home address from the HAO as source, type 2 RH address as destination)."""
    total = ones_complement_sum(mh, pseudo_header_sum(src, dst, len(mh), C.NH_MOBILITY))
    return total == 0xFFFF


def decode_mh(buf: bytes, problems: list[str]) -> MobilityMessage | None:
    """Decode one Mobility Header from ``buf`` (which may hold trailing octets)."""
    if len(buf) < C.MH_FIXED_LEN:
        problems.append(f"Mobility Header cut off: {len(buf)} of at least 6 octets")
        return None
    proto, hlen, mtype, reserved, csum = _FIXED.unpack_from(buf)
    total = (hlen + 1) * 8
    if total > len(buf):
        problems.append(f"Mobility Header length {total} octets but only {len(buf)} captured")
        return None
    mh = bytes(buf[:total])
    cls = MESSAGE_CLASSES.get(mtype)
    if cls is None:
        return OtherMobilityMessage(payload_proto=proto, reserved=reserved, checksum=csum,
                                    header_len=hlen, type_number=mtype, data=mh[C.MH_FIXED_LEN:])
    body = _BODY[mtype]
    if total < cls.OPTIONS_AT:
        problems.append(f"{cls.NAME} of {total} octets is shorter than its {cls.OPTIONS_AT}-octet minimum")
        return None
    values = list(body.unpack_from(mh, C.MH_FIXED_LEN))
    kwargs = {name: val for (name, _, _), val in zip(cls.BODY, values)}
    if "home_address" in kwargs:
        kwargs["home_address"] = ntop(kwargs["home_address"])
    opt_problems: list[str] = []
    options = decode_options(mh[cls.OPTIONS_AT:], opt_problems)
    problems.extend(f"{cls.NAME}: {p}" for p in opt_problems)
    return cls(payload_proto=proto, reserved=reserved, checksum=csum, header_len=hlen,
               options=options, **kwargs)


def _body_bytes(msg: MobilityMessage) -> bytes:
    if isinstance(msg, OtherMobilityMessage):
        return bytes(msg.data)
    values = []
    for name, _, _ in msg.BODY:
        v = getattr(msg, name)
        values.append(pton(v) if name == "home_address" else v)
    return _BODY[msg.MH_TYPE].pack(*values)


def encode_mh(msg: MobilityMessage, src: bytes | None = None, dst: bytes | None = None) -> bytes:
    """Encode ``msg``.  The length comes from ``msg.header_len`` or, when None, from
    the content (which must then be a multiple of 8 octets: see :func:`aligned`).
    The checksum is computed over the pseudo-header when ``src`` and ``dst`` (16
    octets each, already following RFC 6275's rule) are given, else ``msg.checksum``
    (0 when None) is written as is."""
    body = _body_bytes(msg) + b"".join(encode_option(o) for o in msg.options)
    natural = C.MH_FIXED_LEN + len(body)
    if msg.header_len is None:
        if natural % 8:
            raise ValueError(f"{msg.NAME} is {natural} octets, not a multiple of 8: pad it (aligned())")
        hlen = natural // 8 - 1
    else:
        hlen = msg.header_len
        if (hlen + 1) * 8 != natural:
            raise ValueError(f"header_len {hlen} does not fit the {natural}-octet content")
    if not 0 <= hlen <= 255:
        raise ValueError(f"{msg.NAME} of {natural} octets is too long for a Mobility Header")
    fixed = _FIXED.pack(msg.payload_proto, hlen, msg.mh_type, msg.reserved, 0)
    wire = fixed + body
    if src is not None and dst is not None:
        csum = mh_checksum(wire, src, dst)
    else:
        csum = msg.checksum or 0
    return wire[:4] + struct.pack("!H", csum) + wire[6:]


def aligned(msg: MobilityMessage) -> MobilityMessage:
    """A copy of ``msg`` with RFC 6275 alignment padding: existing padding options
    are dropped, Binding Authorization Data is moved last on an 8n+2 boundary, and the
    whole header is padded to a multiple of 8 octets; lengths/checksum recomputed."""
    from .options import Pad1, PadN
    if isinstance(msg, OtherMobilityMessage):
        return replace(msg, header_len=None, checksum=None)
    content = [o for o in msg.options if not isinstance(o, (Pad1, PadN))]
    auth = [o for o in content if isinstance(o, BindingAuthorizationData)]
    content = [o for o in content if not isinstance(o, BindingAuthorizationData)]
    out: list = []
    offset = msg.OPTIONS_AT
    for opt in content:
        out.append(opt)
        offset += len(encode_option(opt))
    for opt in auth[:1]:
        pad = pad_to(offset, 8, 2)
        out.extend(pad)
        offset += sum(len(encode_option(p)) for p in pad)
        out.append(opt)
        offset += len(encode_option(opt))
    out.extend(pad_to(offset, 8, 0))
    return replace(msg, options=out, header_len=None, checksum=None)


def mac_data(mh_wire: bytes) -> bytes | None:
    """The MH octets an authenticator covers (RFC 6275 5.2.6): the whole Mobility
    Header up to and including the Binding Authorization Data option's type and length
    octets, with the checksum field zeroed.  None when there is no such option."""
    cls = MESSAGE_CLASSES.get(mh_wire[2]) if len(mh_wire) > 2 else None
    if cls is None:
        return None
    i = cls.OPTIONS_AT
    while i < len(mh_wire):
        otype = mh_wire[i]
        if otype == C.MOPT_PAD1:
            i += 1
            continue
        if i + 2 > len(mh_wire):
            return None
        if otype == C.MOPT_AUTH_DATA:
            return mh_wire[:4] + b"\x00\x00" + mh_wire[6:i + 2]
        i += 2 + mh_wire[i + 1]
    return None


def message_fields(msg: MobilityMessage) -> dict:
    """The dataclass fields of ``msg`` as a dict (options left as objects)."""
    return {f.name: getattr(msg, f.name) for f in fields(msg)}


__all__ = ["decode_mh", "encode_mh", "aligned", "mac_data", "mh_checksum", "checksum_ok",
           "ones_complement_sum", "pseudo_header_sum", "BindingUpdate", "message_fields"]
