"""Opening a capture: the format is told by its magic number, never by the file name."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import BinaryIO

from ebutool.capture.frame import Frame
from ebutool.capture.magic import HEADER_NEED, capture_format
from ebutool.capture.pcap import read_pcap
from ebutool.capture.pcapng import read_pcapng
from ebutool.capture.skip import NONE, Counts, SkipRule
from ebutool.capture.window import open_window
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import InputError


def open_frames(
    source: str | os.PathLike | BinaryIO,
    diag: Diagnostics,
    skip: SkipRule = NONE,
    stats: Counts | None = None,
    progress=None,
) -> Iterator[Frame]:
    """Yield :class:`~ebutool.capture.Frame` records of a pcap or pcapng input.

    The global/section header is read and checked *now*, so a file that is no
    capture at all raises :class:`InputError` before the first frame is asked
    for; per-record problems later become diagnoses in ``diag``.

    ``skip``: the skip rule (:mod:`ebutool.capture.skip`); with the default
    :data:`~ebutool.capture.skip.NONE` every frame is yielded, with
    :data:`~ebutool.capture.skip.MOBILITY` only the frames that can matter, the others
    being counted in ``stats`` (frames, ipv6, skipped by reason) just before the next
    yield and at the end.  ``progress``: an object with ``update(frames=..., octets=...)``
    (see ebutool.core.progress), called about once per MiB read.
    """
    win = open_window(source, diag)
    win.progress = progress
    try:
        end = win.fill(0, 0, HEADER_NEED)
        head = bytes(win.buf[: min(end, 4)])
        if not end:
            raise InputError(f"{win.name}: empty file (0 bytes), not a pcap or pcapng capture")
        kind = capture_format(head)
        if kind == "pcap":
            return read_pcap(win, diag, skip, stats)
        if kind == "pcapng":
            return read_pcapng(win, diag, skip, stats)
        raise InputError(f"{win.name}: not a pcap or pcapng capture (first bytes 0x{head.hex()})")
    except BaseException:
        win.close()
        raise
