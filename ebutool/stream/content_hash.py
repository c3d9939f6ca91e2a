"""The SHA-256 of an input file taken while the reader reads it, so that ``extract``
reads each input once instead of twice (docs/performance.md, "content hash").

Each part of a record store records its input's content hash.  A second pass for it read
every file again (2.0x the file's octets through ``read``, 1.04x now; the page cache
usually holds the file between the passes, so the CPU saved is only that copy's, within
this VM's noise, but a file larger than the free memory came twice from the disk):

    content = ContentHash()
    with content:
        for item in read_records(path, diag, content=content): ...
        digest = content.hexdigest()  # == sha256 of the whole file

The file is opened here and every octet read from it (before any decompression) goes
through the hash once, in file order: nothing between the reader and the file seeks
(ebutool.capture.window).  :meth:`ContentHash.hexdigest` first reads the octets the
reader left (it stops at a cut record, or at a damaged compressed stream), so the hash
is always the whole file's, the same as :func:`ebutool.store.writer.file_hash`.
"""

from __future__ import annotations

import hashlib
import io
import os

HASH_CHUNK = 1 << 20  # octets read at a time when hashing what no reader reads (memory flat)


class _Tapped(io.RawIOBase):
    """A raw file whose octets, as they are read, also go to ``update``.  Closing it (the
    buffered stream over it does, when the reader is done) leaves the file open for
    :meth:`ContentHash.hexdigest`, which reads what is left; ContentHash closes it."""

    def __init__(self, raw: io.FileIO, update):
        super().__init__()
        self._raw = raw
        self._update = update

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        n = self._raw.readinto(b)
        if n:
            with memoryview(b) as view, view[:n] as got:
                self._update(got)
        return n or 0


class ContentHash:
    """The SHA-256 of one input file, fed by the reader (module doc); with no reader,
    :meth:`hexdigest` reads the whole file (:func:`file_sha256`)."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._file: io.FileIO | None = None
        self.octets = 0  # hashed so far (the file's size, once hexdigest has read the rest)

    def _update(self, data: memoryview) -> None:
        self._hash.update(data)
        self.octets += len(data)

    def open(self, name: str | os.PathLike) -> io.RawIOBase:
        """The file ``name`` opened for the reader (raises as ``open`` does)."""
        if self._file is not None:
            raise ValueError("ContentHash: one file per hash")
        self._file = io.FileIO(name, "rb")
        return _Tapped(self._file, self._update)

    def hexdigest(self) -> str:
        """The whole file's SHA-256 (what the reader did not read is read here)."""
        if self._file is None:
            raise ValueError("ContentHash: no file was opened")
        buf = bytearray(HASH_CHUNK)
        with memoryview(buf) as view:
            while n := self._file.readinto(buf):
                self._update(view[:n])
        return self._hash.hexdigest()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()

    def __enter__(self) -> ContentHash:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def file_sha256(path: str | os.PathLike) -> tuple[str, int]:
    """(hex SHA-256, octets) of the file's content, read in :data:`HASH_CHUNK` pieces
    (raises OSError as ``open`` and ``read`` do)."""
    with ContentHash() as content:
        content.open(path)
        return content.hexdigest(), content.octets
