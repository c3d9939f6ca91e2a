"""Capture reading: the only layer that touches input files.

``open_frames(source, diag)`` yields :class:`Frame` records from a pcap or pcapng
file (detected by magic bytes) or from standard input when ``source == "-"``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Frame:
    frame: int  # 1-based frame number, as Wireshark counts
    ts_ns: int  # capture timestamp, integer nanoseconds since the epoch
    linktype: int  # LINKTYPE_* value of the interface the frame came from
    data: bytes  # captured bytes (may be shorter than wirelen)
    wirelen: int  # original length on the wire, octets


# Imported after Frame is defined: the reader modules import Frame from this package.
from ebutool.capture.linktypes import SUPPORTED_LINKTYPES, ip6_offset, ip6_offset_func  # noqa: E402
from ebutool.capture.source import open_frames  # noqa: E402

__all__ = ["Frame", "open_frames", "ip6_offset", "ip6_offset_func", "SUPPORTED_LINKTYPES"]
