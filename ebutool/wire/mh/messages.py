"""Mobility Header messages (RFC 6275 6.1): one dataclass per MH type.

Every message carries the fixed part (payload proto, MH type, reserved, checksum)
and its option list; each class declares its body after the fixed 6 octets as a
table of (field, struct format, meaning), in wire order, the way dpkt declares
headers.  ``header_len`` is kept as decoded so that odd lengths survive a round
trip; ``None`` means "compute it" when encoding.  ``truncated`` marks a message
the capture cut short (see :func:`ebutool.wire.mh.codec.decode_mh`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, TypeVar, overload

from ebutool.core import constants as C
from ebutool.wire.mh.mobility_options import Option

# The option classes asked for: option(NonceIndices) is a NonceIndices | None.
OptionT = TypeVar("OptionT", bound=Option)
OptionT2 = TypeVar("OptionT2", bound=Option)
OptionT3 = TypeVar("OptionT3", bound=Option)

# BU flags (RFC 6275 6.1.7, RFC 3963 NEMO R, RFC 5213 P, RFC 5555 F, RFC 5845 T,
# RFC 6058 B, RFC 6618 S, RFC 7311 D): bit -> letter, most significant first.
BU_FLAGS = {
    0x8000: "A",
    0x4000: "H",
    0x2000: "L",
    0x1000: "K",
    0x0800: "M",
    0x0400: "R",
    0x0200: "P",
    0x0100: "F",
    0x0080: "T",
    0x0040: "B",
    0x0020: "S",
    0x0010: "D",
}
BU_FLAG_A, BU_FLAG_H, BU_FLAG_L, BU_FLAG_K = 0x8000, 0x4000, 0x2000, 0x1000
# BA flags (RFC 6275 6.1.8 K, RFC 3963 R, RFC 5213 P, RFC 5845 T, RFC 6058 B ...).
BA_FLAGS = {0x80: "K", 0x40: "R", 0x20: "P", 0x10: "T", 0x08: "B", 0x04: "S", 0x02: "D"}
BA_FLAG_K = 0x80


def flag_letters(value: int, table: dict[int, str]) -> str:
    """Flags as letters (e.g. "AHL"); unknown set bits appended as hex."""
    letters = "".join(name for bit, name in table.items() if value & bit)
    rest = value & ~sum(table)
    return letters + (f"+0x{rest:x}" if rest else "")


@dataclass(eq=True)
class MobilityMessage:
    """Fields common to all MH messages (the 6-octet fixed part and options)."""

    MH_TYPE: ClassVar[int] = -1
    NAME: ClassVar[str] = "other"
    BODY: ClassVar[tuple[tuple[str, str, str], ...]] = ()
    OPTIONS_AT: ClassVar[int] = C.MH_FIXED_LEN  # offset of the option area

    payload_proto: int = C.NH_NONE  # next header after the MH (59 = none)
    reserved: int = 0  # the reserved octet after MH type
    checksum: int | None = None  # as on the wire; None = compute on encode
    header_len: int | None = None  # (length/8 - 1) as on the wire; None = compute
    options: list[Option] = field(default_factory=list)
    # True when the capture ended inside this message (snap length, fuzzed input):
    # the fixed fields are complete but options past the cut are missing.
    truncated: bool = False

    @property
    def mh_type(self) -> int:
        return self.MH_TYPE

    def option(self, cls: type[OptionT]) -> OptionT | None:
        """The first option of class ``cls``, or None."""
        for o in self.options:  # (a loop, not next() over a generator: per message)
            if isinstance(o, cls):
                return o
        return None

    @overload
    def first_options(
        self, a: type[OptionT], b: type[OptionT2], /
    ) -> tuple[OptionT | None, OptionT2 | None]: ...
    @overload
    def first_options(
        self, a: type[OptionT], b: type[OptionT2], c: type[OptionT3], /
    ) -> tuple[OptionT | None, OptionT2 | None, OptionT3 | None]: ...
    def first_options(self, *classes: type) -> tuple[Option | None, ...]:
        """``tuple(self.option(c) for c in classes)`` in one pass over the options (for
        the per-message hot paths: classification, the oracle)."""
        found: list[Option | None] = [None] * len(classes)
        for o in self.options:
            for i, cls in enumerate(classes):
                if found[i] is None and isinstance(o, cls):
                    found[i] = o
        return tuple(found)


@dataclass(eq=True)
class BindingRefreshRequest(MobilityMessage):
    MH_TYPE: ClassVar[int] = C.MH_BRR
    NAME: ClassVar[str] = "BRR"
    BODY = (("body_reserved", "H", "reserved, 16 bits"),)
    OPTIONS_AT: ClassVar[int] = 8
    body_reserved: int = 0


@dataclass(eq=True)
class HomeTestInit(MobilityMessage):
    MH_TYPE: ClassVar[int] = C.MH_HOTI
    NAME: ClassVar[str] = "HoTI"
    BODY = (
        ("body_reserved", "H", "reserved, 16 bits"),
        ("init_cookie", "8s", "home init cookie, echoed in the HoT"),
    )
    OPTIONS_AT: ClassVar[int] = 16
    body_reserved: int = 0
    init_cookie: bytes = bytes(8)


@dataclass(eq=True)
class CareOfTestInit(HomeTestInit):
    MH_TYPE: ClassVar[int] = C.MH_COTI
    NAME: ClassVar[str] = "CoTI"


@dataclass(eq=True)
class HomeTest(MobilityMessage):
    MH_TYPE: ClassVar[int] = C.MH_HOT
    NAME: ClassVar[str] = "HoT"
    BODY = (
        ("nonce_index", "H", "home nonce index"),
        ("init_cookie", "8s", "home init cookie copied from the HoTI"),
        ("keygen_token", "8s", "home keygen token, 64 bits"),
    )
    OPTIONS_AT: ClassVar[int] = 24
    nonce_index: int = 0
    init_cookie: bytes = bytes(8)
    keygen_token: bytes = bytes(8)


@dataclass(eq=True)
class CareOfTest(HomeTest):
    MH_TYPE: ClassVar[int] = C.MH_COT
    NAME: ClassVar[str] = "CoT"


@dataclass(eq=True)
class BindingUpdate(MobilityMessage):
    MH_TYPE: ClassVar[int] = C.MH_BU
    NAME: ClassVar[str] = "BU"
    BODY = (
        ("sequence", "H", "sequence number"),
        ("flags", "H", "A H L K M R P F T B S D, then reserved bits"),
        ("lifetime", "H", "binding lifetime, units of 4 s"),
    )
    OPTIONS_AT: ClassVar[int] = 12
    sequence: int = 0
    flags: int = 0
    lifetime: int = 0


@dataclass(eq=True)
class BindingAcknowledgement(MobilityMessage):
    MH_TYPE: ClassVar[int] = C.MH_BA
    NAME: ClassVar[str] = "BA"
    BODY = (
        ("status", "B", "0-127 accepted, >=128 rejected (RFC 6275 6.1.8)"),
        ("flags", "B", "K R P T B S D, then a reserved bit"),
        ("sequence", "H", "sequence number copied from the BU"),
        ("lifetime", "H", "granted lifetime, units of 4 s"),
    )
    OPTIONS_AT: ClassVar[int] = 12
    status: int = 0
    flags: int = 0
    sequence: int = 0
    lifetime: int = 0


@dataclass(eq=True)
class BindingError(MobilityMessage):
    MH_TYPE: ClassVar[int] = C.MH_BE
    NAME: ClassVar[str] = "BE"
    BODY = (
        ("status", "B", "1 unknown binding for HAO, 2 unrecognised MH type"),
        ("body_reserved", "B", "reserved, 8 bits"),
        ("home_address", "16s", "home address of the offending packet"),
    )
    OPTIONS_AT: ClassVar[int] = 24
    status: int = 0
    body_reserved: int = 0
    home_address: str = "::"


@dataclass(eq=True)
class OtherMobilityMessage(MobilityMessage):
    """Any MH type other than 0-7: the type number and the raw message data."""

    NAME: ClassVar[str] = "other"
    type_number: int = 255
    data: bytes = b""  # everything after the fixed 6 octets

    @property
    def mh_type(self) -> int:
        return self.type_number


MESSAGE_CLASSES: dict[int, type[MobilityMessage]] = {
    cls.MH_TYPE: cls
    for cls in (
        BindingRefreshRequest,
        HomeTestInit,
        CareOfTestInit,
        HomeTest,
        CareOfTest,
        BindingUpdate,
        BindingAcknowledgement,
        BindingError,
    )
}

BA_STATUS = {
    0: "accepted",
    1: "accepted_prefix_discovery_necessary",
    128: "unspecified",
    129: "administratively_prohibited",
    130: "insufficient_resources",
    131: "home_registration_not_supported",
    132: "not_home_subnet",
    133: "not_home_agent",
    134: "duplicate_address_detection_failed",
    135: "sequence_number_out_of_window",
    136: "expired_home_nonce_index",
    137: "expired_care_of_nonce_index",
    138: "expired_nonces",
    139: "registration_type_change_disallowed",
}
BE_STATUS = {1: "unknown_binding_for_home_address", 2: "unrecognized_mh_type"}
