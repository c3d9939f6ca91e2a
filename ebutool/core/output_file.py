"""Where output goes: one file (or standard output), checked before the work starts and
written so that a failed run never leaves a cut-off or empty file behind.

The API (every command's outputs go through it; the formats only render bytes)::

    out = OutputFile("table.csv", "-o")   # checked now: before any work
    out.prepare()                         # a regular file: a temporary file beside it
    out.write(b"...")                     # or out.binary / out.text() for a stream
    out.commit()                          # renamed into place; out.discard() on failure

- **Regular files** (or a name that does not exist yet) are written to a temporary file
  ``.NAME.XXXX.part`` in the same directory and renamed over ``NAME`` by :meth:`commit`
  only; on any failure :meth:`discard` removes it and the old file is kept.  The new
  file gets the old file's permission bits, or for a new name ``0666`` less the umask;
  a file holding keys (``secret=True``) is always ``0600``.
- **Anything else** (a device such as ``/dev/null``, a FIFO, ``/dev/stdout``) is written
  in place and never replaced; it is opened at the first write, so a FIFO's reader is
  not waited for before the work.  A path that names one of the process's descriptors
  (``/dev/stdout``, ``/dev/fd/N``, ``/proc/self/fd/N``) is written through that
  descriptor, whatever it holds (a file a shell opened with ``>>`` is appended to, not
  replaced); a closed one (``>&-``) is an OutputError, one not open for writing a
  UsageError.  A **symbolic link** is followed: its target is what is written
  (atomically when the target is a regular file); the link stays.
- ``-`` is standard output.
- Every failure to write (disk full, EIO, a closed standard output) is an
  :class:`~ebutool.core.errors.OutputError`: one line, exit status 5.  A broken pipe
  (``| head``) is left to the caller as ``BrokenPipeError``.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import sys
from typing import BinaryIO, TextIO

from ebutool.core.errors import OutputError, UsageError
from ebutool.core.stdio import closed_stream, descriptor_of, writable_descriptor

SECRET_MODE = 0o600  # files that hold keys (ssh's rule for private keys)
NEW_FILE_MODE = 0o666  # other new files: this less the umask, as open(2) would make them


# The part file's open flags, as tempfile.mkstemp's (its name: 8 random hex digits)
_PART_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


def current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class OutputFile:
    """One output target (module doc).  ``option`` names it in messages (``-o``,
    ``--divergences``, ...)."""

    def __init__(self, path: str, option: str = "-o", *, secret: bool = False) -> None:
        self.path = path
        self.option = option
        self.secret = secret
        self._fh: BinaryIO | None = None
        self._tmp: str | None = None  # the temporary file of a regular target
        self._target = path  # the file renamed over (a symbolic link's target)
        self._mode = SECRET_MODE
        self._in_place = False
        self._fd: int | None = None  # a descriptor of the process the path names
        self._done = False
        self.check()

    # -- before the work ---------------------------------------------------------------
    def _where(self) -> str:
        return f"{self.option} {self.path}"

    def check(self) -> None:
        """A path that cannot be written is a usage error now, before any work."""
        if self.path == "-":
            if sys.stdout is None:
                raise OutputError("standard output is closed")
            return
        if not self.path:
            raise UsageError(f"{self.option}: empty file name")
        fd = descriptor_of(self.path)
        if fd is not None:
            self._check_descriptor(fd)
            return
        target = os.path.realpath(self.path)
        try:
            st = os.stat(target)
        except FileNotFoundError:
            st = None
        except OSError as exc:
            raise UsageError(f"cannot write {self._where()} ({exc.strerror})") from None
        if st is not None and stat.S_ISDIR(st.st_mode):
            raise UsageError(f"cannot write {self._where()}: is a directory; give a file name")
        if st is not None and not stat.S_ISREG(st.st_mode):
            self._in_place = True
            if not os.access(target, os.W_OK):
                raise UsageError(f"cannot write {self._where()} (permission denied)")
            return
        if st is not None and not os.access(target, os.W_OK):  # as open(2) would refuse
            raise UsageError(f"cannot write {self._where()} (permission denied)")
        directory = os.path.dirname(target) or "."
        if not os.path.isdir(directory):
            raise UsageError(f"cannot write {self._where()}: no such directory {directory}")
        if not os.access(directory, os.W_OK | os.X_OK):
            raise UsageError(
                f"cannot write {self._where()}: {directory} is not writable (permission denied)"
            )
        self._target = target
        if not self.secret:
            self._mode = (
                stat.S_IMODE(st.st_mode) if st is not None else NEW_FILE_MODE & ~current_umask()
            )

    def _check_descriptor(self, fd: int) -> None:
        """A path naming one of the process's descriptors (/dev/stdout, /dev/fd/N) is
        written through that descriptor, where it stands (appending after a shell's
        ``>>``), never by replacing the file it holds; a closed one is no output."""
        closed = closed_stream(self.path)
        if closed is not None:  # (its descriptor holds the null device now)
            raise OutputError(f"{self._where()}: {closed} is closed")
        if not writable_descriptor(fd):
            raise UsageError(
                f"cannot write {self._where()}: descriptor {fd} is not open for writing"
            )
        self._in_place, self._fd = True, fd

    def prepare(self) -> OutputFile:
        """Create the temporary file of a regular target now (also a check)."""
        if self._fh is None and self.path != "-" and not self._in_place:
            directory, name = os.path.split(self._target)
            try:
                fd = self._create_part(directory, name)
                os.fchmod(fd, self._mode)
            except OSError as exc:
                raise UsageError(f"cannot write {self._where()} ({exc.strerror})") from None
            self._fh = os.fdopen(fd, "wb")
        return self

    def _create_part(self, directory: str, name: str) -> int:
        """Create ``.NAME.XXXXXXXX.part`` beside the target (as tempfile.mkstemp would:
        O_EXCL, mode 0600), its name noted in ``_tmp`` *before* it exists: a signal's
        KeyboardInterrupt raised inside mkstemp, after it created the file and before it
        returned the name, left the part behind (discard did not know it)."""
        while True:
            self._tmp = os.path.join(directory, f".{name}.{os.urandom(4).hex()}.part")
            try:
                return os.open(self._tmp, _PART_FLAGS, 0o600)
            except FileExistsError:
                self._tmp = None  # (another's file: never ours to remove)
            except OSError:
                self._tmp = None
                raise

    # -- writing -------------------------------------------------------------------------
    @property
    def binary(self) -> BinaryIO:
        """A stream of octets over this output: its errors are OutputError too."""
        return _GuardedBinary(self)  # type: ignore[return-value]

    def _raw(self) -> BinaryIO:
        """The underlying stream (opened now if not yet)."""
        if self._fh is not None:
            return self._fh
        if self.path == "-":
            if sys.stdout is None:
                raise OutputError("standard output is closed")
            sys.stdout.flush()
            self._fh = _Unclosed(sys.stdout.buffer)  # type: ignore[assignment]
        elif self._fd is not None:
            if self._fd == 1 and sys.stdout is not None:
                sys.stdout.flush()  # (what the command printed before comes first)
            try:
                self._fh = os.fdopen(os.dup(self._fd), "wb")
            except OSError as exc:
                raise self._error(exc) from None
        elif self._in_place:
            try:
                self._fh = open(self.path, "wb")  # noqa: SIM115 - closed by commit/discard
            except OSError as exc:
                raise self._error(exc) from None
        else:
            self.prepare()
        assert self._fh is not None
        return self._fh

    def text(self) -> TextIO:
        """A UTF-8 text stream (``\\n`` line ends) over :attr:`binary`."""
        return _GuardedText(self)  # type: ignore[return-value]

    def write(self, data: bytes) -> None:
        try:
            self._raw().write(data)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise self._error(exc) from None

    # -- the end -------------------------------------------------------------------------
    def commit(self) -> None:
        """Flush, and put a regular target in place.  Idempotent."""
        if self._done:
            return
        try:
            fh = self._raw()  # an output never written is still created (an empty table)
            fh.flush()
            if self._tmp is not None:
                os.fsync(fh.fileno())
            fh.close()
            if self._tmp is not None:
                os.replace(self._tmp, self._target)
                self._tmp = None
        except BrokenPipeError:
            self.discard()
            raise
        except OSError as exc:
            self.discard()
            raise self._error(exc) from None
        self._done = True

    def discard(self) -> None:
        """Give up: a regular target keeps its old content.  Never raises an OSError.
        Done only once it is all done: a discard that a signal's exception interrupted
        (before the part was removed) does its work again when called again (the
        command's way out, ebutool.cli.options.guarded, and ebutool.cli.ending.stop)."""
        if self._done:
            return
        if self._fh is not None:
            try:
                self._fh.close()
            except OSError:
                pass
        if self._tmp is not None:
            try:
                os.unlink(self._tmp)
            except OSError:
                pass
            self._tmp = None
        self._done = True

    def _error(self, exc: OSError) -> OutputError:
        where = "standard output" if self.path == "-" else self._where()
        if exc.errno == errno.EPIPE:
            return OutputError(f"{where}: the reader went away")
        return OutputError(f"cannot write {where}: {exc.strerror or exc}")


class _Unclosed(io.BufferedIOBase):
    """Standard output as an output stream that commit may flush but never closes."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self._raw = raw

    def write(self, data) -> int:
        return self._raw.write(data)

    def flush(self) -> None:
        self._raw.flush()

    def close(self) -> None:
        self._raw.flush()

    def fileno(self) -> int:
        return self._raw.fileno()

    def writable(self) -> bool:
        return True


class _GuardedBinary(io.RawIOBase):
    """An octet stream over an OutputFile: its errors become OutputError (module doc)."""

    def __init__(self, out: OutputFile) -> None:
        super().__init__()
        self._out = out

    def write(self, b) -> int:
        data = bytes(b)
        self._out.write(data)
        return len(data)

    def writable(self) -> bool:
        return True


class _GuardedText(io.TextIOBase):
    """A text stream over an OutputFile: its errors become OutputError (module doc)."""

    def __init__(self, out: OutputFile) -> None:
        super().__init__()
        self._out = out

    def write(self, s: str) -> int:
        self._out.write(s.encode("utf-8"))
        return len(s)

    def flush(self) -> None:
        pass

    def writable(self) -> bool:
        return True


__all__ = ["OutputFile", "SECRET_MODE", "NEW_FILE_MODE", "current_umask"]
