"""Mobility options (RFC 6275 6.2, RFC 4866 section 9): decode and encode.

Each option is a small frozen dataclass.  Options whose type is unknown, or whose
length does not fit their type, are kept as :class:`UnknownOption` with their raw
data (and the caller is told through ``problems``), never dropped.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

from ebutool.core import constants as C
from ebutool.core.addr import ntop, pton


@dataclass(frozen=True, slots=True)
class Pad1:
    """A single zero octet of padding (type 0, no length field)."""

    TYPE: ClassVar[int] = C.MOPT_PAD1


@dataclass(frozen=True, slots=True)
class PadN:
    """Padding of len(data)+2 octets; ``data`` is normally all zero."""

    TYPE: ClassVar[int] = C.MOPT_PADN
    data: bytes = b""


@dataclass(frozen=True, slots=True)
class BindingRefreshAdvice:
    """Suggested refresh interval, in units of 4 seconds (BRA_UNIT_S)."""

    TYPE: ClassVar[int] = C.MOPT_BRA
    interval: int = 0


@dataclass(frozen=True, slots=True)
class AlternateCareOfAddress:
    """The care-of address to bind instead of the packet's source address."""

    TYPE: ClassVar[int] = C.MOPT_ALT_COA
    address: str = "::"


@dataclass(frozen=True, slots=True)
class NonceIndices:
    """Home and care-of nonce indices the CN uses to rebuild the keygen tokens."""

    TYPE: ClassVar[int] = C.MOPT_NONCE_INDICES
    home_index: int = 0
    careof_index: int = 0


@dataclass(frozen=True, slots=True)
class BindingAuthorizationData:
    """The 96-bit authenticator (must be the last option; aligned 8n+2)."""

    TYPE: ClassVar[int] = C.MOPT_AUTH_DATA
    authenticator: bytes = bytes(C.AUTHENTICATOR_LEN)


@dataclass(frozen=True, slots=True)
class CareOfTestInitOption:
    """RFC 4866: asks the CN to return a care-of keygen token in the BA (no data)."""

    TYPE: ClassVar[int] = C.MOPT_COTI


@dataclass(frozen=True, slots=True)
class CareOfTestOption:
    """RFC 4866: the care-of keygen token, carried in a BA."""

    TYPE: ClassVar[int] = C.MOPT_COT
    keygen_token: bytes = bytes(C.TOKEN_LEN)


@dataclass(frozen=True, slots=True)
class UnknownOption:
    """Any option ebutool does not know, or a known one with a wrong length: raw data."""

    type: int
    data: bytes = b""

    @property
    def TYPE(self) -> int:  # same spelling as the known options
        return self.type


Option = (
    Pad1
    | PadN
    | BindingRefreshAdvice
    | AlternateCareOfAddress
    | NonceIndices
    | BindingAuthorizationData
    | CareOfTestInitOption
    | CareOfTestOption
    | UnknownOption
)

_NONCE_INDICES = struct.Struct("!HH")


# Options whose values repeat from message to message (padding, nonce indices, refresh
# advice, alternate care-of addresses) are decoded once per distinct value and shared:
# they are immutable, and building a frozen dataclass costs several times a cache hit.
# Authenticators and keygen tokens never repeat: those are built each time.
_VALUE_CACHE = 4096  # distinct values remembered per option kind


@lru_cache(maxsize=_VALUE_CACHE)
def _padn(data: bytes) -> PadN:
    return PadN(data)


@lru_cache(maxsize=_VALUE_CACHE)
def _binding_refresh_advice(data: bytes) -> BindingRefreshAdvice:
    return BindingRefreshAdvice(int.from_bytes(data, "big"))


@lru_cache(maxsize=_VALUE_CACHE)
def _alternate_coa(data: bytes) -> AlternateCareOfAddress:
    return AlternateCareOfAddress(ntop(data))


@lru_cache(maxsize=_VALUE_CACHE)
def _nonce_indices(data: bytes) -> NonceIndices:
    return NonceIndices(*_NONCE_INDICES.unpack(data))


# Options without data: one instance each.
_PAD1 = Pad1()
_COTI = CareOfTestInitOption()

# type -> (exact data length or None for "any", data -> option)
_KNOWN: dict[int, tuple[int | None, Callable[[bytes], Option]]] = {
    C.MOPT_PADN: (None, _padn),
    C.MOPT_BRA: (2, _binding_refresh_advice),
    C.MOPT_ALT_COA: (16, _alternate_coa),
    C.MOPT_NONCE_INDICES: (4, _nonce_indices),
    C.MOPT_AUTH_DATA: (C.AUTHENTICATOR_LEN, BindingAuthorizationData),
    C.MOPT_COTI: (0, lambda _data: _COTI),
    C.MOPT_COT: (C.TOKEN_LEN, CareOfTestOption),
}

OPTION_NAMES = {
    C.MOPT_PAD1: "Pad1",
    C.MOPT_PADN: "PadN",
    C.MOPT_BRA: "BindingRefreshAdvice",
    C.MOPT_ALT_COA: "AlternateCareOfAddress",
    C.MOPT_NONCE_INDICES: "NonceIndices",
    C.MOPT_AUTH_DATA: "BindingAuthorizationData",
    C.MOPT_COTI: "CareOfTestInit",
    C.MOPT_COT: "CareOfTest",
}


def decode_options(buf: bytes, problems: list[str]) -> list[Option]:
    """Decode the option area ``buf``; anomalies are appended to ``problems``."""
    if type(buf) is not bytes:
        buf = bytes(buf)  # bytearray, memoryview: option data must come out as bytes
    opts: list[Option] = []
    i, n = 0, len(buf)
    while i < n:
        otype = buf[i]
        if otype == C.MOPT_PAD1:
            opts.append(_PAD1)
            i += 1
            continue
        if i + 2 > n:
            problems.append(f"option type {otype} at offset {i} has no length octet")
            opts.append(UnknownOption(otype, buf[i + 1 :]))
            break
        olen = buf[i + 1]
        data = buf[i + 2 : i + 2 + olen]
        if len(data) < olen:
            problems.append(f"option type {otype} claims {olen} octets, only {len(data)} left")
            opts.append(UnknownOption(otype, data))
            break
        known = _KNOWN.get(otype)
        if known is None:
            opts.append(UnknownOption(otype, data))
        elif known[0] is not None and known[0] != olen:
            problems.append(f"{OPTION_NAMES[otype]} option has length {olen}, expected {known[0]}")
            opts.append(UnknownOption(otype, data))
        else:
            opts.append(known[1](data))
        i += 2 + olen
    return opts


def malformed_length(options: list[Option], otype: int) -> int | None:
    """The data length of an option of the known type ``otype`` that came with a wrong
    length (decode_options keeps it as an UnknownOption), or None: there is none such."""
    for o in options:
        if isinstance(o, UnknownOption) and o.type == otype:
            return len(o.data)
    return None


def known_length(otype: int) -> int | None:
    """The data length an option of the known type ``otype`` must have (None: any)."""
    return _KNOWN[otype][0]


def encode_option(opt: Option) -> bytes:
    """One option as octets (type, length, data; Pad1 is one zero octet)."""
    if isinstance(opt, Pad1):
        return b"\x00"
    if isinstance(opt, UnknownOption):
        data = opt.data
    elif isinstance(opt, PadN):
        data = opt.data
    elif isinstance(opt, BindingRefreshAdvice):
        data = struct.pack("!H", opt.interval)
    elif isinstance(opt, AlternateCareOfAddress):
        data = pton(opt.address)
    elif isinstance(opt, NonceIndices):
        data = struct.pack("!HH", opt.home_index, opt.careof_index)
    elif isinstance(opt, BindingAuthorizationData):
        data = bytes(opt.authenticator)
    elif isinstance(opt, CareOfTestInitOption):
        data = b""
    elif isinstance(opt, CareOfTestOption):
        data = bytes(opt.keygen_token)
    else:  # pragma: no cover - the Option union is closed
        raise TypeError(f"not a mobility option: {opt!r}")
    if len(data) > 255:
        raise ValueError(f"option type {opt.TYPE} data of {len(data)} octets exceeds 255")
    return bytes((opt.TYPE, len(data))) + data


# RFC 6275 6.2 alignment requirements, type -> (x, y) for "xn+y".  RFC 4866's Care-of
# Test Init and Care-of Test options state none (scapy reads RFC 4866 the same way);
# unknown options get none.
ALIGNMENT: dict[int, tuple[int, int]] = {
    C.MOPT_BRA: (2, 0),
    C.MOPT_ALT_COA: (8, 6),
    C.MOPT_NONCE_INDICES: (2, 0),
    C.MOPT_AUTH_DATA: (8, 2),
}


def alignment(opt: Option) -> tuple[int, int] | None:
    """The (x, y) of option ``opt``'s "xn+y" alignment requirement, None if it has none."""
    return None if isinstance(opt, UnknownOption) else ALIGNMENT.get(opt.TYPE)


def pad_to(offset: int, align: int, phase: int) -> list[Option]:
    """Padding options that move ``offset`` to the next ``align``n+``phase`` boundary."""
    gap = (phase - offset) % align
    if gap == 0:
        return []
    if gap == 1:
        return [Pad1()]
    return [PadN(bytes(gap - 2))]
