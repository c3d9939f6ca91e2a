"""The standard streams when the caller closed them (``<&-``, ``>&-``, ``2>&-``): Python
then sets ``sys.stdin`` / ``sys.stdout`` / ``sys.stderr`` to None.  Reading ``-`` from a
closed standard input is an unreadable input (exit 3), writing data to a closed standard
output an output that cannot be written (exit 5); a closed standard error only loses the
messages (README "Exit status")."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from ebutool.core.errors import InputError, OutputError

# the standard descriptors and how a closed one is reopened on the null device
_STANDARD_FDS = ((0, os.O_RDONLY), (1, os.O_WRONLY), (2, os.O_WRONLY))
_STREAM_NAMES = {0: "standard input", 1: "standard output", 2: "standard error"}
# The standard descriptors the caller had closed (now on the null device): a path that
# reaches one (/dev/stdout, /dev/fd/1, /proc/self/fd/1) names the closed stream, not
# the null device it now holds.
_CLOSED: set[int] = set()
# Directories whose entries are the process's descriptors (Linux), as given and resolved
_FD_DIRS = ("/proc/self/fd", "/dev/fd", "/proc/thread-self/fd")
MAX_SYMLINKS = 40  # links followed to find where a path leads (Linux's own limit)


def occupy_closed_fds() -> None:
    """Put the null device on each closed standard descriptor (0, 1, 2), so the next file
    opened cannot take its number (an output file on descriptor 2 would receive every
    library's and child process's messages), and give a closed ``sys.stderr`` a stream
    on it: messages are dropped, the run goes on.  ``sys.stdin`` / ``sys.stdout`` stay
    None: :func:`stdin_buffer` and :func:`stdout_buffer` say they are closed."""
    for fd, mode in _STANDARD_FDS:
        try:
            os.fstat(fd)
        except OSError:
            try:
                null = os.open(os.devnull, mode)
            except OSError:
                continue
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
            _CLOSED.add(fd)
    if sys.stderr is None or not _writable(sys.stderr):
        try:
            # the process's stderr (the null device now); or, when descriptor 2 is a file
            # opened for reading (a launcher script that ran with 2>&- left itself
            # there), a null device of its own
            fd = 2 if sys.stderr is None else os.open(os.devnull, os.O_WRONLY)
            sys.stderr = open(fd, "w", closefd=fd != 2)  # noqa: SIM115 - lives with the process
        except OSError:
            pass


def descriptor_of(path: str) -> int | None:
    """The number of the process's own descriptor that ``path`` names through its
    descriptor directory (/dev/stdout, /dev/fd/1, /proc/self/fd/1, or a symbolic link to
    one of them), else None.  Such a path is the open descriptor, not the file it holds
    (a shell's ``>> log``, a pipe, a launcher's script): written through the descriptor,
    never replaced."""
    if not path or path == "-":
        return None
    fd_dirs = {os.path.realpath(d) for d in _FD_DIRS} | {f"/proc/{os.getpid()}/fd"}
    where = os.path.abspath(path)
    for _ in range(MAX_SYMLINKS):
        parent, name = os.path.split(where)
        parent = os.path.realpath(parent)
        if parent in fd_dirs:
            return int(name) if name.isdigit() else None
        try:
            link = os.readlink(os.path.join(parent, name))
        except OSError:  # not a symbolic link (or not there): no descriptor reached
            return None
        where = os.path.normpath(os.path.join(parent, link))
    return None


def closed_stream(path: str) -> str | None:
    """The name of the standard stream ("standard output", ...) that ``path`` names
    (:func:`descriptor_of`) when the caller had closed it; else None.  Such a path now
    leads to the null device (:func:`occupy_closed_fds`): written, the data would be
    lost silently; read, it would look like an empty file."""
    if not _CLOSED:
        return None
    fd = descriptor_of(path)
    return _STREAM_NAMES[fd] if fd in _CLOSED else None


def writable_descriptor(fd: int) -> bool:
    """Descriptor ``fd`` is open for writing."""
    import fcntl

    try:
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    except OSError:
        return False
    return flags & os.O_ACCMODE != os.O_RDONLY


def _writable(stream: object) -> bool:
    """``stream``'s descriptor was opened for writing (unknown: assumed so)."""
    import fcntl

    try:
        flags = fcntl.fcntl(stream.fileno(), fcntl.F_GETFL)  # type: ignore[attr-defined]
    except (OSError, ValueError, AttributeError):
        return True
    return flags & os.O_ACCMODE != os.O_RDONLY


def stdin_buffer() -> BinaryIO:
    """Standard input's octets; InputError (exit 3) when the caller closed it."""
    if sys.stdin is None:
        raise InputError("-: standard input is closed, nothing to read")
    return sys.stdin.buffer


def stdout_buffer() -> BinaryIO:
    """Standard output's octet stream; OutputError (exit 5) when the caller closed it."""
    if sys.stdout is None:
        raise OutputError("standard output is closed")
    return sys.stdout.buffer


def stdout_is_terminal() -> bool:
    """Standard output is a terminal (False when it is closed)."""
    return sys.stdout is not None and sys.stdout.isatty()


class HeldStdout(io.StringIO):
    """``sys.stdout`` while the command line is parsed with standard output closed
    (ebutool.cli.app): what click prints there outside a command's body (``--help``,
    ``--version``, completion) is kept, to be refused as a closed standard output (exit
    5) instead of being dropped with status 0.  A command's body sees None again
    (:func:`command_stdout`)."""


@contextmanager
def command_stdout() -> Iterator[None]:
    """A command's body: ``sys.stdout`` None again when it is a :class:`HeldStdout`
    (the caller closed it), so the body's outputs say so themselves."""
    held = sys.stdout
    if not isinstance(held, HeldStdout):
        yield
        return
    sys.stdout = None
    try:
        yield
    finally:
        sys.stdout = held
