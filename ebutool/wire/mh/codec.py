"""Mobility Header wire codec: bytes <-> message objects, and the MH checksum.

``decode_mh`` never raises on bad input: it returns ``None`` (message unusable) or
a message, and appends one-line descriptions of every anomaly to ``problems``.
``encode_mh`` writes exactly the options it is given (use :func:`aligned` first to
insert RFC 6275 alignment padding), so ``decode_mh(encode_mh(m)) == m`` holds for
every message whose ``header_len`` and ``checksum`` are explicit (as ``decode_mh``
returns them); ``None`` in either means "compute it" and decodes as the number.
"""

from __future__ import annotations

import struct
from dataclasses import fields, replace

from ebutool.core import constants as C
from ebutool.core.addr import ntop, pton
from ebutool.wire.mh.messages import (
    MESSAGE_CLASSES,
    BindingUpdate,
    MobilityMessage,
    OtherMobilityMessage,
)
from ebutool.wire.mh.mobility_options import (
    BindingAuthorizationData,
    Pad1,
    PadN,
    alignment,
    decode_options,
    encode_option,
    pad_to,
)

_FIXED = struct.Struct("!BBBBH")  # payload proto, header len, MH type, reserved, checksum


def _body_struct(cls: type[MobilityMessage]) -> struct.Struct:
    return struct.Struct("!" + "".join(fmt for _, fmt, _ in cls.BODY))


_BODY = {t: _body_struct(cls) for t, cls in MESSAGE_CLASSES.items()}


def _home_address_at(cls: type[MobilityMessage]) -> int | None:
    """Index of the body field carried as address text (Binding Error), if any."""
    names = [name for name, _, _ in cls.BODY]
    return names.index("home_address") if "home_address" in names else None


_HOME_ADDRESS_AT = {t: _home_address_at(cls) for t, cls in MESSAGE_CLASSES.items()}
# What decode_mh needs of each known type, in one look-up (it runs for every message):
# the class, its body's struct, the index of the address-text field (or None), and
# the offset of the option area.
_LAYOUT = {
    t: (cls, _BODY[t], _HOME_ADDRESS_AT[t], cls.OPTIONS_AT) for t, cls in MESSAGE_CLASSES.items()
}
_FIXED_LEN = C.MH_FIXED_LEN


def _check_field_order() -> None:
    """decode_mh builds messages positionally (a keyword call costs three times as
    much): the fixed part's fields, then the body's in BODY order."""
    fixed = ["payload_proto", "reserved", "checksum", "header_len", "options", "truncated"]
    for cls in MESSAGE_CLASSES.values():
        if [f.name for f in fields(cls)] != fixed + [name for name, _, _ in cls.BODY]:
            raise TypeError(f"{cls.__name__}: fields are not the fixed part, then BODY")


_check_field_order()


def ones_complement_sum(data: bytes, start: int = 0) -> int:
    """16-bit one's complement sum of ``data`` (odd length padded with a zero octet).

    Computed on ``data`` read as one big-endian integer: 2**16 is 1 modulo 0xFFFF, so
    that integer is congruent to the sum of its 16-bit words, and the end-around-carry
    sum is the residue modulo 0xFFFF, written 0xFFFF rather than 0 unless everything
    is zero.  (Several times faster than unpacking the words; ``start`` >= 0.)"""
    total = int.from_bytes(data, "big")
    if len(data) % 2:
        total <<= 8
    total += start
    if not total:
        return 0
    return total % 0xFFFF or 0xFFFF


_PSEUDO_TAIL = struct.Struct("!IxxxB").pack  # upper-layer length, 3 zero octets, next header


def pseudo_header_sum(src: bytes, dst: bytes, length: int, next_header: int) -> int:
    """Sum of the IPv6 pseudo-header (RFC 8200 8.1) for an upper layer of ``length`` octets."""
    return ones_complement_sum(src + dst + _PSEUDO_TAIL(length, next_header))


def mh_checksum(mh: bytes, src: bytes, dst: bytes, next_header: int = C.NH_MOBILITY) -> int:
    """The checksum the MH ``mh`` (checksum field zeroed by the caller) must carry."""
    total = ones_complement_sum(mh, pseudo_header_sum(src, dst, len(mh), next_header))
    return (~total) & 0xFFFF


def checksum_ok(mh: bytes, src: bytes, dst: bytes, next_header: int = C.NH_MOBILITY) -> bool | None:
    """True when the MH checksum verifies, False when it does not, None when it
    cannot be checked because ``mh`` is shorter than its Header Len field says
    (the capture cut it).  ``src``/``dst`` already follow RFC 6275's rule (home
    address from the HAO as source, type 2 RH address as destination);
    ``next_header`` is the pseudo-header's Next Header (135, or 62 for the
    pre-RFC 3775 Mobility Header number)."""
    n = len(mh)
    if n < C.MH_FIXED_LEN or n < (mh[1] + 1) * 8:
        return None
    return ones_complement_sum(mh, pseudo_header_sum(src, dst, n, next_header)) == 0xFFFF


def decode_mh(buf: bytes, problems: list[str]) -> MobilityMessage | None:
    """Decode one Mobility Header from ``buf`` (which may hold trailing octets).

    A message the capture cut short (``buf`` shorter than its Header Len says) is
    still decoded when its fixed fields are all there: it comes back with
    ``truncated=True``, the options that were captured, and a problem saying so.
    None (with a problem) when not even the fixed fields can be read."""
    n = len(buf)
    if n < _FIXED_LEN:
        problems.append(f"Mobility Header cut off: {n} of at least 6 octets")
        return None
    proto, hlen, mtype, reserved, csum = _FIXED.unpack_from(buf)
    total = (hlen + 1) * 8
    truncated = total > n
    mh = buf[:total] if type(buf) is bytes else bytes(buf[:total])
    layout = _LAYOUT.get(mtype)
    if layout is None:
        if truncated:
            problems.append(
                f"MH type {mtype} cut off after {n} of {total} octets (Header Len {hlen}); "
                "decoded what was captured"
            )
        return OtherMobilityMessage(
            payload_proto=proto,
            reserved=reserved,
            checksum=csum,
            header_len=hlen,
            type_number=mtype,
            data=mh[_FIXED_LEN:],
            truncated=truncated,
        )
    cls, body, at, options_at = layout
    if total < options_at:
        problems.append(
            f"{cls.NAME} of {total} octets (Header Len {hlen}) is shorter than its "
            f"{options_at}-octet minimum"
        )
        return None
    if truncated:
        if n < options_at:
            problems.append(
                f"{cls.NAME} cut off after {n} of {total} octets, inside its fixed fields"
            )
            return None
        problems.append(
            f"{cls.NAME} cut off after {n} of {total} octets (Header Len {hlen}); "
            "decoded what was captured"
        )
    values = body.unpack_from(mh, _FIXED_LEN)
    if at is not None:
        values = values[:at] + (ntop(values[at]),) + values[at + 1 :]
    options = []
    if len(mh) > options_at:  # HoTI, CoTI, HoT and CoT usually carry none
        opt_problems: list[str] = []
        options = decode_options(mh[options_at:], opt_problems)
        if opt_problems:
            problems.extend(f"{cls.NAME}: {p}" for p in opt_problems)
    return cls(proto, reserved, csum, hlen, options, truncated, *values)


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
            raise ValueError(
                f"{msg.NAME} is {natural} octets, not a multiple of 8: pad it (aligned())"
            )
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
    """A copy of ``msg`` with RFC 6275 alignment padding (section 6.2: Binding Refresh
    Advice and Nonce Indices 2n, Alternate Care-of Address 8n+6, Binding Authorization
    Data 8n+2): existing padding options are dropped, each option is padded to its
    alignment, Binding Authorization Data is moved last, and the whole header is padded
    to a multiple of 8 octets.  ``header_len`` and ``checksum`` become None (computed by
    :func:`encode_mh`).  ``OtherMobilityMessage`` data is opaque and left as it is."""
    if isinstance(msg, OtherMobilityMessage):
        return replace(msg, header_len=None, checksum=None, truncated=False)
    content = [o for o in msg.options if not isinstance(o, (Pad1, PadN))]
    auth = [o for o in content if isinstance(o, BindingAuthorizationData)]
    content = [o for o in content if not isinstance(o, BindingAuthorizationData)]
    out: list = []
    offset = msg.OPTIONS_AT
    for opt in content + auth:
        rule = alignment(opt)
        if rule is not None:
            pad = pad_to(offset, *rule)
            out.extend(pad)
            offset += sum(len(encode_option(p)) for p in pad)
        out.append(opt)
        offset += len(encode_option(opt))
    out.extend(pad_to(offset, 8, 0))
    return replace(msg, options=out, header_len=None, checksum=None, truncated=False)


def mac_data(mh_wire: bytes, layout: int | None = None) -> bytes | None:
    """The MH octets an authenticator covers (RFC 6275 5.2.6): the whole Mobility
    Header up to and including the Binding Authorization Data option's type and length
    octets, with the checksum field zeroed.  The option is the first one of type 5
    with length 12 (the one ``decode_mh`` returns as BindingAuthorizationData).  None
    when there is no complete such option inside the header (octets past Header Len
    are ignored).  ``layout``: the MH type whose body layout the message has, when
    it is not its own type number (the draft's own EBU/EBA types, records.retype)."""
    if len(mh_wire) < C.MH_FIXED_LEN:
        return None
    cls = MESSAGE_CLASSES.get(mh_wire[2] if layout is None else layout)
    if cls is None:
        return None
    end = min(len(mh_wire), (mh_wire[1] + 1) * 8)
    i = cls.OPTIONS_AT
    while i < end:
        otype = mh_wire[i]
        if otype == C.MOPT_PAD1:
            i += 1
            continue
        if i + 2 > end:
            return None
        if otype == C.MOPT_AUTH_DATA and mh_wire[i + 1] == C.AUTHENTICATOR_LEN:
            # the same option decode_mh returns as BindingAuthorizationData (one with
            # another length is kept raw there, and skipped here)
            if i + 2 + C.AUTHENTICATOR_LEN > end:
                return None
            return mh_wire[:4] + b"\x00\x00" + mh_wire[6 : i + 2]
        i += 2 + mh_wire[i + 1]
    return None


def message_fields(msg: MobilityMessage) -> dict:
    """The dataclass fields of ``msg`` as a dict (options left as objects)."""
    return {f.name: getattr(msg, f.name) for f in fields(msg)}


__all__ = [
    "decode_mh",
    "encode_mh",
    "aligned",
    "mac_data",
    "mh_checksum",
    "checksum_ok",
    "ones_complement_sum",
    "pseudo_header_sum",
    "BindingUpdate",
    "message_fields",
]
