"""Opening an input: a path or "-" (stdin), told apart by content, never by name."""

from __future__ import annotations

import io
import os
import stat
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from ebutool.capture.magic import CAPTURE_MAGICS
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import InputError
from ebutool.core.keyfile import shown_path
from ebutool.core.names import readable_name
from ebutool.core.stdio import closed_stream, stdin_buffer
from ebutool.stream.compressed import HEAD_NEED, compression_of, decompressed
from ebutool.trace.lines import UTF8_BOM

if TYPE_CHECKING:
    from ebutool.stream.content_hash import ContentHash

FIRST_FRAME_READ = 64 << 10  # octets read at a time when only the first frame is wanted


def open_input(
    source: str | os.PathLike,
    diag: Diagnostics | None = None,
    content: ContentHash | None = None,
    buffering: int = -1,
) -> tuple[str, BinaryIO, str]:
    """(kind, binary stream, display name); kind is "capture" or "jsonl".  ``content``:
    the file is opened by it, which hashes its octets as they are read
    (ebutool.stream.content_hash; not standard input).  ``buffering``: as ``open``'s
    (-1: the file system's block size, 1 MiB on some network file systems).

    The stream is buffered so the sniffed octets are not consumed (stdin works).  A
    gzip, bzip2, xz or zstd input (by its magic number) is decompressed as it is read
    and its content sniffed the same way (ebutool.stream.compressed); damage found
    while reading it is a ``truncated_compressed_stream`` warning in ``diag``."""
    path = "-" if str(source) == "-" else os.fspath(source)
    name = readable_name(path)  # what messages call it (a name not UTF-8: escaped)
    if path == "-":
        raw = stdin_buffer()
    else:
        try:
            if content is not None:
                raw = io.BufferedReader(content.open(path), 1 << 20)
            else:
                raw = open(path, "rb", buffering=buffering)  # noqa: SIM115 - closed by the caller
        except FileNotFoundError:
            raise InputError(f"{shown_path(name)}: no such file") from None
        except IsADirectoryError:
            raise InputError(f"{name}: is a directory, not a capture or trace") from None
        except OSError as exc:
            raise InputError(f"{name}: cannot open ({exc.strerror})") from None
    stream = raw if hasattr(raw, "peek") else io.BufferedReader(raw, 1 << 20)  # type: ignore[type-var]
    try:
        head = stream.peek(HEAD_NEED)[:HEAD_NEED]
    except OSError as exc:  # opened, but its first octets cannot be read (EIO, EISDIR)
        stream.close()
        raise InputError(f"{name}: cannot read ({exc.strerror or exc})") from None
    if not head:
        closed = closed_stream(path)  # /dev/stdin of a closed standard input: the null device
        if closed is not None:
            raise InputError(f"{name}: {closed} is closed, nothing to read")
        raise InputError(f"{name}: empty file (0 bytes), not a capture or trace")
    packing = compression_of(head)
    if packing is not None:
        return _open_compressed(stream, packing, name, diag)
    # Let the capture reader produce its precise "not a capture" diagnosis.
    return _content_kind(head) or "capture", stream, name


def _content_kind(head: bytes) -> str | None:
    """ "capture", "jsonl" or None from the first (decompressed) octets: the same rule
    for a plain and a compressed input.  A trace may begin with blank lines, so four
    octets of white space are a trace's beginning too, and with a UTF-8 byte order mark
    (which no capture does: the trace reader ignores it, RFC 8259 8.1)."""
    if head[:3] == UTF8_BOM:
        return "jsonl"
    head = head[:4]
    if head in CAPTURE_MAGICS:
        return "capture"
    stripped = head.lstrip()
    if stripped[:1] == b"{" or (not stripped and head.isspace()):
        return "jsonl"
    return None


def _open_compressed(
    raw: BinaryIO, packing: str, name: str, diag: Diagnostics | None
) -> tuple[str, BinaryIO, str]:
    stream = decompressed(raw, packing, name, diag)
    try:
        head = stream.peek(HEAD_NEED)[:HEAD_NEED]
    except OSError as exc:  # opened, but its first octets cannot be read (EIO, EISDIR)
        stream.close()
        raise InputError(f"{name}: cannot read ({exc.strerror or exc})") from None
    if not head:
        raise InputError(f"{name}: {packing}-compressed, but empty inside")
    kind = _content_kind(head)
    if kind is not None:
        return kind, stream, name
    raise InputError(f"{name}: {packing}-compressed, but not a capture or trace")


def read_once(source: str | os.PathLike) -> bool:
    """``source`` can be read only once: standard input ("-"), or a path that is neither a
    regular file nor a directory (a named pipe, a device such as /dev/stdin, a process
    substitution).  A second reading of it would block for a writer that is gone or
    read what the first left: the readings that glance at an input before the run
    (vantage, link type, hash) skip it, and a command that must read its input twice
    spools it to a temporary file first (annotate) or does without (report's ladders)."""
    name = os.fspath(source)
    if name == "-":
        return True
    try:
        mode = os.stat(name).st_mode
    except (OSError, ValueError):
        return False  # (its reading says why)
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def input_digest(source: str | os.PathLike) -> dict[str, object]:
    """``{"name", "size_bytes", "sha256"}`` of one input file as it is on disk (a
    compressed input: its compressed octets), hashed in pieces
    (:func:`ebutool.stream.content_hash.file_sha256`).  Standard input ("-") is read
    once, by the analysis, so it cannot be hashed: its size and hash are None with a
    ``reason``; so are a file's that cannot be read."""
    from ebutool.stream.content_hash import file_sha256

    path = "-" if str(source) == "-" else os.fspath(source)
    name = readable_name(path)  # (a name not UTF-8: escaped, so JSON can hold it)
    if path == "-":
        return _unhashed(name, "standard input: read once by the run, not hashed")
    if read_once(path):
        return _unhashed(name, "not a regular file (a pipe): read once by the run, not hashed")
    if os.path.isdir(path):  # a record store: each part records its input's hash
        return _unhashed(name, "a directory (a record store's parts carry their inputs' SHA-256)")
    try:
        digest, size = file_sha256(path)
    except OSError as exc:
        return _unhashed(name, f"cannot be read: {exc.strerror or exc}")
    return {"name": name, "size_bytes": size, "sha256": digest}


def _unhashed(name: str, reason: str) -> dict[str, object]:
    return {"name": name, "size_bytes": None, "sha256": None, "reason": reason}


def linktype_of(path: str) -> object:
    """The link type of a capture's first frame ("jsonl" for a trace), None unknown
    (standard input, an unreadable file, a capture without frames): what tells the
    pieces of one rotated capture (ebutool.analysis.footprint) apart."""
    from ebutool.capture.source import open_frames

    if read_once(path):
        return None
    try:
        # (a buffer of FIRST_FRAME_READ: the sniffing's peek fills the whole buffer)
        kind, stream, _ = open_input(path, Diagnostics(), buffering=FIRST_FRAME_READ)
    except (InputError, OSError):
        return None
    try:
        if kind == "jsonl":
            return "jsonl"
        # (read in small pieces: the first frame, not a reader's 4 MiB window)
        frame = next(iter(open_frames(cast(BinaryIO, _Small(stream)), Diagnostics())), None)
    except (InputError, OSError):
        return None
    finally:
        stream.close()
    return frame.linktype if frame is not None else None


class _Small(io.RawIOBase):
    """``stream`` read at most FIRST_FRAME_READ octets at a time (the capture reader's
    window asks for 4 MiB; it reads again until its record is whole)."""

    def __init__(self, stream: BinaryIO):
        super().__init__()
        self._stream: Any = stream  # (a buffered stream: readinto1, or readinto)

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        with memoryview(b) as view, view[:FIRST_FRAME_READ] as part:
            read = getattr(self._stream, "readinto1", None) or self._stream.readinto
            return read(part) or 0
