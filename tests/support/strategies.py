"""Hypothesis strategies for Mobility Header messages and options (reusable by any test).

Three layers, pick the one your test needs:

* options: ``OPTION_STRATEGIES[name]`` for each mobility option ebutool knows, plus
  ``unknown_options`` (unknown types, and known types with a wrong length: both are
  kept raw by the decoder); ``content_options`` is any non-padding option.
* draft messages: ``MESSAGE_STRATEGIES[name]`` for BRR, HoTI, CoTI, HoT, CoT, BU, BA,
  BE and "other" (MH types 8-255).  Their ``header_len``/``checksum`` are None and the
  options carry no padding, so they must go through ``aligned()`` (or
  :func:`explicitly_padded`) before ``encode_mh``.
* wire-ready messages: :func:`wire_ready` (RFC 6275 alignment via ``aligned``) and
  :func:`explicitly_padded` (Pad1/PadN sprinkled anywhere, options in any place, only
  the total length is a multiple of 8).  Both return messages with explicit
  ``header_len`` and ``checksum`` so that ``decode_mh(encode_mh(m)) == m`` must hold
  exactly.

Addresses are always in the compressed canonical form ebutool produces.

Reference helpers (written from the RFCs, independent of ebutool): :func:`pk`,
:func:`rfc1071`, :func:`ref_checksum`.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import replace

from hypothesis import strategies as st

from ebutool.core.addr import ntop
from ebutool.wire.mh import messages as M
from ebutool.wire.mh import mobility_options as O
from ebutool.wire.mh.codec import aligned, encode_mh

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
octets8 = st.binary(min_size=8, max_size=8)
addresses = st.binary(min_size=16, max_size=16).map(ntop)

# Option type -> exact data length (RFC 6275 6.2, RFC 4866): what the test believes,
# written from the RFCs, not read from ebutool.
RFC_OPTION_LENGTHS = {2: 2, 3: 16, 4: 4, 5: 12, 15: 0, 16: 8}
KNOWN_OPTION_TYPES = frozenset({0, 1} | set(RFC_OPTION_LENGTHS))

pad1 = st.just(O.Pad1())
padn = st.binary(max_size=8).map(O.PadN)
binding_refresh_advice = u16.map(O.BindingRefreshAdvice)
alternate_coa = addresses.map(O.AlternateCareOfAddress)
nonce_indices = st.builds(O.NonceIndices, u16, u16)
binding_auth_data = st.binary(min_size=12, max_size=12).map(O.BindingAuthorizationData)
careof_test_init_option = st.just(O.CareOfTestInitOption())
careof_test_option = octets8.map(O.CareOfTestOption)
unknown_options = st.one_of(
    st.builds(
        O.UnknownOption, u8.filter(lambda t: t not in KNOWN_OPTION_TYPES), st.binary(max_size=40)
    ),
    # A known fixed-length type with any other length is kept raw, too.
    st.sampled_from(sorted(RFC_OPTION_LENGTHS)).flatmap(
        lambda t: (
            st.binary(max_size=24)
            .filter(lambda d: len(d) != RFC_OPTION_LENGTHS[t])
            .map(lambda d: O.UnknownOption(t, d))
        )
    ),
)

OPTION_STRATEGIES = {
    "Pad1": pad1,
    "PadN": padn,
    "BindingRefreshAdvice": binding_refresh_advice,
    "AlternateCareOfAddress": alternate_coa,
    "NonceIndices": nonce_indices,
    "BindingAuthorizationData": binding_auth_data,
    "CareOfTestInit": careof_test_init_option,
    "CareOfTest": careof_test_option,
    "unknown": unknown_options,
}

content_options = st.one_of(
    binding_refresh_advice,
    alternate_coa,
    nonce_indices,
    careof_test_init_option,
    careof_test_option,
    unknown_options,
)


@st.composite
def option_lists(draw, max_size: int = 5) -> list:
    """Non-padding options, Binding Authorization Data (if any) last, as RFC 6275 asks."""
    opts = draw(st.lists(content_options, max_size=max_size))
    if draw(st.booleans()):
        opts.append(draw(binding_auth_data))
    return opts


def _msg(cls, **body):
    return st.builds(cls, payload_proto=u8, reserved=u8, options=option_lists(), **body)


def _other_data():
    # 6 fixed octets + data must be a multiple of 8: data is 8k+2 octets long.
    return st.integers(0, 6).flatmap(lambda k: st.binary(min_size=8 * k + 2, max_size=8 * k + 2))


MESSAGE_STRATEGIES = {
    "BRR": _msg(M.BindingRefreshRequest, body_reserved=u16),
    "HoTI": _msg(M.HomeTestInit, body_reserved=u16, init_cookie=octets8),
    "CoTI": _msg(M.CareOfTestInit, body_reserved=u16, init_cookie=octets8),
    "HoT": _msg(M.HomeTest, nonce_index=u16, init_cookie=octets8, keygen_token=octets8),
    "CoT": _msg(M.CareOfTest, nonce_index=u16, init_cookie=octets8, keygen_token=octets8),
    "BU": _msg(M.BindingUpdate, sequence=u16, flags=u16, lifetime=u16),
    "BA": _msg(M.BindingAcknowledgement, status=u8, flags=u8, sequence=u16, lifetime=u16),
    "BE": _msg(M.BindingError, status=u8, body_reserved=u8, home_address=addresses),
    "other": st.builds(
        M.OtherMobilityMessage,
        payload_proto=u8,
        reserved=u8,
        type_number=st.integers(8, 255),
        data=_other_data(),
    ),
}

draft_messages = st.one_of(*MESSAGE_STRATEGIES.values())


def finalized(msg: M.MobilityMessage, checksum: int = 0) -> M.MobilityMessage:
    """``msg`` (already padded) with explicit header_len and checksum, i.e. exactly what
    decoding its encoding must give back."""
    n = len(encode_mh(replace(msg, header_len=None, checksum=0)))
    return replace(msg, header_len=n // 8 - 1, checksum=checksum)


def wire_ready(messages=draft_messages):
    """Messages with RFC 6275 alignment (``aligned``), explicit header_len, any checksum."""
    return st.tuples(messages, u16).map(lambda mc: finalized(aligned(mc[0]), mc[1]))


@st.composite
def _padded(draw, messages):
    msg = draw(messages)
    if isinstance(msg, M.OtherMobilityMessage):
        return finalized(msg, draw(u16))
    out = []
    for opt in msg.options:
        out.extend(draw(st.lists(st.one_of(pad1, padn), max_size=2)))
        out.append(opt)
    length = msg.OPTIONS_AT + sum(len(O.encode_option(o)) for o in out)
    gap = -length % 8
    if gap == 1:
        out.append(O.Pad1())
    elif gap:
        # PadN with arbitrary (non-zero) content: the decoder must keep it as it is.
        out.append(O.PadN(draw(st.binary(min_size=gap - 2, max_size=gap - 2))))
    return finalized(replace(msg, options=out), draw(u16))


def explicitly_padded(messages=draft_messages):
    """Messages whose padding is arbitrary (not RFC-aligned): Pad1/PadN anywhere."""
    return _padded(messages)


mobility_messages = st.one_of(wire_ready(), explicitly_padded())


# ---------------------------------------------------------------- reference helpers


def pk(text: str) -> bytes:
    """IPv6 address text -> 16 octets (the standard library, not ebutool)."""
    return ipaddress.IPv6Address(text).packed


def rfc1071(data: bytes) -> int:
    """The Internet checksum of ``data`` (RFC 1071), as the value a checksum field holds."""
    if len(data) % 2:
        data += b"\x00"
    s = sum(int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2))
    while s > 0xFFFF:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ref_checksum(mh: bytes, src: bytes, dst: bytes, nh: int = 135) -> int:
    """The MH checksum field value for Mobility Header octets ``mh`` (its own checksum
    field is ignored): RFC 8200 8.1 pseudo-header with ``src``/``dst`` chosen by the
    caller per RFC 6275 6.1.1 (HAO address as source, type 2 RH address as destination)."""
    zeroed = mh[:4] + b"\x00\x00" + mh[6:]
    pseudo = src + dst + struct.pack("!I", len(mh)) + b"\x00\x00\x00" + bytes((nh,))
    return rfc1071(pseudo + zeroed)
