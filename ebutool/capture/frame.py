"""One captured frame, as every capture reader yields it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Frame:
    frame: int  # 1-based frame number, as Wireshark counts
    ts_ns: int  # capture timestamp, integer nanoseconds since the epoch
    linktype: int  # LINKTYPE_* value of the interface the frame came from
    data: bytes  # captured bytes (may be shorter than wirelen)
    wirelen: int  # original length on the wire, octets
