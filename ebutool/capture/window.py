"""Opening an input and reading it into the one buffer the format walkers index.

A :class:`Window` is one ``bytearray`` refilled in place (``readinto1`` where the file
has it): the walkers keep an index into ``buf`` and call :meth:`Window.fill` only when
the next record does not fit in what is left, about once per 4 MiB, so the per-record
loop never touches this module.  Nothing here seeks: standard input and pipes work
like files.
"""

from __future__ import annotations

import os
from typing import BinaryIO

from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import InputError
from ebutool.core.stdio import stdin_buffer

WINDOW = 4 << 20  # octets read per call; large reads keep the loop in C
PROGRESS_EVERY = 1 << 20  # octets between progress reports


class Window:
    """A readable byte stream, its display name and the buffer the walkers read."""

    __slots__ = (
        "name",
        "buf",
        "end",
        "eof",
        "base",
        "progress",
        "_next_report",
        "_file",
        "_owned",
        "_readinto",
        "_read",
        "_diag",
    )

    def __init__(self, file: BinaryIO, name: str, owned: bool, diag: Diagnostics):
        self.name = name
        self.buf = bytearray(WINDOW)
        self.end = 0  # valid octets in buf
        self.eof = False
        self.base = 0  # file offset of buf[0]
        # an object with update(frames=..., octets=...) (ebutool.core.progress), told
        # about once per MiB read (at a refill) and at close
        self.progress = None
        self._next_report = PROGRESS_EVERY
        self._file = file
        self._owned = owned
        self._diag = diag
        # readinto1/read1 return what one underlying read gives, so a pipe fed by a
        # live capture is processed as data arrives, not per full window.
        self._readinto = getattr(file, "readinto1", None) or getattr(file, "readinto", None)
        self._read = getattr(file, "read1", None) or file.read

    def fill(self, pos: int, end: int, need: int, frames: int = 0) -> int:
        """Move ``buf[pos:end]`` to the front and read until ``need`` octets are there or
        the input ends; returns the number of valid octets (the new ``end``).  ``frames``:
        the walker's frame count, for the progress report."""
        self.base += pos
        if self.progress is not None and self.base >= self._next_report:
            self._next_report = self.base + PROGRESS_EVERY
            self.progress.update(frames=frames, octets=self.base)
        buf = self.buf
        have = end - pos
        if pos:
            buf[:have] = buf[pos:end]
        if have < need and not self.eof:
            if need > len(buf):
                buf.extend(bytes(need - len(buf) + WINDOW))
            while have < need:
                got = self._read_into(have)
                if not got:
                    self.eof = True
                    break
                have += got
        self.end = have
        return have

    def _read_into(self, at: int) -> int:
        buf = self.buf
        try:
            if self._readinto is not None:
                with memoryview(buf) as mv, mv[at:] as part:
                    return self._readinto(part) or 0
            chunk = self._read(len(buf) - at)
        except OSError as exc:
            self._diag.warn(
                "read_error",
                f"{self.name}: read failed ({exc.strerror or exc}); capture ends here",
            )
            return 0
        if chunk and not isinstance(chunk, (bytes, bytearray)):
            raise InputError(f"{self.name}: input stream is not binary (opened in text mode?)")
        buf[at : at + len(chunk)] = chunk
        return len(chunk)

    def close(self, frames: int = 0, pos: int = 0) -> None:
        """Close the input (if opened here); ``frames`` read up to ``buf[pos]`` for the
        last progress report."""
        if self.progress is not None:
            self.progress.update(frames=frames, octets=self.base + pos)
        if self._owned:
            self._file.close()


def open_window(source: str | os.PathLike | BinaryIO, diag: Diagnostics) -> Window:
    """A :class:`Window` on a path, ``"-"`` (standard input) or a binary file object."""
    if isinstance(source, str) and source == "-":
        return Window(stdin_buffer(), "<stdin>", False, diag)
    if isinstance(source, (str, bytes, os.PathLike)):
        name = os.fsdecode(source)
        try:
            f = open(source, "rb")  # noqa: SIM115 - closed by Window.close
        except OSError as exc:
            raise InputError(f"{name}: cannot open ({exc.strerror or exc})") from None
        return Window(f, name, True, diag)
    label = getattr(source, "name", None)
    return Window(source, label if isinstance(label, str) else "<stream>", False, diag)
