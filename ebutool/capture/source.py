"""Opening an input and feeding its bytes to the format readers in large blocks.

The readers keep one ``bytes`` buffer and an index into it; they call
:meth:`Source.fill` only when the next record does not fit in what is left,
i.e. about once per MiB, so the per-record loop never touches this module.
Nothing here seeks: standard input and pipes work like files.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import BinaryIO

from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import InputError

CHUNK = 1 << 20  # bytes asked for per read; large reads keep the loop in C

PCAP_MAGICS = {  # first 4 octets -> (byte order, nanosecond timestamps)
    b"\xd4\xc3\xb2\xa1": ("<", False),
    b"\xa1\xb2\xc3\xd4": (">", False),
    b"\x4d\x3c\xb2\xa1": ("<", True),
    b"\xa1\xb2\x3c\x4d": (">", True),
}
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"  # Section Header Block type, a palindrome
HEADER_NEED = 28  # octets needed to tell the formats apart and
# read a pcap global header (24) / minimal SHB (28)


class Source:
    """A readable byte stream, its display name and an end-of-input flag."""

    __slots__ = ("name", "_read", "_file", "_owned", "eof", "_diag")

    def __init__(self, file: BinaryIO, name: str, owned: bool, diag: Diagnostics):
        self.name = name
        self._file = file
        self._owned = owned
        self._diag = diag
        # read1 returns what one underlying read gives (at most CHUNK), so a pipe
        # fed by a live capture is processed as data arrives, not per full MiB.
        self._read = getattr(file, "read1", None) or file.read
        self.eof = False

    def fill(self, buf: bytes, pos: int, need: int) -> bytes:
        """Return ``buf[pos:]`` extended to at least ``need`` octets, or to the
        end of the input if it is shorter (check the length of the result)."""
        have = len(buf) - pos
        if have >= need or self.eof:
            return buf[pos:]
        parts = [buf[pos:]]  # joined once: no quadratic concatenation
        while have < need:
            try:
                chunk = self._read(max(CHUNK, need - have))
            except OSError as exc:
                self._diag.warn(
                    "read_error",
                    f"{self.name}: read failed ({exc.strerror or exc}); capture ends here",
                )
                chunk = b""
            if not chunk:
                self.eof = True
                break
            if not isinstance(chunk, (bytes, bytearray)):
                raise InputError(f"{self.name}: input stream is not binary (opened in text mode?)")
            parts.append(chunk)
            have += len(chunk)
        return b"".join(parts) if len(parts) > 1 else parts[0]

    def close(self) -> None:
        if self._owned:
            self._file.close()


def open_source(source: str | os.PathLike | BinaryIO, diag: Diagnostics) -> Source:
    if isinstance(source, str) and source == "-":
        return Source(sys.stdin.buffer, "<stdin>", False, diag)
    if isinstance(source, (str, bytes, os.PathLike)):
        name = os.fsdecode(source)
        try:
            f = open(source, "rb")
        except OSError as exc:
            raise InputError(f"{name}: cannot open ({exc.strerror or exc})") from None
        return Source(f, name, True, diag)
    name = getattr(source, "name", None)
    return Source(source, name if isinstance(name, str) else "<stream>", False, diag)


def open_frames(source: str | os.PathLike | BinaryIO, diag: Diagnostics) -> Iterator:
    """Yield :class:`~ebutool.capture.Frame` records of a pcap or pcapng input.

    The global/section header is read and checked *now*, so a file that is no
    capture at all raises :class:`InputError` before the first frame is asked
    for; per-record problems later become diagnoses in ``diag``.
    """
    from ebutool.capture import pcap, pcapng  # late: they import Frame from the package

    src = open_source(source, diag)
    try:
        buf = src.fill(b"", 0, HEADER_NEED)
        head = buf[:4]
        if not buf:
            raise InputError(f"{src.name}: empty file (0 bytes), not a pcap or pcapng capture")
        if head in PCAP_MAGICS or (len(buf) < 4 and any(m.startswith(buf) for m in PCAP_MAGICS)):
            return pcap.read_pcap(src, buf, diag)
        if head == PCAPNG_MAGIC or (len(buf) < 4 and PCAPNG_MAGIC.startswith(buf)):
            return pcapng.read_pcapng(src, buf, diag)
        raise InputError(f"{src.name}: not a pcap or pcapng capture (first bytes 0x{head.hex()})")
    except BaseException:
        src.close()
        raise
