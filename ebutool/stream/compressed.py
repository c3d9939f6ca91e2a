"""Compressed inputs, told by content (magic number), decompressed as a stream.

gzip, bzip2 and xz through the standard library's incremental decompressors, zstd
through ``zstandard``.  :class:`DecompressingReader` is a raw stream: wrapped in an
``io.BufferedReader`` it gives ``peek``/``readinto1`` like a plain file, so the capture
walker's Window and the trace reader read it unchanged, and nothing is decompressed
to disk or whole into memory (one input chunk and its output at a time).

Damage (a truncated file, corrupt data) ends the stream where it is found: what was
decoded before it is kept, with one counted ``truncated_compressed_stream`` warning;
if nothing at all had been decoded, :class:`InputError` (exit 3).
"""

from __future__ import annotations

import bz2
import io
import lzma
import zlib
from typing import BinaryIO

from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import InputError

# First octets -> format name used in messages.
COMPRESSION_MAGICS = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)
MAGIC_NEED = 6  # octets that tell the formats apart
# Decoded octets the first read gathers (a capture's magic number, or a trace's first
# non-blank octet after a byte order mark): what the content is sniffed from.
HEAD_NEED = 8
# A zstd skippable frame (RFC 8878 3.1.2: magic 0x184D2A50..0x184D2A5F, little-endian,
# a 4-octet size, that many octets of user data) may stand before, between or after the
# frames; zstd and ``zstandard`` step over it, and so must the sniffing.
# xz stream padding (xz file format 1.0.4, 2.2): zero octets between and after streams,
# a multiple of four in all (xz itself calls other padding corrupt).
XZ_PADDING_UNIT = 4
ZSTD_SKIPPABLE_HIGH = b"\x2a\x4d\x18"  # the magic's octets 1..3
ZSTD_SKIPPABLE_NIBBLE = 0x50  # octet 0 is 0x50..0x5f
# Compressed octets read per step.  Small enough that zstd (whose decompressor takes
# no output limit) cannot turn one step into more than a bounded amount of output.
CHUNK = 64 << 10
# Decoded octets per decompressor call (input octets per call for zstd): what a
# damaged step loses, since a call that finds damage returns nothing.
STEP = 16 << 10


def compression_of(head: bytes) -> str | None:
    """ "gzip", "bzip2", "xz", "zstd" or None from an input's first octets."""
    for magic, kind in COMPRESSION_MAGICS:
        if head.startswith(magic):
            return kind
    if head[1:4] == ZSTD_SKIPPABLE_HIGH and head[0] & 0xF0 == ZSTD_SKIPPABLE_NIBBLE:
        return "zstd"
    return None


def _decompressor(kind: str):
    if kind == "gzip":
        return zlib.decompressobj(wbits=31)  # gzip header and trailer (CRC) checked
    if kind == "bzip2":
        return bz2.BZ2Decompressor()
    if kind == "xz":
        return lzma.LZMADecompressor()
    import zstandard

    return zstandard.ZstdDecompressor().decompressobj()


class DecompressingReader(io.RawIOBase):
    """The decompressed octets of ``source`` (a binary stream holding ``kind`` data).

    Concatenated members (``cat a.gz b.gz``) are read one after the other.  Damage is
    reported to ``diag`` (see the module doc); without ``diag`` it raises InputError."""

    def __init__(self, source: BinaryIO, kind: str, name: str, diag: Diagnostics | None):
        super().__init__()
        self.kind = kind
        self.name = name
        self.decoded = 0  # octets handed out so far
        self._src = source
        self._diag = diag
        self._d = _decompressor(kind)
        self._in = b""  # compressed octets not yet given to the decompressor (gzip, zstd)
        self._out = memoryview(b"")  # decoded octets not yet handed out (zstd)
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        want, got = len(b), 0
        # What one step gives, except at the start: the first HEAD_NEED octets are
        # gathered across members (a first member may hold two), since the content is
        # sniffed from one peek (ebutool.stream.sniff).
        need = min(want, max(1, HEAD_NEED - self.decoded))
        while not self._done and got < need:
            if not self._out:
                self._out = memoryview(self._step(want - got))
            if self._out:
                n = min(want - got, len(self._out))
                b[got : got + n] = self._out[:n]
                self._out = self._out[n:]
                self.decoded += n
                got += n
        return got

    def _step(self, want: int) -> bytes:
        """Some decoded octets (maybe none; ``_done`` set at the end)."""
        d = self._d
        if d.eof:
            return self._next_member()
        if self._needs_input():
            chunk = self._read_source()
            if not chunk:
                if not self._done:
                    self._damage("the file ends before the end of the compressed stream")
                return b""
            self._in += chunk
        try:
            if self.kind == "gzip":
                out = d.decompress(self._in, min(want, STEP))
                self._in = d.unconsumed_tail
            elif self.kind == "zstd":
                out = d.decompress(self._in[:STEP])
                self._in = self._in[STEP:]
            else:
                out = d.decompress(self._in, min(want, STEP))
                self._in = b""
        except Exception as exc:  # zlib.error, OSError, LZMAError, ZstdError, EOFError
            self._damage(f"corrupt compressed data ({exc})")
            return b""
        if d.eof:
            # what follows the member: zlib's unused_data already holds its unconsumed
            # tail; zstd's holds only what it was given of ``_in``
            self._in = d.unused_data + (self._in if self.kind == "zstd" else b"")
        return out

    def _needs_input(self) -> bool:
        if self.kind in ("bzip2", "xz"):
            return not self._in and bool(self._d.needs_input)
        return not self._in

    def _next_member(self) -> bytes:
        rest, padding = self._in, 0
        # Zero octets after a member are counted, not kept (they may be many): xz's
        # stream padding (a multiple of four, between or after streams), or a tape's
        # padding after the last member.  Then enough octets to tell the next member's
        # magic number: what the last member left over may end inside it (a read
        # boundary between 0x1f and 0x8b).
        while True:
            body = rest.lstrip(b"\0")
            padding += len(rest) - len(body)
            rest = body
            if len(rest) >= MAGIC_NEED:
                break
            more = self._read_source()
            if not more:
                break
            rest += more
        if self.kind == "xz" and padding % XZ_PADDING_UNIT:
            self._damage(f"stream padding of {padding} octets, not a multiple of {XZ_PADDING_UNIT}")
            return b""
        if not rest:
            self._done = True  # the end
            return b""
        if compression_of(rest) != self.kind or (padding and self.kind != "xz"):
            after = f" (after {padding} zero octets)" if padding else ""
            self._damage(f"data after the end of the compressed stream{after}, not read")
            return b""
        self._d = _decompressor(self.kind)
        self._in = rest
        return b""

    def _read_source(self) -> bytes:
        try:
            # read1: what one read of the source gives (a pipe fed by a live capture
            # is decompressed as it arrives), at most CHUNK
            read = getattr(self._src, "read1", None) or self._src.read
            return read(CHUNK) or b""
        except OSError as exc:
            self._damage(f"read failed ({exc.strerror or exc})")
            return b""

    def _damage(self, why: str) -> None:
        self._done = True
        if self.decoded == 0 and not self._out:
            raise InputError(
                f"{self.name}: {self.kind}-compressed, but {why}; nothing could be read"
            )
        message = f"{self.name}: {self.kind}-compressed stream damaged: {why}; input ends here"
        if self._diag is None:
            raise InputError(message)
        self._diag.warn("truncated_compressed_stream", message)


def decompressed(
    stream: BinaryIO, kind: str, name: str, diag: Diagnostics | None
) -> io.BufferedReader:
    """A buffered stream (with ``peek``) of the decompressed octets of ``stream``."""
    return io.BufferedReader(DecompressingReader(stream, kind, name, diag), 1 << 20)
