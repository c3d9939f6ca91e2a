"""The message stream: one :class:`Record` per mobility-relevant IPv6 packet.

This is the interface between reading (captures or JSON traces) and everything
that analyses: episode reconstruction, the oracle, replay and reports all consume
``Iterator[Record]`` and never look at files.
"""

from __future__ import annotations

from dataclasses import dataclass

from ebutool.core import constants as C
from ebutool.core.units import seconds
from ebutool.wire.mh.messages import BU_FLAG_H, BindingUpdate, MobilityMessage
from ebutool.wire.mh.mobility_options import (
    AlternateCareOfAddress,
    CareOfTestInitOption,
    NonceIndices,
)

# Values of Record.msg
MSG_DATA = "data"
MSG_LABELS = ("HoTI", "CoTI", "HoT", "CoT", "BU", "EBU", "BA", "BE", "BRR", "other", MSG_DATA)
TO_MN = ("HoT", "CoT", "BA", "BE", "BRR")  # messages only ever sent to a mobile node


@dataclass(slots=True)
class Record:
    frame: int  # 1-based frame number in its file
    ts_ns: int  # capture time, integer ns since the epoch
    src: str  # (inner) IPv6 source, compressed canonical text
    dst: str  # (inner) IPv6 destination
    msg: str = MSG_DATA  # one of MSG_LABELS
    hoa: str | None = None  # Home Address destination option
    rh2: str | None = None  # type 2 routing header address
    tunnel_src: str | None = None  # outer IPv6-in-IPv6 source
    tunnel_dst: str | None = None  # outer IPv6-in-IPv6 destination
    proto: int = C.NH_NONE  # upper-layer protocol number
    ip_len: int = 0  # octets of the (outer) IPv6 packet
    mh: MobilityMessage | None = None
    mh_wire: bytes | None = None  # the MH octets as captured (MACs are computed on them)
    checksum_ok: bool | None = None
    deregistration: bool = False  # a BU that deletes a binding (lifetime 0 or CoA == HoA)
    rfc4866: bool = False  # an (E)BU with a Care-of Test Init option
    source: str = ""  # name of the file the record came from
    # Set when the packet was ESP-protected and decrypted with a given SA (ebutool.esp):
    esp_spi: int | None = None  # the SPI of the ESP header
    esp_seq: int | None = None  # its sequence number (64-bit with ESN)
    esp_algorithm: str | None = None  # the SA's algorithms, e.g. "aes-cbc/hmac-sha1-96"

    @property
    def ts(self) -> float:
        return seconds(self.ts_ns)

    @property
    def home_address(self) -> str | None:
        """The MN's home address this packet speaks for, if the packet says so."""
        return self.hoa or self.rh2

    @property
    def care_of_address(self) -> str | None:
        """The MN's care-of address the packet is sent from or to.  From an MN: the
        Alternate CoA option of a BU, else the source of a packet with a HAO or of a
        CoTI, else the outer tunnel source.  To an MN: the destination of a packet with
        a type 2 routing header or of a CoT, and for a message tunnelled to it by the
        HA (HoT, BA, BE, BRR) the outer tunnel destination, not the HA."""
        if self.mh is not None:
            alt = self.mh.option(AlternateCareOfAddress)
            if alt is not None:
                return alt.address
        if self.hoa is not None:
            return self.src
        if self.msg == "CoTI":
            return self.src
        if self.rh2 is not None:  # (in a tunnel: not the HA's, ebutool.analysis.addressing)
            return self.dst
        if self.tunnel_src is not None and self.msg in TO_MN:
            return self.tunnel_dst
        if self.msg == "CoT":
            return self.dst
        return self.tunnel_src if self.tunnel_src else None


def classify_bu(bu: BindingUpdate, src: str, hoa: str | None) -> tuple[str, bool, bool]:
    """(msg label, deregistration, rfc4866) of a BU sent from ``src`` with HAO ``hoa``.

    DESIGN.md section 3: an EBU is a BU with H=0, lifetime > 0, care-of address !=
    home address and a Nonce Indices option whose care-of index is 0; a BU with
    lifetime 0 or care-of == home is a deregistration."""
    home = hoa or src
    alt, ni, coti = bu.first_options(AlternateCareOfAddress, NonceIndices, CareOfTestInitOption)
    rfc4866 = coti is not None
    coa = alt.address if alt is not None else src
    if bu.lifetime == 0 or coa == home:
        return "BU", True, rfc4866
    if not bu.flags & BU_FLAG_H and ni is not None and ni.careof_index == 0:
        return "EBU", False, rfc4866
    return "BU", False, rfc4866


@dataclass(slots=True)
class HandoverEvent:
    """A simulator's statement that an MN attached to a new link (JSON traces only).

    The message stream yields these alongside :class:`Record`; analysis takes the
    event's time as t0 of the handover instead of inferring it from packets."""

    ts_ns: int
    mn: str  # home address of the mobile node
    coa: str  # the new care-of address
    prev_coa: str | None = None
    frame: int = 0  # line number in the trace
    source: str = ""
    msg: str = "handover"

    @property
    def ts(self) -> float:
        return seconds(self.ts_ns)
