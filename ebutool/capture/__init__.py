"""Capture reading: the only layer that touches input files.

``open_frames(source, diag)`` yields :class:`Frame` records from a pcap or pcapng
file (detected by magic bytes) or from standard input when ``source == "-"``.  One
walker per format serves the reference run (skip rule ``skip.NONE``: every frame) and
the fast run (``skip.MOBILITY``: only frames that can matter; the others counted).
"""

from __future__ import annotations

from ebutool.capture.frame import Frame
from ebutool.capture.linktypes import SUPPORTED_LINKTYPES, ip6_offset, ip6_offset_func
from ebutool.capture.skip import MOBILITY, NONE, SkipRule, must_decode
from ebutool.capture.source import open_frames

__all__ = [
    "Frame",
    "open_frames",
    "ip6_offset",
    "ip6_offset_func",
    "SUPPORTED_LINKTYPES",
    "SkipRule",
    "NONE",
    "MOBILITY",
    "must_decode",
]
